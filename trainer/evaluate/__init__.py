"""Evaluations of trained encoders (and of baselines, through the same code), run together by
``python -m trainer.evaluate`` (:mod:`trainer.evaluate.__main__`):

* :mod:`trainer.evaluate.tatoeba`: Tatoeba sentence retrieval, the XTREME protocol;
* :mod:`trainer.evaluate.ner`: cross-lingual NER transfer (WikiANN, CoNLL-2002), entity-level F1;
* :mod:`trainer.evaluate.probe`: factual-knowledge probing of the MLM head (X-FACTR, or our KG);
* :mod:`trainer.evaluate.compare`: two or more results side by side;
* :mod:`trainer.evaluate.common`: opening a model directory and its language ids.
"""
