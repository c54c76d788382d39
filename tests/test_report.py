"""jobs.stage (per-stage cost log) and jobs.report (the end-to-end run report): fast, no Spark, no torch."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from jobs import report, stage
from jobs.report import common as report_common

ROOT = Path(__file__).resolve().parent.parent
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

ALLOC = ("import time; b = bytearray(200 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096]); time.sleep(0.4)")


def _stage(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "jobs.stage", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, check=False)


def _log(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# ---- jobs.stage ----------------------------------------------------------------------------------------


def test_stage_records_wall_time_memory_cpu_and_rc(tmp_path):
    log = tmp_path / "sub" / "stages.jsonl"
    r = _stage("--log", str(log), "--name", "alloc", "--", sys.executable, "-c", ALLOC)
    assert r.returncode == 0, r.stderr
    (rec,) = _log(log)
    assert rec["name"] == "alloc" and rec["rc"] == 0
    assert rec["cmd"] == [sys.executable, "-c", ALLOC]
    assert 0.4 <= rec["wall_s"] < 30 and rec["cmd_wall_s"] <= rec["wall_s"]
    assert rec["peak_rss_mb"] >= 150, rec
    assert rec["cpu_s"] > 0 and rec["cpu_s"] == pytest.approx(rec["cpu_user_s"] + rec["cpu_sys_s"], abs=2e-3)
    assert "T" in rec["started"] and rec["started"][-6] in "+-"  # ISO 8601 with a UTC offset
    assert "stage alloc: rc 0" in r.stderr


def test_stage_counts_the_whole_tree_including_orphans(tmp_path):
    """A grandchild that outlives its parent (as the Spark JVM may outlive its driver) is still measured."""
    log = tmp_path / "stages.jsonl"
    inner = "import time; b = bytearray(120 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096]); time.sleep(0.8)"
    outer = (f"import subprocess, sys; subprocess.Popen([sys.executable, '-c', {inner!r}]); "
             "import time; time.sleep(0.3)")
    r = _stage("--log", str(log), "--name", "tree", "--", sys.executable, "-c", outer)
    assert r.returncode == 0, r.stderr
    (rec,) = _log(log)
    assert rec["max_procs"] >= 2 and rec["peak_rss_mb"] >= 100
    assert rec["wall_s"] >= 0.8 > rec["cmd_wall_s"]  # waited for the orphan
    assert "left_running" not in rec


def test_stage_propagates_failure_and_appends(tmp_path):
    log = tmp_path / "stages.jsonl"
    assert _stage("--log", str(log), "--name", "ok", "--", sys.executable, "-c", "pass").returncode == 0
    r = _stage("--log", str(log), "--name", "bad", "--", sys.executable, "-c", "import sys; sys.exit(3)")
    assert r.returncode == 3
    r = _stage("--log", str(log), "--name", "absent", "--", str(tmp_path / "no-such-program"))
    assert r.returncode == 127 and "cannot run" in r.stderr
    recs = _log(log)
    assert [(x["name"], x["rc"]) for x in recs] == [("ok", 0), ("bad", 3), ("absent", 127)]


def test_stage_reset_starts_a_fresh_log(tmp_path):
    log = tmp_path / "stages.jsonl"
    for name in ("a", "b"):
        _stage("--log", str(log), "--name", name, "--", sys.executable, "-c", "pass")
    assert len(_log(log)) == 2
    r = _stage("--log", str(log), "--name", "first", "--reset", "--", sys.executable, "-c", "pass")
    assert r.returncode == 0
    assert [x["name"] for x in _log(log)] == ["first"]
    assert sorted(os.listdir(tmp_path)) == ["stages.jsonl"]  # no temporary file left behind


def test_stage_interrupt_terminates_the_child_and_records(tmp_path):
    log = tmp_path / "stages.jsonl"
    p = subprocess.Popen([sys.executable, "-m", "jobs.stage", "--log", str(log), "--name", "slow", "--",
                          sys.executable, "-c", "import time; time.sleep(60)"], cwd=ROOT, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # wait until the child runs
        if psutil.Process(p.pid).children():
            break
        time.sleep(0.05)
    p.send_signal(signal.SIGINT)
    rc = p.wait(timeout=20)
    (rec,) = _log(log)
    assert rc == rec["rc"] == 128 + signal.SIGTERM
    assert rec["signal"] == "SIGTERM" and rec["interrupted"] == "SIGINT" and rec["wall_s"] < 15


def test_stage_usage_errors(tmp_path):
    r = _stage("--log", str(tmp_path / "l"), "--name", "x", sys.executable)
    assert r.returncode == 2 and "put -- before the command" in r.stderr
    r = _stage("--log", str(tmp_path / "l"), "--name", "x", "--")
    assert r.returncode == 2 and "no command" in r.stderr


def test_append_record_writes_one_full_line(tmp_path):
    log = tmp_path / "l.jsonl"
    stage.append_record(str(log), {"name": "ü", "cmd": ["a"], "rc": 0})
    stage.append_record(str(log), {"name": "b", "cmd": ["b"], "rc": 1})
    assert log.read_bytes().count(b"\n") == 2
    assert [x["name"] for x in _log(log)] == ["ü", "b"]


# ---- jobs.report ---------------------------------------------------------------------------------------


def _write(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")


def _metrics(n: int = 60) -> str:
    """Step records in trainer.train's format: one objective per step, its loss and sub-metrics."""
    lines = []
    tasks = ["mmlm", "tlm", "mep"]
    for step in range(1, n + 1):
        task = tasks[step % 3]
        r = {"elapsed_s": 0.05 * step, "loss": 7.0 - 3.0 * step / n + (step % 3), "lr": 1e-3 * min(1, step / 10),
             "step": step, "step_s": 0.05, "targets": 16, "task": task, "tok_s": 12000.0, "tokens": 600}
        if task in ("mmlm", "tlm"):
            r[f"{task}.mlm_acc"] = step / (2 * n)
        else:
            r.update({"mep.mlm": 3.0, "mep.nce": 4.0, "mep.nce_acc": 0.1, "mep.queue": 16.0})
        lines.append(json.dumps(r, sort_keys=True))
    return "\n".join(lines) + "\n"


