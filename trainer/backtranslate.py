"""BTMLM stage 1 offline: monolingual shards -> pseudo-parallel ``pairs`` shards (Ernie-M).

    python -m trainer.backtranslate --ckpt runs/train --shards runs/demo/shards --langs de,fr --out runs/bt \\
        [--batch-size 64] [--placeholders 0.15|source] [--max-rows N] [--device auto] [--overwrite]

For every row of SHARDS/mono (in order; the first N with ``--max-rows``) and every language of
``--langs`` that differs from the row's language (and, when the row lists target languages, is
one of them), the checkpoint's encoder runs BTMLM's stage 1 exactly as the trainer does
(:meth:`trainer.objectives.btmlm.BTMLM.pseudo_tokens`): ``<s> x </s>`` plus k ``<mask>``
placeholders (k from ``placeholder_count``) that carry the target language id, continue the
positions and attend to the source and themselves; each placeholder's argmax over the ordinary
pieces (never ``<s> <pad> </s> <unk> <mask>``) is a pseudo token.

OUT/pairs holds rows of the ``pairs`` schema (src_ids = the sentence, tgt_ids = the pseudo
tokens, src_lang, tgt_lang, source = "backtranslation") and OUT/manifest.json, with the input
shards' tokenizer checksum; OUT is written to a temporary directory and renamed when complete,
and a rerun gives the same bytes. Train on it with ``objectives.btmlm.pseudo_pairs=OUT``: BTMLM
then skips stage 1 and runs stage 2 on these pairs.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator

import torch

from xlkit_core.environment import check_environment
from xlkit_core.errors import ConfigError, XlkitError
from xlkit_core.output import commit, discard, prepare_out
from xlkit_core.shards import ShardFormatError, ShardSet, ShardWriter, write_manifests

from . import checkpoint
from .config import BTMLMConfig, from_dict
from .export import ExportError, load_encoder
from .objectives import Context, Example
from .objectives.btmlm import BTMLM, placeholder_count
from .train import load_tokenizer_info

SOURCE = "backtranslation"


class BacktranslateError(XlkitError):
    """A back-translation that cannot run; the message says what to do."""


def check_placeholders(setting: str) -> str:
    if setting != "source":
        try:
            ok = 0 < float(setting) <= 1
        except ValueError:
            ok = False
        if not ok:
            raise BacktranslateError(f"--placeholders {setting}: use a fraction in (0, 1] or 'source'")
    return setting


def _targets(lang: str, tgt_langs: list[str] | None, langs: list[str]) -> list[str]:
    wanted = set(tgt_langs or langs)
    return [t for t in langs if t != lang and t in wanted]


def _rows(mono: ShardSet, max_rows: int | None, columns: list[str]) -> Iterator[dict]:
    seen = 0
    for batch in mono.batches:
        for row in batch.select(columns).to_pylist():
            if max_rows is not None and seen >= max_rows:
                return
            seen += 1
            yield row


def plan(mono: ShardSet, langs: list[str], max_rows: int | None) -> Iterator[tuple[list[int], str, str]]:
    """(source ids, source lang, target lang) in output order: rows in shard order, targets in ``langs`` order."""
    for row in _rows(mono, max_rows, ["ids", "lang", "tgt_langs"]):
        for t in _targets(row["lang"], row["tgt_langs"], langs):
            yield row["ids"], row["lang"], t


def count(mono: ShardSet, langs: list[str], max_rows: int | None) -> int:
    """How many pairs :func:`plan` yields (reads the language columns only)."""
    return sum(len(_targets(r["lang"], r["tgt_langs"], langs)) for r in _rows(mono, max_rows, ["lang", "tgt_langs"]))


def _chunks(items: Iterator, n: int) -> Iterator[list]:
    chunk = []
    for x in items:
        chunk.append(x)
        if len(chunk) == n:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _check_length(chunk: list[tuple[list[int], str, str]], setting: str, max_positions: int) -> None:
    longest = max(len(ids) + 2 + placeholder_count(setting, len(ids)) for ids, _, _ in chunk)
    if longest + 2 > max_positions:    # RoBERTa positions start at padding_idx + 1 = 2
        raise BacktranslateError(f"a stage-1 input of {longest} tokens exceeds the model's {max_positions - 2} "
                                 "positions: use a smaller --placeholders")


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(name)
    except RuntimeError:
        raise BacktranslateError(f"--device {name}: use auto, cpu, cuda or cuda:N") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise BacktranslateError(f"--device {name}: no CUDA device here; use --device cpu")
    return dev


def backtranslate(ckpt: str, shards: str, langs: list[str], out: str, batch_size: int = 64,
                  placeholders: str | None = None, max_rows: int | None = None, overwrite: bool = False,
                  device: str = "auto", progress: bool = True) -> dict:
    """Write OUT/pairs + OUT/manifest.json (see the module doc); returns the top manifest.
    ``placeholders`` defaults to the checkpoint's ``objectives.btmlm.placeholders``."""
    from tqdm import tqdm

    if batch_size < 1 or (max_rows is not None and max_rows < 1):
        raise BacktranslateError("--batch-size and --max-rows must be at least 1")
    out, tmp = prepare_out(out, overwrite)      # refuse an existing OUT before any work
    enc, state, ckpt_dir = load_encoder(ckpt, _device(device))
    setting = check_placeholders(placeholders or from_dict(state["config"]).objectives.btmlm.placeholders)
    unknown = [x for x in langs if x not in enc.langs]
    if not langs or unknown:
        raise BacktranslateError(f"--langs {','.join(langs) or '(empty)'}: {','.join(unknown) or 'no language'} not "
                                 f"among the checkpoint's languages {','.join(enc.langs)}; choose from those")
    if not enc.use_langs:
        print("backtranslate: warning: the checkpoint has no language embedding, so the placeholders carry no "
              "target language", file=sys.stderr)
    try:
        mono = ShardSet.open(os.path.join(shards, "mono"))
    except ShardFormatError as exc:
        raise BacktranslateError(f"{exc} (--shards must hold a mono/ directory: make shards TASKS=mono)") from None
    tok = load_tokenizer_info(state["tokenizer"])
    sha = mono.manifest.get("tokenizer_sha256")
    if tok.checksum and sha and tok.checksum != sha:
        raise BacktranslateError(f"{mono.directory} was built with tokenizer {sha[:12]}, the checkpoint with "
                                 f"{tok.checksum[:12]}: back-translate shards built with the checkpoint's tokenizer")
    ctx = Context(bos=tok.bos, eos=tok.eos, pad=tok.pad, mask=tok.mask, vocab_size=tok.vocab_size,
                  lang_id=enc.lang_id)
    obj = BTMLM(BTMLMConfig(weight=1.0, placeholders=setting), ctx)
    total = count(mono, langs, max_rows)
    if not total:
        raise BacktranslateError(f"no row of {mono.directory} has a target language in --langs {','.join(langs)} "
                                 "other than its own: add languages to --langs")
    try:
        os.makedirs(tmp)
        shard_rows = int(mono.manifest.get("max_rows", 100_000))
        writer = ShardWriter(tmp, "pairs", 0, shard_rows)
        bar = tqdm(total=total, unit="pair", file=sys.stderr, disable=not progress, dynamic_ncols=True,
                   desc="backtranslate")
        for chunk in _chunks(plan(mono, langs, max_rows), batch_size):
            _check_length(chunk, setting, enc.config.max_position_embeddings)
            examples = [Example(i, {"ids": ids, "lang": s, "tgt_langs": [t]}) for i, (ids, s, t) in enumerate(chunk)]
            flat = obj.pseudo_tokens(enc, obj.make_batch(examples).to(enc.mlm.device)).cpu().tolist()
            for ids, s, t in chunk:
                k = placeholder_count(setting, len(ids))
                pseudo, flat = flat[:k], flat[k:]
                writer.append({"src_ids": ids, "tgt_ids": pseudo, "src_lang": s, "tgt_lang": t, "source": SOURCE},
                              s, len(ids) + k)
            bar.update(len(chunk))
        bar.close()
        meta = {"corpus": mono.manifest.get("corpus"), "tokenizer": state["tokenizer"], "tokenizer_sha256": sha,
                "max_len": int(mono.manifest.get("max_len", 512)), "max_rows": shard_rows,
                "backtranslation": {"checkpoint": os.path.abspath(ckpt_dir), "step": state["step"],
                                    "shards": os.path.abspath(shards), "langs": langs, "placeholders": setting,
                                    "input_rows": min(len(mono), max_rows or len(mono)), "pairs": total}}
        manifest = write_manifests(tmp, [writer.close()], meta)
        commit(tmp, out)
        tmp = None
    finally:
        discard(tmp)
    return manifest


