"""Language names shared by the trainer and the evaluations."""

# Row 0 of the language embedding and first entry of xlkit_langs.json: no language, which a language the
# model never trained on gets (trainer/model.py).
NO_LANGUAGE = "<none>"
