"""Evaluations of trained encoders: :mod:`trainer.evaluate.tatoeba` (XTREME-protocol sentence retrieval)."""
