"""bench/repro.py's results (the scores of one run, the paired differences and their MDD, the table and
figure) and the report's section that shows them."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def repro():
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import repro as module
    finally:
        sys.path.pop(0)
    return module


def _results(d: Path, tat: dict[str, float], last: dict[str, float], ner_en: float, ner_t: float, probe: float):
    acc = lambda t: {k: {"xx2en": v, "en2xx": v, "n": 200} for k, v in t.items()}  # noqa: E731
    d.mkdir(parents=True, exist_ok=True)
    (d / "results.json").write_text(json.dumps({"tasks": {
        "tatoeba": {"layer": 6, "accuracy": acc(tat), "average": 0.0,
                    "layers": {"6": {"accuracy": acc(tat), "average": 0.0},
                               "12": {"accuracy": acc(last), "average": 0.0}}},
        "ner": {"wikiann": {"source_f1": ner_en, "target_mean_f1": ner_t, "transfer_gap": ner_en - ner_t}},
        "probe": {"xfactr": {"average": {"macro": probe}}, "kg": {"average": {"macro": None}}}}}))


def test_scores_split_seen_and_unseen_languages(repro, tmp_path):
    _results(tmp_path, {"deu": 0.9, "fra": 0.7, "swh": 0.2, "tha": 0.4}, {"deu": 0.5, "fra": 0.5, "swh": 0.1,
                                                                          "tha": 0.1}, 0.8, 0.5, 0.1)
    s = repro.scores(json.loads((tmp_path / "results.json").read_text()))
    assert s["tatoeba L6 seen"] == pytest.approx(80.0) and s["tatoeba L6 unseen"] == pytest.approx(30.0)
    assert s["tatoeba L12 seen"] == pytest.approx(50.0) and s["tatoeba L12 unseen"] == pytest.approx(10.0)
    assert s["ner en"] == pytest.approx(80.0) and s["ner targets"] == pytest.approx(50.0)
    assert s["probe xfactr"] == pytest.approx(10.0) and s["probe kg"] is None


def test_mdd_is_the_half_width_of_the_95_percent_interval(repro):
    assert repro.mdd([1.0, 2.0, 3.0]) == pytest.approx(4.303 / math.sqrt(3))     # sd 1, n 3, t(0.975, 2)
    assert repro.mdd([0.5, 0.5]) == pytest.approx(0.0)
    assert repro.mdd([1.0]) is None


def test_table_pairs_seeds_and_draws_the_figure(repro, tmp_path):
    cpu = repro.SETTINGS["cpu"]
    for arm, k in (("mmlm", 0.0), ("tlm", 0.1)):
        for seed, m in ((0, 0.0), (1, 0.2), (2, 0.1)):
            _results(tmp_path / "eval" / repro.run_name(arm, seed, cpu), {"deu": 0.5 + k + m, "fra": 0.5 + k + m,
                                                                          "swh": 0.1},
                     {"deu": 0.4, "fra": 0.4, "swh": 0.1}, 0.8, 0.5 + k, 0.0)
    _results(tmp_path / "eval" / "init", {"deu": 0.9, "fra": 0.9, "swh": 0.3}, {"deu": 0.9, "fra": 0.9, "swh": 0.3},
             0.4, 0.2, 0.0)
    res = repro.collect(tmp_path, ["init", "mmlm", "tlm"], [0, 1, 2], cpu)
    # the frozen-feature evaluation draws nothing at random: the init is evaluated once and stands for every seed
    assert res["init"]["ner en"] == pytest.approx([40.0] * 3)
    assert repro.run_name("init", 1, repro.SETTINGS["gpu"]) == "init-s1"
    res.pop("init")
    md = repro.table(res, ["mmlm", "tlm"]).splitlines()
    assert md[0].startswith("| arm | tatoeba L6 seen | tatoeba L6 unseen | tatoeba L12 seen")
    assert md[2].startswith("| MMLM | 60.0 ± 10.0 | 10.0 ± 0.0 |")
    # the differences are paired per seed: +10 each time, so the spread is 0 and so is the MDD
    tlm = next(x for x in md if x.startswith("| MMLM + TLM | +"))
    assert tlm.startswith("| MMLM + TLM | +10.0 ± 0.0 [0.0] | +0.0 ± 0.0 [0.0] |")
    assert tlm.endswith("| floor | – |")       # X-FACTR is 0 in every run: no difference; the KG probe has no number
    assert md[-1].startswith("floor: probe xfactr scored 0 in every run")
    repro.figure(res, ["mmlm", "tlm"], tmp_path / "repro.png")
    assert (tmp_path / "repro.png").stat().st_size > 1000


def test_the_report_shows_the_table_and_figure_or_leaves_the_section_out(tmp_path):
    from jobs.report.assemble import write_report

    run = tmp_path / "run"
    run.mkdir()
    text = Path(write_report(str(run))).read_text()
    assert "make repro" not in text                                # no repro directory: no section
    rep = tmp_path / "repro"
    rep.mkdir()
    (rep / "table.md").write_text("# Reproduction\n\n| arm | x |\n|---|---:|\n| MMLM | 1.0 ± 0.1 |\n")
    (rep / "repro.png").write_bytes(b"\x89PNG fake")
    out = Path(write_report(str(run), repro=str(rep)))
    text = out.read_text()
    assert "## The reproduction from the real init (`make repro`)" in text
    assert "| MMLM | 1.0 ± 0.1 |" in text and "# Reproduction" not in text
    assert "![each arm's mean with every seed's value](repro.png)" in text and (out.parent / "repro.png").exists()


def test_training_signal_reads_the_head_fit_and_the_mmlm_runs(repro, tmp_path):
    s = dict(repro.SETTINGS["cpu"], head_steps=30, steps=40)

    def metrics(d: Path, losses):
        d.mkdir(parents=True)
        rows = [{"step": i + 1, "task": "mmlm", "loss": v} for i, v in enumerate(losses)]
        rows.insert(2, {"step": 3, "task": "mmlm", "loss": 99.0})    # logged before a kill, again after the resume
        (d / "metrics.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")

    metrics(tmp_path / "head-fit", [9.0] * 10 + [6.0] * 20)
    metrics(tmp_path / "runs" / "mmlm-s0", [5.0] * 10 + [4.5] * 10 + [4.0] * 20)
    sig = repro.training_signal(tmp_path, [0, 1], s)
    assert sig["init (fitted head), last 20 head-fit steps"] == pytest.approx(6.0)
    assert sig["mmlm"] == {0: {"first 10": pytest.approx(5.0), "last 20": pytest.approx(4.0)}}
    assert "the init with its fitted head 6.00" in repro.signal_text(sig) and "seed 0: 5.00" in repro.signal_text(sig)


def test_a_cache_of_other_settings_is_refused(repro, tmp_path):
    cpu = dict(repro.SETTINGS["cpu"])
    repro.check_cache(tmp_path, cpu)
    repro.check_cache(tmp_path, dict(cpu, jobs=1))                 # how many at a time changes no result
    with pytest.raises(SystemExit, match="tatoeba_pairs: 100 -> 50"):
        repro.check_cache(tmp_path, dict(cpu, tatoeba_pairs=50))
