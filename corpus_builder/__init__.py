"""Wikipedia dumps, parallel corpora and monolingual text -> the corpus tables, the tokenizer and the
training shards' rows. Nothing here starts Spark; the jobs in ``jobs/`` run these functions as tasks.

* Wikipedia: ``xmldump`` (splits, pages), ``wikitext`` (plain text and links), ``titles``
  (namespaces, normalised titles), ``sentences`` (the splitter), ``records`` (Page, Sentence,
  Mention), ``extract`` (one split's task), ``tables`` (schemas), ``report``.
* Text: ``textio`` (line reading, decoding, cleaning), ``staging`` (stage -> deduplicate ->
  publish), ``parallel_inputs`` + ``parallel`` (parallel corpora), ``monolingual``, ``align``
  (IBM1 + HMM word aligner).
* Tokenizer and shards: ``corpus_text`` (the text tables, XLM-R sampling), ``tokenizer``
  (sentencepiece training), ``shards`` (corpus rows -> shard rows; the shard contract itself is
  :mod:`xlkit_core.shards`).
"""
