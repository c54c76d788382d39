"""Bad options and a missing Java give one clear line, before any Spark starts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from conftest import ROOT, SAMPLE_DUMP
from jobs import build_kg


def last_line(capsys) -> str:
    return capsys.readouterr().err.strip().splitlines()[-1]


def test_missing_input(tmp_path, capsys):
    assert build_kg.main(["--input", str(tmp_path / "nope.json.bz2"), "--out", str(tmp_path / "o")]) == 2
    assert last_line(capsys) == f"build_kg: error: cannot read input: {tmp_path / 'nope.json.bz2'} does not exist"


def test_unreadable_input(tmp_path, capsys):
    p = tmp_path / "secret.json"
    p.write_text("[\n]\n")
    p.chmod(0)
    try:
        if os.access(p, os.R_OK):  # root reads anything
            return
        assert build_kg.main(["--input", str(p), "--out", str(tmp_path / "o")]) == 2
        assert "is not readable" in last_line(capsys)
    finally:
        p.chmod(0o644)


def test_bad_langs(tmp_path, capsys):
    assert build_kg.main(["--input", str(SAMPLE_DUMP), "--out", str(tmp_path / "o"), "--langs", "en,German"]) == 2
    line = last_line(capsys)
    assert line.startswith("build_kg: error: bad language code 'German'") and "LANGS=en,de" in line


def test_bad_reject_fraction(tmp_path, capsys):
    assert build_kg.main(["--input", str(SAMPLE_DUMP), "--out", str(tmp_path / "o"), "--max-reject-fraction", "2"]) == 2
    assert "outside [0, 1]" in last_line(capsys)


def test_not_a_dump(tmp_path, capsys):
    p = tmp_path / "page.xml"
    p.write_text("<mediawiki>\n")
    assert build_kg.main(["--input", str(p), "--out", str(tmp_path / "o")]) == 2
    assert "not a Wikidata JSON dump" in last_line(capsys)


def test_missing_java_is_one_line(tmp_path):
    java = shutil.which("java")
    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"}
    if java:
        java_dir = os.path.dirname(os.path.realpath(java))
        env["PATH"] = os.pathsep.join(d for d in env.get("PATH", "").split(os.pathsep)
                                      if d and not os.path.exists(os.path.join(d, "java")) and d != java_dir)
    proc = subprocess.run([sys.executable, str(ROOT / "jobs" / "build_kg.py"), "--input", str(SAMPLE_DUMP),
                           "--out", str(tmp_path / "o")], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("build_kg: error: Java not found") and "Java 17" in lines[0]
    assert not (tmp_path / "o").exists()


def test_help_lists_every_option():
    proc = subprocess.run([sys.executable, str(ROOT / "jobs" / "build_kg.py"), "--help"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    for opt in ("--input", "--out", "--langs", "--max-reject-fraction", "--split-mb", "--dedup", "--overwrite",
                "--master"):
        assert opt in proc.stdout


def test_make_kg_target(tmp_path, wikidata_dump):
    """The Makefile target users run, with its variables."""
    out = tmp_path / "kg"
    proc = subprocess.run(["make", "-s", "kg", f"WIKIDATA={wikidata_dump}", f"OUT={out}", "LANGS=en,de",
                           "MAX_REJECT_FRACTION=0.01"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    import json

    m = json.loads((out / "_manifest.json").read_text())
    assert m["config"]["langs"] == ["en", "de"] and m["config"]["max_reject_fraction"] == 0.01
    assert m["tables"]["entities"]["rows"] == 1137
    assert set(m["tables"]["sitelinks"]["by_lang"]) == {"en", "de"}
    again = subprocess.run(["make", "-s", "kg", f"WIKIDATA={wikidata_dump}", f"OUT={out}"], cwd=ROOT,
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 2 and "OVERWRITE=1" in again.stderr
