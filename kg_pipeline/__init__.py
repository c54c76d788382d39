"""Wikidata JSON dump -> Parquet knowledge-graph tables (entities, sitelinks, triples, properties).

The logic lives here and runs without Spark; ``jobs/build_kg.py`` is the thin Spark entry point.
"""

__version__ = "0.1.0"
