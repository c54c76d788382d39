"""The monolingual reader (CC-100 style files, the corpus sentences table) and job, on hand-made inputs."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpus_builder.monolingual import MonoInput, read_documents, read_sentences, text_inputs
from corpus_builder.tables import SENTENCES
from corpus_builder.textio import CleanConfig, ReadStats
from jobs import build_monolingual
from xlkit_core.errors import ConfigError

CFG = CleanConfig(max_length=40)
# A CC-100 style file: a paragraph per line, blank lines (or white space only) between documents.
CC100 = (b"\n"                                  # 1  leading blank line: no empty document
         b"Habari ya asubuhi.\n"                # 2  document 0
         b"Ni siku nzuri leo.\n"                # 3  document 0
         b"\n"                                  # 4
         b"   \n"                               # 5  white space only: still one boundary
         b"Hati ya pili.\n"                     # 6  document 1
         + b"neno " * 10 + b"\n"                # 7  document 1, 50 characters: too_long
         b"Mji wa \xff\xfe.\n"                  # 8  document 1, not UTF-8: rejected
         b"\n"                                  # 9
         b"Hati ya tatu.")                      # 10 document 2, no final newline


def read_cc100(path: Path, encoding: str = "utf-8"):
    stats, rejects = ReadStats(), []
    inp = MonoInput("text", str(path), "sw", "sw")
    records = list(read_documents(inp, CFG, encoding, stats, rejects.append))
    return records, stats, rejects


@pytest.mark.parametrize("name", ["sw.txt", "sw.txt.gz"])
def test_cc100_documents(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(gzip.compress(CC100) if name.endswith(".gz") else CC100)
    records, stats, rejects = read_cc100(path)
    assert [(r.lang, r.text, r.source, r.doc_id, r.row) for r in records] == [
        ("sw", "Habari ya asubuhi.", "sw", 0, 2), ("sw", "Ni siku nzuri leo.", "sw", 0, 3),
        ("sw", "Hati ya pili.", "sw", 1, 6), ("sw", "Hati ya tatu.", "sw", 2, 10)]
    c = stats.counters
    assert (c["lines"], c["documents"], c["read"], c["dropped.too_long"], c["rejected"]) == (10, 3, 6, 1, 1)
    [r] = rejects
    assert (r.source, r.line, r.reason) == (str(path), 8, "undecodable")
    assert r.offset == CC100.index(b"Mji wa") and "0xff" in r.excerpt
    assert stats.files[0]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_cc100_latin1(tmp_path):
    path = tmp_path / "fr.txt"
    path.write_bytes("Café\n\nCrème brûlée\n".encode("latin-1"))
    records, _, rejects = read_cc100(path, "latin-1")
    assert [(r.text, r.doc_id) for r in records] == [("Café", 0), ("Crème brûlée", 1)] and rejects == []
    records, _, rejects = read_cc100(path, "utf-8")
    assert records == [] and [r.line for r in rejects] == [1, 3]


def test_text_inputs_languages_and_sources(tmp_path):
    for name in ("sw.txt.gz", "stories.txt"):
        (tmp_path / name).write_text("x\n")
    got = text_inputs([f"{tmp_path / 'sw.txt.gz'} swa={tmp_path / 'stories.txt'}"])
    assert [(i.lang, i.source, os.path.basename(i.path)) for i in got] == [("sw", "sw", "sw.txt.gz"),
                                                                          ("sw", "stories", "stories.txt")]
    with pytest.raises(ConfigError, match="cannot tell the language"):
        text_inputs([str(tmp_path / "stories.txt")])


def write_sentences(corpus: Path) -> None:
    """A sentences table as build_corpus.py writes it: sorted by (lang, page_id, sentence_id), two parts."""
    d = corpus / "sentences"
    d.mkdir(parents=True)
    parts = [
        [("de", 7, 0, "Berlin ist eine Stadt."), ("en", 10, 0, "Berlin is a city."), ("en", 10, 1, " "),
         ("en", 10, 2, "Paris is a city.")],
        [("en", 11, 0, "Berlin is a city."), ("zh", 3, 0, "东京是城市。")],
    ]
    for i, rows in enumerate(parts):
        cols = list(zip(*rows, strict=True))
        pq.write_table(pa.table([pa.array(c, f.type) for c, f in zip(cols, SENTENCES, strict=True)], schema=SENTENCES),
                       d / f"part-{i:05d}.parquet")


def test_read_sentences(tmp_path):
    write_sentences(tmp_path)
    stats = ReadStats()
    inp = MonoInput("sentences", str(tmp_path / "sentences" / "part-00000.parquet"), "wikipedia", None)
    got = [(r.lang, r.text, r.doc_id) for r in read_sentences(inp, CFG, stats)]
    assert got == [("de", "Berlin ist eine Stadt.", 7), ("en", "Berlin is a city.", 10), ("en", "Paris is a city.", 10)]
    assert stats.counters["dropped.empty"] == 1 and stats.counters["read"] == 4


# ---- the Spark job -------------------------------------------------------------------------

def run(*args) -> int:
    return build_monolingual.main([str(a) for a in args])


@pytest.mark.spark
def test_job_from_sentences_and_cc100(spark, tmp_path, capsys):
    corpus = tmp_path / "corpus"
    write_sentences(corpus)
    text = tmp_path / "sw.txt.gz"
    text.write_bytes(gzip.compress(b"Habari.\nBerlin ni mji.\n\nHabari.\n\xff\n"))
    args = ["--out", corpus, "--text", text, "--dedup", "--max-reject-fraction", "0.5"]
    assert run(*args) == 0
    t = pq.read_table(corpus / "monolingual")
    assert t.schema.names == ["lang", "text", "source", "doc_id"]
    assert list(zip(*(t.column(c).to_pylist() for c in t.schema.names), strict=True)) == [
        ("de", "Berlin ist eine Stadt.", "wikipedia", 7), ("en", "Berlin is a city.", "wikipedia", 10),
        ("en", "Paris is a city.", "wikipedia", 10), ("zh", "东京是城市。", "wikipedia", 3),
        ("sw", "Habari.", "sw", 0), ("sw", "Berlin ni mji.", "sw", 0)]
    m = json.loads((corpus / "monolingual" / "_manifest.json").read_text())
    wiki, sw = m["sources"]["wikipedia"], m["sources"]["sw"]
    assert (wiki["rows"], wiki["read"], wiki["dropped"]) == (4, 6, {"duplicate": 1, "empty": 1})
    assert (sw["rows"], sw["read"], sw["documents"], sw["rejected"], sw["dropped"]) == (2, 4, 2, 1, {"duplicate": 1})
    assert m["tables"]["monolingual"]["by_lang"] == {"de": 1, "en": 2, "sw": 2, "zh": 1}
    [rej] = pq.read_table(corpus / "monolingual_rejects").to_pylist()
    assert (rej["source"], rej["line"], rej["reason"]) == (str(text), 5, "undecodable")
    assert "texts/s" in capsys.readouterr().err

    hashes = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (corpus / "monolingual").glob("*.parquet")}
    assert run(*args) == 2 and "--overwrite" in capsys.readouterr().err
    assert run(*args, "--overwrite") == 0
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in (corpus / "monolingual").glob("*.parquet")} == hashes
    assert sorted(os.listdir(corpus)) == ["monolingual", "monolingual_rejects", "sentences"]


def test_nothing_to_read(tmp_path, capsys):
    assert run("--out", tmp_path / "empty") == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "no sentences table" in err and "--text" in err and not (tmp_path / "empty").exists()
