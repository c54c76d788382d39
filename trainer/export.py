"""Export a checkpoint as a plain ``transformers`` model directory (DESIGN.md, "Checkpoints and runs").

    python -m trainer.export runs/train OUT [--overwrite]        # a run dir (its latest) or a checkpoint

OUT holds what ``AutoModelForMaskedLM.from_pretrained(OUT)`` and ``AutoTokenizer.from_pretrained(OUT)``
load, with no network:

    config.json, model.safetensors   the encoder as an ``XLMRobertaForMaskedLM``
    tokenizer files                   copied from the checkpoint's tokenizer directory
    xlkit_langs.json                  {"langs": ["<none>", ...]}: language i is ``token_type_ids == i``; row 0 is
                                      no language (what a language never trained on gets)
    xlkit_export.json                 source checkpoint, step, objectives and training config

The language embedding is XLM-R's token-type table, so callers pass language ids as
``token_type_ids``. The MEP/OE projection heads (and their BatchNorm statistics), like any other
training-only module under ``Encoder.heads``, are not exported (xlkit_export.json lists them). ``ModelConfig(init_from=OUT)`` reads the model back with the same language
order (:func:`trainer.model.checkpoint_langs`) and identical logits.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys

import torch
from safetensors.torch import load_file
from transformers import XLMRobertaConfig, XLMRobertaForMaskedLM

from xlkit_core.environment import check_environment
from xlkit_core.errors import ConfigError, XlkitError
from xlkit_core.output import write_json

from . import checkpoint
from .config import TrainConfig, from_dict
from .model import LANGS_FILE, Encoder, size_config

EXPORT_FILE = "xlkit_export.json"
TOKENIZER_FILES = ("sentencepiece.bpe.model", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                   "added_tokens.json", "xlkit_tokenizer.json")


class ExportError(XlkitError):
    """An export that cannot be written; the message says what to do."""


def _mlm_config(cfg: TrainConfig, weights: dict[str, torch.Tensor], where: str) -> XLMRobertaConfig:
    """The XLM-R config of the checkpoint's encoder; table sizes come from the weights themselves."""
    emb = "mlm.roberta.embeddings."
    try:
        vocab = weights[emb + "word_embeddings.weight"].shape[0]
        n_types = weights[emb + "token_type_embeddings.weight"].shape[0]
        n_pos = weights[emb + "position_embeddings.weight"].shape[0]
    except KeyError as exc:
        raise ExportError(f"{where}/model.safetensors lacks {exc.args[0]}: not an xlkit encoder checkpoint") from None
    m = cfg.model
    if not m.init_from:
        return size_config(m.size, vocab, n_types, m.dropout, m.attention, n_pos)
    if not os.path.exists(os.path.join(m.init_from, "config.json")):
        raise ExportError(f"{where} was initialised from {m.init_from}, whose config.json is gone: restore that "
                          "directory (its architecture is read from there)")
    c = XLMRobertaConfig.from_pretrained(m.init_from, attn_implementation=m.attention, hidden_dropout_prob=m.dropout,
                                         attention_probs_dropout_prob=m.dropout)
    c.vocab_size, c.type_vocab_size, c.max_position_embeddings = vocab, n_types, n_pos
    return c


def load_encoder(path: str, device: str | torch.device = "cpu") -> tuple[Encoder, dict, str]:
    """The encoder of a checkpoint (or a run dir's latest), without the MEP/OE heads, in eval mode:
    (encoder, state.json, checkpoint dir). Needs neither the shards nor the optimizer state."""
    ckpt = checkpoint.resolve(path)
    state = checkpoint.read_state(ckpt)
    cfg = from_dict(state["config"])
    weights = load_file(os.path.join(ckpt, "model.safetensors"))
    mlm = XLMRobertaForMaskedLM(_mlm_config(cfg, weights, ckpt))
    mine = {k[len("mlm."):]: v for k, v in weights.items() if k.startswith("mlm.")}
    missing, unexpected = mlm.load_state_dict(mine, strict=False)
    missing = [k for k in missing if not _tied(mlm, k)]
    if missing or unexpected:
        raise ExportError(f"{ckpt}: weights do not fit the config (missing {missing[:3]}, unexpected "
                          f"{unexpected[:3]}); export a checkpoint written by this version of xlkit")
    enc = Encoder(mlm, state["langs"], None, use_langs=cfg.model.language_embedding).to(device).eval()
    return enc, state, ckpt