@pytest.fixture()
def fake_run(tmp_path) -> Path:
    run = tmp_path / "run"
    langs = {"de": 10, "en": 12, "fr": 8}
    _write(run / "stages.jsonl", "".join(json.dumps(r) + "\n" for r in [
        {"name": "kg", "cmd": ["python", "jobs/build_kg.py"], "started": "2026-01-02T10:00:00+01:00", "wall_s": 19.4,
         "cmd_wall_s": 18.9, "peak_rss_mb": 664.0, "cpu_s": 12.6, "cpu_user_s": 12.1, "cpu_sys_s": 0.5,
         "max_procs": 5, "rc": 0},
        {"name": "corpus", "cmd": ["python", "jobs/build_corpus.py"], "started": "2026-01-02T10:00:20+01:00",
         "wall_s": 45.0, "cmd_wall_s": 44.0, "peak_rss_mb": 900.5, "cpu_s": 60.0, "cpu_user_s": 58.0,
         "cpu_sys_s": 2.0, "max_procs": 6, "rc": 0},
        {"name": "train", "cmd": ["python", "-m", "trainer.train"], "started": "2026-01-02T10:01:10+01:00",
         "wall_s": 100.0, "cmd_wall_s": 100.0, "peak_rss_mb": 1200.0, "cpu_s": 190.0, "cpu_user_s": 180.0,
         "cpu_sys_s": 10.0, "max_procs": 1, "rc": 1},
    ]))
    _write(run / "kg/_manifest.json", {
        "job": "build_kg", "inputs": [{"path": "dump.json.bz2", "size": 18943}],
        "tables": {"entities": {"rows": 71, "by_kind": {"item": 47, "property": 24},
                                "labels_by_lang": {f"l{i:02d}": 40 - i for i in range(30)} | langs},
                   "sitelinks": {"rows": 30, "by_lang": langs}, "triples": {"rows": 180, "by_rank": {"normal": 180}},
                   "properties": {"rows": 24, "by_datatype": {"wikibase-item": 24}},
                   "rejects": {"rows": 1, "by_reason": {"bad_json": 1}}},
        "skipped": {"sitelinks": {"special_site": 2}, "snaks": {"novalue": 1}, "statements_deprecated": 2},
        "rejects": {"count": 1, "records": 72, "fraction": 0.014, "max_fraction": 0.05},
        "versions": {"pyspark": "4.3.0", "python": "3.11.7", "java": "openjdk 17"},
        "durations_s": {"total": 3.25}})
    _write(run / "corpus/_manifest.json", {
        "job": "build_corpus", "inputs": [{"lang": k} for k in langs], "kg": {"path": "kg"},
        "config": {"languages": sorted(langs)},
        "tables": {"pages": {"rows": 30, "by_lang": langs}, "sentences": {"rows": 120}, "mentions": {"rows": 90},
                   "entity_docs": {"rows": 60}, "mep_examples": {"rows": 80}, "oe_examples": {"rows": 100},
                   "rejects": {"rows": 0}},
        "per_lang": {"pages": langs, "sentences": {k: 4 * v for k, v in langs.items()},
                     "links": {k: 3 * v for k, v in langs.items()}, "links_resolved": {k: 2 * v for k, v in langs.items()},
                     "unresolved_reasons": {"de": {"red_link": 10}, "en": {"namespace": 12}}},
        "rejects": {"count": 0, "pages_read": 33, "max_fraction": 0.001, "by_reason": {}},
        "durations_s": {"total": 28.9}})
    _write(run / "corpus/report/report.md", "# Corpus report\n")
    _write(run / "corpus/parallel/_manifest.json", {
        "job": "build_parallel", "inputs": [{"source": "de-en"}], "config": {"align": {"iterations": 5}},
        "tables": {"parallel": {"rows": 28, "by_pair": {"de-en": 28}}},
        "sources": {"de-en": {"evaluation": False, "rows": 28, "read": 30, "rejected": 0,
                              "dropped": {"duplicate": 2}}},
        "rejects": {"pairs": 0, "pairs_read": 30, "by_reason": {}}, "durations_s": {"total": 7.3}})
    _write(run / "corpus/monolingual/_manifest.json", {
        "job": "build_monolingual", "tables": {"monolingual": {"rows": 120, "by_lang": langs}},
        "sources": {"wikipedia": {"kind": "sentences", "rows": 120, "read": 120, "rejected": 0, "dropped": {}}},
        "dropped": {"by_reason": {}}, "rejects": {"lines": 0, "read": 120, "by_reason": {}},
        "durations_s": {"total": 2.0}})
    _write(run / "tokenizer/xlkit_tokenizer.json", {
        "kind": "trained", "vocab_size": 1000, "config": {"alpha": 0.3},
        "sentencepiece_options": {"model_type": "unigram", "vocab_size": 998, "character_coverage": 0.9995},
        "sample": {"rows": 460, "chars": 17917, "distinct_lines": 330},
        "languages": {k: {"corpus_rows": v, "corpus_chars": 100 * v, "p": v / 30, "q": 1 / 3, "sampled_rows": v,
                          "sampled_share": 1 / 3} for k, v in langs.items()},
        "verification": {"transformers_class": "XLMRobertaTokenizer",
                         "languages": {k: {"texts": v, "equal": v} for k, v in langs.items()}},
        "files": {"tokenizer.json": "abc"}, "durations_s": {"total": 2.9}})
    _write(run / "tokenizer/tokenizer.json", "{}")
    _write(run / "shards/manifest.json", {
        "tasks": {"mlm": {"rows": 20, "tokens": 2000, "tokens_by_lang": {k: 60 * v for k, v in langs.items()},
                          "dropped": {}, "files": 1},
                  "pairs": {"rows": 28, "tokens": 900, "tokens_by_lang": {"de": 900}, "dropped": {"empty": 1},
                            "files": 1}},
        "max_len": 128, "max_rows": 5000, "excluded_sources": [], "mlm_source_table": "monolingual",
        "duration_s": 8.6})
    _write(run / "train/metrics.jsonl", _metrics())
    _write(run / "model/xlkit_export.json", {"step": 60, "langs": sorted(langs), "language_ids": "token_type_ids",
                                              "objectives": {"mmlm": 1.0}, "not_exported": ["mep_q"],
                                              "config": {"model": {"size": "tiny"}}})
    _write(run / "model/config.json", {"architectures": ["XLMRobertaForMaskedLM"], "num_hidden_layers": 2,
                                       "hidden_size": 64, "num_attention_heads": 2, "vocab_size": 1000})
    _write(run / "eval/results.md", "# Evaluation\n\n## Tatoeba\n\n| lang | acc |\n|---|---|\n| de | 0.5 |\n\n"
                                    "![chart](tatoeba.png)\n")
    _write(run / "eval/results.json", {"transfer_gap": {"tatoeba": 0.125, "ner": -0.01, "bad": "x"}})
    return run


