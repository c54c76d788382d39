"""``python -m trainer.evaluate.compare``: two evaluations side by side, on hand-made results."""

from __future__ import annotations

import json

from trainer.evaluate import compare


def results(tatoeba: dict, probe: dict) -> dict:
    return {"tasks": {"tatoeba": {"accuracy": {k: {"xx2en": a, "en2xx": b, "n": 10} for k, (a, b) in tatoeba.items()}},
                      "probe": {"kg": {"accuracy": {k: {"acc": v, "n": 0 if v is None else 5}
                                                    for k, v in probe.items()}}}}}


def test_side_by_side_with_the_difference_in_points(tmp_path, capsys):
    for name, res in (("a", results({"deu": (0.9, 0.7)}, {"de": 0.0, "es": None})),
                      ("b", results({"deu": (0.95, 0.85), "fra": (0.5, 0.5)}, {"de": 0.2}))):
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.json").write_text(json.dumps(res))
    out = tmp_path / "cmp.md"
    assert compare.main([f"init={tmp_path / 'a'}", f"trained={tmp_path / 'b'}", "--out", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert lines[0] == "| task | language | init | trained | trained − init |"
    assert "| Tatoeba (mean of both directions) | deu | 80.0 | 90.0 | +10.0 |" in lines
    assert "| Tatoeba (mean of both directions) | fra | — | 50.0 | — |" in lines
    assert "| probe kg accuracy | de | 0.0 | 20.0 | +20.0 |" in lines
    assert not [x for x in lines if "| es |" in x]            # no facts in that language: no score
    assert capsys.readouterr().out.strip() == out.read_text().strip()


def test_a_missing_evaluation_is_one_line(tmp_path, capsys):
    assert compare.main([f"init={tmp_path / 'nope'}"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("compare: ") and "results.json does not exist" in err[0]
    assert compare.main(["just-a-dir"]) == 2
    assert "NAME=DIR" in capsys.readouterr().err
