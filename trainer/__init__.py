"""The encoder, its pre-training objectives and the training loop (issues 5 and 6; not written yet)."""
