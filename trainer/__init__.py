"""The encoder, its pre-training objectives, the training loop and the evaluations.

* :mod:`trainer.train` (``python -m trainer.train``): the loop; :mod:`trainer.config` its
  configuration (presets, recipes, ``key=value`` overrides); :mod:`trainer.dist` data parallelism;
  :mod:`trainer.checkpoint` pickle-free checkpoints.
* :mod:`trainer.model`: the XLM-R encoder with a language embedding and the objectives' heads.
* :mod:`trainer.objectives`: MMLM, TLM, CAMLM, BTMLM (Ernie-M), MEP, OE (XLM-K) and MMKD, one file
  each; :mod:`trainer.data` reads their shards; :mod:`trainer.token_noise` is MMLM's masking of
  input tokens and :mod:`trainer.attention_masks` the pair layouts and 4-D attention masks;
  :mod:`trainer.teacher` is MMKD's frozen English teacher.
* Tools around a run: :mod:`trainer.export` (a plain ``transformers`` directory),
  :mod:`trainer.plot` (loss curves), :mod:`trainer.backtranslate` (BTMLM's stage 1 offline),
  :mod:`trainer.e5init` and :mod:`trainer.trim` (an initialisation from multilingual-e5-small, its
  vocabulary trimmed to a corpus).
* :mod:`trainer.evaluate` (``python -m trainer.evaluate``): the evaluation suite.
"""