def _tied(mlm: XLMRobertaForMaskedLM, key: str) -> bool:
    """A decoder weight or bias that shares its storage with a loaded tensor (the checkpoint keeps one copy)."""
    head = mlm.lm_head
    return (key == "lm_head.decoder.weight" and head.decoder.weight is mlm.roberta.embeddings.word_embeddings.weight) \
        or (key == "lm_head.decoder.bias" and head.decoder.bias is head.bias)


def _copy_tokenizer(src: str, dst: str) -> list[str]:
    if not os.path.isdir(src):
        raise ExportError(f"the checkpoint's tokenizer directory {src} does not exist: restore it (the export "
                          "copies its files)")
    names = [n for n in TOKENIZER_FILES if os.path.isfile(os.path.join(src, n))]
    if not {"sentencepiece.bpe.model", "tokenizer.json"} & set(names):
        raise ExportError(f"{src} has neither sentencepiece.bpe.model nor tokenizer.json: not an XLM-R tokenizer")
    for n in names:
        shutil.copy2(os.path.join(src, n), os.path.join(dst, n))
    return names


def export(checkpoint_or_run_dir: str, out_dir: str, overwrite: bool = False) -> str:
    """Write the transformers directory ``out_dir`` (via ``out_dir.tmp``, renamed when complete);
    returns its absolute path. The MEP/OE heads (all of ``Encoder.heads``) are not part of the export."""
    out = os.path.abspath(out_dir.rstrip("/"))
    if os.path.exists(out) and not overwrite:
        raise ExportError(f"{out} already exists: pass --overwrite (overwrite=True) to replace it, or choose another "
                          "OUT")
    enc, state, ckpt = load_encoder(checkpoint_or_run_dir)
    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    try:
        enc.mlm.save_pretrained(tmp, safe_serialization=True)
        copied = _copy_tokenizer(state["tokenizer"], tmp)
        write_json(os.path.join(tmp, LANGS_FILE), {"langs": enc.langs}, indent=1, sort_keys=True)
        cfg = from_dict(state["config"])
        write_json(os.path.join(tmp, EXPORT_FILE), {
            "source": os.path.abspath(ckpt), "step": state["step"], "objectives": cfg.objectives.enabled(),
            "langs": enc.langs, "language_ids": "token_type_ids", "tokenizer": state["tokenizer"],
            "tokenizer_files": copied, "not_exported": sorted({k.split(".")[1] for k in _head_keys(ckpt)}),
            "config": state["config"]}, indent=1, sort_keys=True)
        if os.path.exists(out):
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _head_keys(ckpt: str) -> list[str]:
    from safetensors import safe_open

    with safe_open(os.path.join(ckpt, "model.safetensors"), "pt") as f:
        return [k for k in f.keys() if k.startswith("heads.")]


def main(argv: list[str] | None = None) -> int:
    check_environment()
    p = argparse.ArgumentParser(prog="python -m trainer.export", description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoint", metavar="CKPT", help="a checkpoint directory, or a run directory (its latest)")
    p.add_argument("out", metavar="OUT", help="the transformers directory to write")
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    args = p.parse_args(argv)
    try:
        out = export(args.checkpoint, args.out, args.overwrite)
    except (ExportError, checkpoint.CheckpointError, ConfigError) as exc:
        print(f"export: error: {exc}", file=sys.stderr)
        return 2
    print(f"export: wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
