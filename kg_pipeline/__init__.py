"""Wikidata JSON dump -> Parquet knowledge-graph tables (entities, sitelinks, triples, properties).

The logic lives here and runs without Spark; ``jobs/build_kg.py`` is the thin Spark entry point.
What every package shares (errors, files and codecs, part writers, language codes) is in
:mod:`xlkit_core`.
"""
