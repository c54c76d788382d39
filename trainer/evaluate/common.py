"""What every evaluation shares: opening a model directory and mapping languages to its ids.

MODEL may be

* an exported xlkit directory (``python -m trainer.export``): ``config.json``, weights, tokenizer files
  and ``xlkit_langs.json`` (language i goes in as ``token_type_ids == i``);
* an xlkit checkpoint or run directory (``state.json``, or ``checkpoints/latest``): it is exported once
  into ``<workdir>/model`` and read from there;
* any local ``transformers`` directory with a tokenizer (a baseline such as XLM-R or MiniLM). Such a model
  takes no language ids.

Every problem with the directory is an :class:`EvalError` whose message names the path and the fix,
raised before any model is built.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from xlkit_core.errors import XlkitError
from xlkit_core.langs import NO_LANGUAGE, UnknownLanguage, lang_index, normalise
from xlkit_core.output import write_json as shared_write_json

LANGS_FILE = "xlkit_langs.json"
# files of which at least one must be present for AutoTokenizer to load offline
TOKENIZER_MARKERS = ("tokenizer.json", "sentencepiece.bpe.model", "spiece.model", "vocab.txt", "vocab.json",
                     "tokenizer.model")


class EvalError(XlkitError):
    """Bad input to an evaluation (a missing tokenizer, unequal files, an unknown language, ...)."""


@dataclass
class ModelDir:
    """A checked, loadable model directory."""

    path: str
    source: str                       # what the user gave
    model_type: str
    n_layers: int
    langs: list[str] = field(default_factory=list)   # xlkit language order; empty for plain checkpoints
    type_vocab_size: int = 1

    @property
    def uses_lang_ids(self) -> bool:
        return bool(self.langs) and self.type_vocab_size > 1

    def lang_id(self, lang: str, unknown: str = "none") -> int | None:
        """The language id (``token_type_ids``) of any language code (ISO 639-1/3 or Wikipedia, through
        :func:`~xlkit_core.langs.normalise`), or None when the model takes none. A language the model was
        not trained on gets what :func:`~xlkit_core.langs.lang_index` gives it under ``unknown``: with
        ``"none"`` None (no ``token_type_ids``: the no-language row 0, zero-shot, XTREME's protocol) when
        the model has that row, and for an export without it an error naming the model's languages."""
        if not self.uses_lang_ids:
            return None
        code = normalise(lang)
        try:
            return lang_index(self.langs, code, unknown=unknown)
        except UnknownLanguage:
            known = ", ".join(x for x in self.langs if x != NO_LANGUAGE)
            raise EvalError(f"{self.source} was not trained on {lang} ({code}); its languages: {known}") from None

    def lang_id_or_none(self, lang: str) -> int | None:
        """Like :meth:`lang_id`, but a language the model does not know gets None in any model (row 0, the
        model's default, which in an export without the no-language row is its first language's): for
        transfer to languages outside pre-training."""
        return self.lang_id(lang, unknown="row0")


def _is_checkpoint(path: str) -> bool:
    return os.path.exists(os.path.join(path, "state.json")) or \
        os.path.exists(os.path.join(path, "checkpoints", "latest")) or os.path.exists(os.path.join(path, "latest"))


def resolve_model(path: str, workdir: str | None = None) -> ModelDir:
    """Check ``path`` (and export it first when it is an xlkit checkpoint); see the module docstring."""
    src = str(path)
    if not os.path.isdir(src):
        raise EvalError(f"{src} is not a directory: give an exported xlkit model, an xlkit checkpoint or run "
                        "directory, or a local transformers model directory")
    if not os.path.exists(os.path.join(src, "config.json")) and _is_checkpoint(src):
        from ..export import export

        if workdir is None:
            raise EvalError(f"{src} is an xlkit checkpoint: pass an output directory so that it can be exported "
                            "there, or export it yourself (python -m trainer.export CKPT OUT)")
        try:
            target = export(src, os.path.join(workdir, "model"), overwrite=True)
        except Exception as exc:          # ExportError, CheckpointError: say where it came from
            raise EvalError(f"cannot export the checkpoint {src}: {exc}") from None
        return _check(target, src)
    return _check(src, src)


def _check(path: str, source: str) -> ModelDir:
    cfg_file = os.path.join(path, "config.json")
    if not os.path.exists(cfg_file):
        raise EvalError(f"{path} has no config.json: give an exported xlkit model (python -m trainer.export RUN OUT), "
                        "an xlkit checkpoint, or a local transformers directory")
    if not any(os.path.exists(os.path.join(path, n)) for n in TOKENIZER_MARKERS):
        raise EvalError(f"{path} has no tokenizer (none of {', '.join(TOKENIZER_MARKERS)}): copy the tokenizer "
                        "files of the model it was trained with into it, or export an xlkit checkpoint with "
                        "python -m trainer.export, which copies them")
    with open(cfg_file, encoding="utf-8") as f:
        cfg = json.load(f)
    langs: list[str] = []
    lf = os.path.join(path, LANGS_FILE)
    if os.path.exists(lf):
        with open(lf, encoding="utf-8") as f:
            langs = list(json.load(f)["langs"])
    n_layers = cfg.get("num_hidden_layers") or cfg.get("n_layers") or cfg.get("num_layers")
    if not n_layers:
        raise EvalError(f"{cfg_file} has no num_hidden_layers: not an encoder config this suite can read")
    return ModelDir(path=path, source=source, model_type=cfg.get("model_type", "?"), n_layers=int(n_layers),
                    langs=langs, type_vocab_size=int(cfg.get("type_vocab_size", 1) or 1))


def load_tokenizer(md: ModelDir):
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(md.path)
    except Exception as exc:  # a present but broken tokenizer: name the directory
        raise EvalError(f"the tokenizer in {md.path} does not load ({type(exc).__name__}: {exc})") from None


def load_encoder(md: ModelDir):
    """The bare encoder of a model directory (``AutoModel``; no pooling layer for the BERT family), in eval mode."""
    from transformers import AutoConfig, AutoModel

    quiet_transformers()
    config = AutoConfig.from_pretrained(md.path)
    if config.model_type in ("bert", "roberta", "xlm-roberta"):
        return AutoModel.from_pretrained(md.path, config=config, add_pooling_layer=False).eval()
    return AutoModel.from_pretrained(md.path).eval()


def write_json(path: str | os.PathLike, obj) -> None:
    """An evaluation's result file: :func:`xlkit_core.output.write_json`, without a final newline."""
    shared_write_json(path, obj, final_newline=False)


def quiet_transformers() -> None:
    """The MLM head of an export is 'unexpected' for AutoModel and a fresh classifier 'newly initialised': fine."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
