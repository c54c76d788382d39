"""The ground floor every xlkit package stands on; nothing here knows about Wikidata, Wikipedia or
training in particular.

* ``errors``: the one base error (:class:`~xlkit_core.errors.XlkitError`), ``ConfigError`` and the
  input, corruption, threshold and output errors; tagged messages that cross Spark's traceback.
* ``fsio``, ``codecs``, ``bz2split``: local and remote files, codec sniffing, raw chunks of a byte
  range, parallel bzip2 blocks.
* ``parts``, ``output``, ``manifest``, ``step``: Parquet part writers, the published reject
  table, atomic output (write beside, rename on success), manifests and the reject threshold,
  and the shape of one per-split step.
* ``shards``, ``tokenizer``: the training-shard contract (schemas, writer, manifests, reader)
  and the tokenizer at run time.
* ``langs``, ``words``, ``mdtable``: language codes, the definition of a word, markdown tables.
* ``environment``, ``doctor``: the installation checks and the bug-report printer.
"""

__version__ = "0.1.0"