def _png_ok(path: Path) -> bool:
    return path.is_file() and path.stat().st_size > 1000 and path.read_bytes()[:8] == PNG_MAGIC


def test_report_on_a_full_run(fake_run):
    r = subprocess.run([sys.executable, "-m", "jobs.report", str(fake_run), "--title", "Demo"], cwd=ROOT,
                       capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    out = fake_run / "report"
    md = (out / "report.md").read_text(encoding="utf-8")
    assert md.startswith("# Demo\n")
    for heading in ("## Cost per stage", "## Data statistics per stage", "### Knowledge graph", "### Corpus",
                    "### Parallel text", "### Monolingual text", "### Tokenizer", "### Shards", "## Training",
                    "### Exported model", "## Evaluation"):
        assert f"\n{heading}\n" in md, heading
    assert "**Error:**" not in md and "_Not available:_" not in md
    # header: machine, versions, total wall time (first start to last end), the failed stage
    assert "logical cores" in md and "torch" in md and "pyspark" in md
    assert "2 min 50 s" in md and "failed stage(s): train" in md
    # cost table
    assert "| 1 | `kg` | 19.4 s | 664 MiB | 12.6 s | 0.65 | 5 | 0 |" in md
    assert "**1**" in md  # the failed stage's exit code stands out
    # data statistics
    assert "[corpus/report/report.md](../corpus/report/report.md)" in md
    assert "other (" in md  # 33 label languages, capped
    assert "66.7%" in md  # links resolved share
    assert "| pairs | 28 | 900 |" in md and "empty 1" in md
    # training: objectives with first/final loss and accuracy
    assert "**60 steps**" in md and "| mmlm | 20 |" in md and "mlm_acc" in md and "12,000 tokens/s" in md
    # evaluation embedded, headings moved below the section, relative links rewritten
    assert "\n### Evaluation\n" in md and "\n#### Tatoeba\n" in md and "](../eval/tatoeba.png)" in md
    for png in ("cost_per_stage.png", "shard_tokens_by_lang.png", "loss_curves.png", "transfer_gap.png"):
        assert _png_ok(out / png), png
        assert f"]({png})" in md
    assert not (fake_run / "report.tmp").exists()
    # a rerun replaces the report
    report.write_report(str(fake_run))
    assert (out / "report.md").read_text(encoding="utf-8").startswith("# xlkit run report: run\n")


def test_report_on_an_empty_run(tmp_path):
    run = tmp_path / "empty"
    run.mkdir()
    path = report.write_report(str(run))
    md = Path(path).read_text(encoding="utf-8")
    for heading in ("## Cost per stage", "## Data statistics per stage", "## Training", "## Evaluation"):
        assert f"\n{heading}\n" in md, heading
    for rel, how in (("stages.jsonl", "python -m jobs.stage"), ("kg/_manifest.json", "jobs/build_kg.py"),
                     ("corpus/_manifest.json", "jobs/build_corpus.py"),
                     ("corpus/parallel/_manifest.json", "jobs/build_parallel.py"),
                     ("corpus/monolingual/_manifest.json", "jobs/build_monolingual.py"),
                     ("tokenizer/xlkit_tokenizer.json", "jobs/train_tokenizer.py"),
                     ("shards/manifest.json", "jobs/build_shards.py"), ("train/metrics.jsonl", "trainer.train"),
                     ("model/xlkit_export.json", "trainer.export")):
        assert f"(`{rel}`) does not exist" in md, rel
        assert how in md, how
    assert "_Not run:_ `eval/results.md` does not exist. Run `make eval MODEL=" in md
    assert "not measured (no `stages.jsonl`)" in md
    assert os.listdir(Path(path).parent) == ["report.md"]  # no empty figure


def test_report_names_corrupt_files(fake_run):
    (fake_run / "kg/_manifest.json").write_text('{"tables": {', encoding="utf-8")
    (fake_run / "shards/manifest.json").write_text("[1, 2]", encoding="utf-8")
    with open(fake_run / "stages.jsonl", "a", encoding="utf-8") as f:
        f.write('{"name": "cut", "wall\n')
    (fake_run / "train/metrics.jsonl").write_text(_metrics(5) + "not json\n", encoding="utf-8")
    (fake_run / "eval/results.json").write_text("{oops", encoding="utf-8")
    md = Path(report.write_report(str(fake_run))).read_text(encoding="utf-8")
    assert "**Error:** `kg/_manifest.json` is not valid JSON (line 1, column 13" in md
    assert "**Error:** `shards/manifest.json` holds a JSON list" in md
    assert "**Error:** `stages.jsonl` line 4 is not valid JSON" in md
    assert "**Error:** `train/metrics.jsonl`:6 is not JSON" in md
    assert "**Error:** `eval/results.json` is not valid JSON" in md
    assert "| KG | `kg/_manifest.json` | damaged |" in md
    # the other sections still report
    assert "| 1 | `kg` |" in md and "### Corpus" in md and "\n#### Tatoeba\n" in md


def test_report_survives_odd_values(fake_run):
    """Valid JSON of an unexpected shape becomes an error line, never a crash."""
    _write(fake_run / "corpus/_manifest.json", {"tables": {"pages": 5}, "per_lang": {"links": {"de": "many"}}})
    _write(fake_run / "stages.jsonl", json.dumps({"name": "x", "wall_s": "soon", "rc": None}) + "\n")
    md = Path(report.write_report(str(fake_run))).read_text(encoding="utf-8")
    assert "## Training" in md and "### Shards" in md


def test_report_cli_rejects_a_missing_run(tmp_path):
    assert report.main([str(tmp_path / "nope")]) == 2
    assert not (tmp_path / "nope").exists()


def test_embed_markdown():
    text = "# Title\n\n```\n# not a heading\n```\n\n## Sub\n\n[a](x.md) [b](https://e.org) [c](#anchor)\n"
    out = report_common.embed_markdown(text, "../eval")
    assert out.splitlines()[0] == "### Title" and "\n# not a heading\n" in out and "\n#### Sub\n" in out
    assert "[a](../eval/x.md)" in out and "[b](https://e.org)" in out and "[c](#anchor)" in out


def test_top_n_buckets_the_rest():
    d = {f"l{i}": i for i in range(20)}
    got = report_common.top_n(d, 5)
    assert [k for k, _ in got[:5]] == ["l19", "l18", "l17", "l16", "l15"]
    assert got[5] == ("other (15)", sum(range(15)))
    assert report_common.top_n({"a": 1, "b": 2}, 5) == [("b", 2), ("a", 1)]
