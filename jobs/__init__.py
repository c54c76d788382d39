"""spark-submit entry points and the end-to-end report, the top floor: only this package touches Spark.

``build_kg``, ``build_corpus``, ``build_parallel``, ``build_monolingual``, ``train_tokenizer`` and
``build_shards`` are each a ``main`` (options, environment check, atomic output) around a
``build`` that composes named steps; ``_text_job`` is the driver the two text jobs share,
``_spark`` the session, progress bars and task runner, ``stage`` the cost of one stage, and
``report/`` the report.
"""
