"""Export to transformers (and back), loss-curve plots, and offline BTMLM back-translation, on a
tiny model trained on the real demo shards."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

pytestmark = [pytest.mark.usefixtures("one_torch_thread"), pytest.mark.spark, pytest.mark.slow]

TEXTS = {"de": "Berlin ist die Hauptstadt Deutschlands.", "fr": "Paris est la capitale de la France.",
         "ja": "東京は日本の首都です。"}


@pytest.fixture(scope="module")
def run(demo_shards, tmp_path_factory) -> dict[str, Path]:
    """A 20-step run with every objective (so the checkpoint has MEP/OE heads)."""
    from trainer import train

    out = tmp_path_factory.mktemp("xrun") / "run"
    assert train.main(["tiny", f"shards={demo_shards['shards']}", f"out={out}", "recipe=all", "steps=20",
                       "save_every=20", "progress=false", "device=cpu"]) == 0
    return {"run": out, **demo_shards}


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


def trained_encoder(run_dir: Path):
    """The trainer's own Encoder, restored from the run's latest checkpoint."""
    from trainer import checkpoint
    from trainer.config import from_dict
    from trainer.dist import Env
    from trainer.train import build

    state = checkpoint.read_state(checkpoint.resolve(str(run_dir)))
    cfg = from_dict(state["config"])
    cfg.resume, cfg.device = str(run_dir), "cpu"
    return build(cfg, Env()).model.eval()


def text_batch(tok, langs: list[str]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    enc = tok([TEXTS[x] for x in TEXTS], padding=True, return_tensors="pt")
    lang = torch.tensor([[langs.index(x)] for x in TEXTS]).expand_as(enc.input_ids).contiguous()
    return enc.input_ids, enc.attention_mask, lang


def test_export_loads_in_transformers_and_reimports(run, tmp_path):
    from safetensors import safe_open
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    from trainer.attention_masks import full_mask
    from trainer.config import ModelConfig
    from trainer.export import ExportError, export
    from trainer.model import build_model

    out = Path(export(str(run["run"]), str(tmp_path / "model")))
    assert not (tmp_path / "model.tmp").exists()
    langs = json.loads((out / "xlkit_langs.json").read_text())["langs"]
    assert langs == ["<none>", "de", "en", "fr", "ja", "zh"]   # row 0: no language
    meta = json.loads((out / "xlkit_export.json").read_text())
    assert meta["step"] == 20 and meta["source"].endswith("step-00000020") and "mep" in meta["objectives"]
    assert {"mep_q", "mep_k", "oe_q", "oe_k"} <= set(meta["not_exported"])
    with safe_open(str(out / "model.safetensors"), "pt") as f:
        assert not [k for k in f.keys() if "heads" in k]

    hf = AutoModelForMaskedLM.from_pretrained(out).eval()
    tok = AutoTokenizer.from_pretrained(out)
    ref_tok = AutoTokenizer.from_pretrained(run["tokenizer"])
    assert tok(TEXTS["ja"])["input_ids"] == ref_tok(TEXTS["ja"])["input_ids"]
    assert hf.config.type_vocab_size == len(langs)
    ids, attn, lang = text_batch(tok, langs)
    real = attn.bool()
    mine = trained_encoder(run["run"])
    assert mine.langs == langs
    with torch.no_grad():
        want = mine(ids, full_mask(attn.long()), None, lang)
        got = hf(input_ids=ids, attention_mask=attn, token_type_ids=lang).logits
        torch.testing.assert_close(got[real], want[real], atol=1e-6, rtol=0)
        back = build_model(ModelConfig(init_from=str(out)), len(tok), ["de", "fr"], {}).eval()
        assert back.langs == langs
        torch.testing.assert_close(back(ids, full_mask(attn.long()), None, lang), want, atol=1e-6, rtol=0)

    with pytest.raises(ExportError, match="already exists.*--overwrite"):
        export(str(run["run"]), str(out))
    assert export(str(run["run"]), str(out), overwrite=True) == str(out)


def test_export_cli_refuses_bad_input(run, tmp_path, capsys):
    from trainer.export import main

    assert main([str(tmp_path), str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("export: error:") and "state.json" in err and "\n" not in err
    assert not (tmp_path / "m").exists()


def test_init_from_one_token_type_widens_with_copies(tmp_path):
    from transformers import XLMRobertaConfig, XLMRobertaForMaskedLM

    from trainer.attention_masks import full_mask
    from trainer.config import ModelConfig
    from trainer.model import build_model

    torch.manual_seed(0)
    cfg = XLMRobertaConfig(vocab_size=60, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                           intermediate_size=64, type_vocab_size=1, pad_token_id=1, bos_token_id=0, eos_token_id=2)
    orig = XLMRobertaForMaskedLM(cfg).eval()
    with torch.no_grad():   # a non-trivial row 0, so that "copy of row 0" means something
        orig.roberta.embeddings.token_type_embeddings.weight.normal_()
    orig.save_pretrained(tmp_path / "xlmr")
    langs = ["de", "en", "fr", "ja"]
    enc = build_model(ModelConfig(init_from=str(tmp_path / "xlmr")), 60, langs, {}).eval()
    table = enc.mlm.roberta.embeddings.token_type_embeddings.weight
    assert enc.langs == ["<none>", *langs] and enc.languages == langs     # row 0: no language
    assert table.shape == (5, 32) and enc.config.type_vocab_size == 5
    torch.testing.assert_close(table, orig.roberta.embeddings.token_type_embeddings.weight[0].expand(5, -1),
                               atol=0, rtol=0)
    assert enc.lang_id("sw") == 0 and enc.lang_id("de") == 1
    ids = torch.randint(4, 59, (4, 9))
    ids[:, 0], ids[:, -1] = 0, 2
    lang = torch.arange(4)[:, None].expand(4, 9)
    with torch.no_grad():
        want = orig(input_ids=ids, attention_mask=torch.ones_like(ids)).logits
        got = enc(ids, full_mask(torch.ones_like(ids)), None, lang)
    torch.testing.assert_close(got, want, atol=1e-6, rtol=0)


def test_plot_draws_a_png_and_names_a_missing_file(run, tmp_path, capsys):
    from trainer.plot import PlotError, main, plot

    png = Path(plot(str(run["run"])))
    assert png == run["run"] / "loss_curves.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 30_000
    other = tmp_path / "curves.png"
    assert main([str(run["run"]), "--out", str(other)]) == 0 and other.stat().st_size > 30_000

    with pytest.raises(PlotError, match="metrics.jsonl does not exist"):
        plot(str(tmp_path))
    (tmp_path / "metrics.jsonl").write_text("\n")
    with pytest.raises(PlotError, match="no step records"):
        plot(str(tmp_path))
    capsys.readouterr()
    assert main([str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("plot: error:") and "metrics.jsonl" in err and "\n" not in err


def _bytes(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def test_backtranslate_writes_pseudo_pairs(run, tmp_path, capsys):
    from trainer.backtranslate import backtranslate, main
    from trainer.objectives.btmlm import placeholder_count
    from trainer.train import load_tokenizer_info
    from xlkit_core.shards import ShardSet

    langs = ["de", "fr"]
    out = tmp_path / "bt"
    manifest = backtranslate(str(run["run"]), str(run["shards"]), langs, str(out), batch_size=32, progress=False)
    mono = ShardSet.open(str(run["shards"] / "mono"))
    rows = [r for b in mono.batches for r in b.to_pylist()]
    want = [(r["ids"], r["lang"], t) for r in rows for t in langs if t != r["lang"] and t in r["tgt_langs"]]
    pairs = ShardSet.open(str(out / "pairs"))
    got = [r for b in pairs.batches for r in b.to_pylist()]
    assert len(got) == len(want) == manifest["tasks"]["pairs"]["rows"]
    assert len(got) == sum(len(set(langs) - {r["lang"]}) for r in rows)
    tok = load_tokenizer_info(str(run["tokenizer"]))
    for g, (ids, src, tgt) in zip(got, want, strict=True):
        assert (g["src_ids"], g["src_lang"], g["tgt_lang"], g["source"]) == (ids, src, tgt, "backtranslation")
        assert len(g["tgt_ids"]) == placeholder_count("0.15", len(ids))
        assert all(4 <= t < tok.mask for t in g["tgt_ids"])
    assert pairs.manifest["tokenizer_sha256"] == mono.manifest["tokenizer_sha256"] == manifest["tokenizer_sha256"]

    again = tmp_path / "bt2"
    backtranslate(str(run["run"]), str(run["shards"]), langs, str(again), batch_size=32, progress=False)
    assert _bytes(again) == _bytes(out)

    src = backtranslate(str(run["run"]), str(run["shards"]), ["en"], str(tmp_path / "src"), placeholders="source",
                        max_rows=25, progress=False)
    assert src["backtranslation"]["input_rows"] == 25
    for r in ShardSet.open(str(tmp_path / "src" / "pairs")).batches[0].to_pylist():
        assert len(r["tgt_ids"]) == len(r["src_ids"]) and r["tgt_lang"] == "en" != r["src_lang"]

    capsys.readouterr()
    base = ["--ckpt", str(run["run"]), "--shards", str(run["shards"])]
    assert main(base + ["--langs", "de", "--out", str(out)]) == 2
    assert main(base + ["--langs", "xx", "--out", str(tmp_path / "x")]) == 2
    errs = capsys.readouterr().err.strip().splitlines()
    assert len(errs) == 2 and "--overwrite" in errs[0] and "xx" in errs[1] and not (tmp_path / "x").exists()


def test_training_reads_offline_pseudo_pairs(run, tmp_path):
    from trainer import train
    from trainer.backtranslate import backtranslate
    from trainer.config import load_config
    from trainer.dist import Env
    from trainer.objectives import Example

    bt = tmp_path / "bt"
    backtranslate(str(run["run"]), str(run["shards"]), ["de", "fr"], str(bt), max_rows=40, progress=False)
    overrides = [f"shards={run['shards']}", "recipe=btmlm", f"objectives.btmlm.pseudo_pairs={bt}", "device=cpu",
                 "progress=false"]
    tr = train.build(load_config("tiny", overrides + [f"out={tmp_path / 'probe'}", "steps=1"]), Env())
    assert os.path.samefile(tr.streams["btmlm"].shards.directory, bt / "pairs")
    batch = tr.objectives["btmlm"].make_batch([Example(k, r) for k, r in tr.streams["btmlm"].take_keyed(4)])
    assert batch.extra["offline"]

    out = tmp_path / "train"
    assert train.main(["tiny", *overrides, f"out={out}", "steps=8"]) == 0
    records = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert len(records) == 8 and any(r["task"] == "btmlm" for r in records)