def main(argv: list[str] | None = None) -> int:
    check_environment()
    p = argparse.ArgumentParser(prog="python -m trainer.backtranslate", description=__doc__.split("\n\n")[0])
    p.add_argument("--ckpt", required=True, help="a checkpoint directory, or a run directory (its latest)")
    p.add_argument("--shards", required=True, help="a shards directory with mono/ (make shards)")
    p.add_argument("--langs", required=True, help="target languages, comma-separated (e.g. de,fr)")
    p.add_argument("--out", required=True, help="the pseudo-pair shards directory to write (OUT/pairs)")
    p.add_argument("--batch-size", type=int, default=64, help="sentences per forward pass (default 64)")
    p.add_argument("--placeholders", default=None,
                   help="k as a fraction of the source length, or 'source' (default: the checkpoint's setting)")
    p.add_argument("--max-rows", type=int, default=None, help="back-translate only the first N mono rows")
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda or cuda:N")
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    args = p.parse_args(argv)
    langs = [x.strip() for x in args.langs.split(",") if x.strip()]
    try:
        m = backtranslate(args.ckpt, args.shards, langs, args.out, args.batch_size, args.placeholders,
                          args.max_rows, args.overwrite, args.device)
    except (BacktranslateError, ExportError, checkpoint.CheckpointError, ConfigError) as exc:
        print(f"backtranslate: error: {exc}", file=sys.stderr)
        return 2
    except XlkitError as exc:
        print(f"backtranslate: error: {exc.user_message()}", file=sys.stderr)
        return exc.exit_code
    print(f"backtranslate: wrote {m['tasks']['pairs']['rows']:,} pseudo pairs to {os.path.abspath(args.out)}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
