"""One rule for the language id a language gets (xlkit_core.langs.lang_index), and its four callers:
the trained model (trainer.model.Encoder.lang_id), the evaluations' ModelDir.lang_id (Tatoeba) and
ModelDir.lang_id_or_none (NER, probing), on a language list with the no-language row 0 and on one
written before that row was reserved."""

from __future__ import annotations

import pytest

from trainer.evaluate.common import EvalError, ModelDir
from xlkit_core.langs import NO_LANGUAGE, UnknownLanguage, lang_index

NEW = [NO_LANGUAGE, "de", "en", "zh"]
OLD = ["de", "en", "zh"]            # an export written before row 0 was reserved


def test_known_languages_get_their_index_under_every_rule():
    for unknown in ("none", "row0", "error"):
        assert [lang_index(NEW, x, unknown=unknown) for x in ("de", "en", "zh")] == [1, 2, 3]
        assert [lang_index(OLD, x, unknown=unknown) for x in ("de", "en", "zh")] == [0, 1, 2]


def test_unknown_languages_by_rule():
    assert lang_index(NEW, "sw", unknown="none") is None      # zero-shot: the no-language row 0
    assert lang_index(NEW, "sw", unknown="row0") is None
    assert lang_index(OLD, "sw", unknown="row0") is None      # row 0, here the first language's
    with pytest.raises(UnknownLanguage, match="the model's languages: de, en, zh"):
        lang_index(OLD, "sw", unknown="none")                 # no no-language row to stand in
    for langs in (NEW, OLD):
        with pytest.raises(UnknownLanguage, match="'sw'"):
            lang_index(langs, "sw", unknown="error")
    with pytest.raises(ValueError, match="unknown='zero'"):
        lang_index(NEW, "de", unknown="zero")


def test_the_trained_model_gives_an_unknown_language_row_0():
    from transformers import XLMRobertaConfig, XLMRobertaForMaskedLM

    from trainer.model import Encoder

    cfg = XLMRobertaConfig(vocab_size=10, hidden_size=8, num_hidden_layers=1, num_attention_heads=1,
                           intermediate_size=8, type_vocab_size=4)
    for langs in (NEW, OLD[:] + ["fr"]):
        enc = Encoder(XLMRobertaForMaskedLM(cfg), langs)
        assert enc.lang_id("sw") == 0 and enc.lang_id("en") == langs.index("en")
    assert Encoder(XLMRobertaForMaskedLM(cfg), NEW, use_langs=False).lang_id("en") == 0


def model_dir(langs: list[str], types: int | None = None) -> ModelDir:
    return ModelDir(path="m", source="m", model_type="xlm-roberta", n_layers=2, langs=langs,
                    type_vocab_size=len(langs) if types is None else types)


def test_evaluations_normalise_and_keep_their_rules():
    new, old = model_dir(NEW), model_dir(OLD)
    assert new.lang_id("deu") == 1 and new.lang_id("cmn") == 3 and old.lang_id("eng") == 1
    assert old.lang_id("deu") == 0 and old.lang_id_or_none("deu") == 0
    assert new.lang_id("swh") is None and new.lang_id_or_none("swh") is None      # zero-shot
    assert old.lang_id_or_none("swh") is None                                      # NER, probing: row 0
    with pytest.raises(EvalError, match=r"m was not trained on swh \(sw\); its languages: de, en, zh"):
        old.lang_id("swh")                                                         # Tatoeba: refused
    assert model_dir(NEW, types=1).lang_id("deu") is None and model_dir([]).lang_id_or_none("de") is None
