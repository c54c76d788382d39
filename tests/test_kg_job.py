"""The knowledge-graph job end to end (local[2]), checked against a plain-Python reading."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import json
import os
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import SAMPLE_DUMP
from jobs import build_kg
from xlkit_core.fsio import byte_ranges

pytestmark = pytest.mark.spark

NOT_WIKIPEDIA = ("commonswiki", "specieswiki", "metawiki", "wikidatawiki", "mediawikiwiki", "sourceswiki")
SISTERS = ("wikiquote", "wikisource", "wikivoyage", "wikibooks", "wikinews", "wiktionary", "wikiversity")


def plain_reading(data: bytes) -> dict:
    """Counts computed with the standard json module only, independently of kg_pipeline."""
    c = Counter()
    qids = []
    for raw in data.decode("utf-8").split("\n"):
        raw = raw.strip().rstrip(",")
        if raw in ("[", "]", ""):
            continue
        e = json.loads(raw)
        qids.append(e["id"])
        c[e["type"]] += 1
        sitelinks = e.get("sitelinks") or {}
        for site in sitelinks:
            if site.endswith("wiki") and site not in NOT_WIKIPEDIA:
                c["wikipedia_sitelinks"] += 1
            if site == "enwiki":
                c["enwiki"] += 1
        for statements in (e.get("claims") or {}).values():
            for st in statements:
                snak = st["mainsnak"]
                if snak["snaktype"] != "value" or snak["datavalue"]["type"] != "wikibase-entityid":
                    continue
                if snak["datavalue"]["value"]["entity-type"] != "item":
                    continue
                if st["rank"] == "deprecated":
                    c["deprecated_item_statements"] += 1
                else:
                    c["item_triples"] += 1
                    if snak["property"] == "P31":
                        c["instance_of"] += 1
    c["qids"] = qids
    return c


def run(args) -> int:
    return build_kg.main([str(a) for a in args])


def table(out: Path, name: str):
    return pq.read_table(out / name)  # every part of the directory, in file-name order


def file_hashes(out: Path) -> dict[str, str]:
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*.parquet"))}


@pytest.fixture(scope="module")
def real_kg(spark, wikidata_dump, tmp_path_factory):
    out = tmp_path_factory.mktemp("kg") / "real"
    assert run(["--input", wikidata_dump, "--out", out, "--split-mb", "0.25"]) == 0
    return out


def test_real_dump_exact_counts(real_kg, wikidata_dump):
    expected = plain_reading(bz2.decompress(wikidata_dump.read_bytes()))
    assert (expected["item"], expected["property"]) == (267, 870)  # what SOURCES.md says of this extract
    ents = table(real_kg, "entities")
    assert ents.num_rows == 1137
    assert ents.column("qid").to_pylist() == expected["qids"]  # dump order
    assert Counter(ents.column("kind").to_pylist()) == {"item": 267, "property": 870}
    sl = table(real_kg, "sitelinks")
    assert sl.num_rows == expected["wikipedia_sitelinks"]
    assert sl.column("site").to_pylist().count("enwiki") == expected["enwiki"]
    tr = table(real_kg, "triples")
    assert tr.num_rows == expected["item_triples"]
    assert sum(len(v) for v in ents.column("instance_of").to_pylist()) == expected["instance_of"]
    assert table(real_kg, "properties").num_rows == 870
    assert table(real_kg, "rejects").num_rows == 0
    m = json.loads((real_kg / "_manifest.json").read_text())
    assert m["tables"]["entities"]["rows"] == 1137
    assert m["tables"]["sitelinks"]["by_lang"]["en"] == expected["enwiki"]
    assert m["skipped"]["statements_deprecated"] == expected["deprecated_item_statements"]
    assert m["inputs"][0]["size"] == wikidata_dump.stat().st_size
    assert set(m["versions"]) >= {"python", "pyspark", "pyarrow", "java"}
    assert not list(real_kg.parent.glob(".real.tmp-*"))


def test_rerun_gives_same_bytes_and_split_size_does_not_matter(real_kg, wikidata_dump, tmp_path):
    again = tmp_path / "again"
    assert run(["--input", wikidata_dump, "--out", again, "--split-mb", "0.25"]) == 0
    assert file_hashes(again) == file_hashes(real_kg)
    one = tmp_path / "one"
    assert run(["--input", wikidata_dump, "--out", one]) == 0
    # the default cuts even this 1.2 MiB file in two (splits of at least 1 MiB), so both cores work
    assert len(list((one / "entities").iterdir())) == len(byte_ranges(wikidata_dump.stat().st_size, 64 << 20)) == 2
    for name in ("entities", "sitelinks", "triples", "properties"):
        assert table(one, name).equals(table(real_kg, name)), name


def test_plain_and_gzip_inputs_agree(real_kg, wikidata_dump, tmp_path):
    data = bz2.decompress(wikidata_dump.read_bytes())
    (tmp_path / "d.json").write_bytes(data)
    (tmp_path / "d.json.gz").write_bytes(gzip.compress(data))
    for name in ("d.json", "d.json.gz"):
        out = tmp_path / f"out-{name}"
        assert run(["--input", tmp_path / name, "--out", out, "--split-mb", "0.5"]) == 0
        for t in ("entities", "sitelinks", "triples", "properties"):
            assert table(out, t).equals(table(real_kg, t)), (name, t)


def test_langs_filter(spark, wikidata_dump, tmp_path):
    out = tmp_path / "kg"
    assert run(["--input", wikidata_dump, "--out", out, "--langs", "de,zh-yue"]) == 0
    ents = table(out, "entities").to_pylist()
    assert {k for e in ents for k, _ in e["labels"]} <= {"de", "zh-yue"}
    assert set(table(out, "sitelinks").column("lang").to_pylist()) == {"de", "zh-yue"}
    assert json.loads((out / "_manifest.json").read_text())["config"]["langs"] == ["de", "zh-yue"]


def test_api_responses_missing_and_duplicates(spark, entity_records, tmp_path):
    out = tmp_path / "api"
    assert run(["--input", entity_records / "wikidata-toolkit", "--input", entity_records / "dahlia-wikidata",
                "--out", out]) == 0
    qids = table(out, "entities").column("qid").to_pylist()
    # Q42 comes in two files and is kept once; Q6 is "missing"; Q16231742 redirects to Q3571994
    assert sorted(qids) == sorted(["Q131261", "Q42", "Q1", "P31", "P434", "Q1299", "Q3571994", "Q20145", "Q494290"])
    m = json.loads((out / "_manifest.json").read_text())
    assert m["skipped"]["entities"] == {"missing": 1, "duplicate": 1}
    assert m["config"]["dedup_active"] is True
    props = table(out, "properties").to_pylist()
    assert {p["pid"]: p["datatype"] for p in props} == {"P31": "wikibase-item", "P434": "external-id"}


def _dump_with_bad_lines(path: Path, wikidata_dump: Path) -> list[tuple[int, bytes]]:
    lines = bz2.decompress(wikidata_dump.read_bytes()).split(b"\n")
    bad = {5: b'{"id":"Q99999999","type":"item",,,},', 600: b"garbage that is not json,",
           1100: b'{"type":"item","labels":{}},'}
    for no in sorted(bad):  # ascending, so that each lands on its line number
        lines.insert(no - 1, bad[no])
    path.write_bytes(b"\n".join(lines))
    return sorted(bad.items())


def test_rejects_are_quarantined_with_position(spark, wikidata_dump, tmp_path):
    plain = tmp_path / "bad.json"
    bad = _dump_with_bad_lines(plain, wikidata_dump)
    data = plain.read_bytes()
    (tmp_path / "bad.json.bz2").write_bytes(bz2.compress(data))
    for src in (plain, tmp_path / "bad.json.bz2"):
        out = tmp_path / f"out-{src.name}"
        assert run(["--input", src, "--out", out, "--split-mb", "0.2", "--max-reject-fraction", "0.01"]) == 0
        rej = table(out, "rejects").to_pylist()
        assert [(r["line"], r["reason"]) for r in rej] == [(5, "bad_json"), (600, "bad_json"), (1100, "missing_id")]
        for r, (_, raw) in zip(rej, bad, strict=True):
            assert data[r["offset"]:].startswith(raw)
            assert r["source"] == str(src) and len(r["excerpt"]) <= 200
        assert table(out, "entities").num_rows == 1137


def test_too_many_rejects_fail_without_output(spark, wikidata_dump, tmp_path, capsys):
    plain = tmp_path / "bad.json"
    _dump_with_bad_lines(plain, wikidata_dump)
    out = tmp_path / "out"
    assert run(["--input", plain, "--out", out]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "3 of 1,140 entity lines are malformed" in err and "bad_json: 2" in err and "MAX_REJECT_FRACTION" in err
    assert not out.exists() and os.listdir(tmp_path) == ["bad.json"]


@pytest.mark.parametrize("codec", ["bz2", "gz"])
def test_truncated_file_fails_naming_it(spark, wikidata_dump, tmp_path, capsys, codec):
    data = bz2.decompress(wikidata_dump.read_bytes())
    packed = bz2.compress(data) if codec == "bz2" else gzip.compress(data)
    src = tmp_path / f"cut.json.{codec}"
    src.write_bytes(packed[: len(packed) * 3 // 4])
    out = tmp_path / "out"
    assert run(["--input", src, "--out", out, "--split-mb", "0.2"]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("build_kg: error: ") and str(src) in err and "truncated" in err
    assert "Traceback" not in err and not out.exists() and os.listdir(tmp_path) == [src.name]


def test_existing_output_needs_overwrite(real_kg, wikidata_dump, tmp_path, capsys):
    out = tmp_path / "kg"
    out.mkdir()
    (out / "old.txt").write_text("x")
    assert run(["--input", wikidata_dump, "--out", out]) == 2
    assert "already exists: pass --overwrite" in capsys.readouterr().err
    assert run(["--input", SAMPLE_DUMP, "--out", out, "--overwrite"]) == 0
    assert not (out / "old.txt").exists() and (out / "_manifest.json").exists()


def test_outputs_open_in_duckdb_and_polars(real_kg):
    import duckdb
    import polars as pl

    n = duckdb.sql(f"select count(*) from read_parquet('{real_kg}/sitelinks/*.parquet') where lang = 'en'").fetchall()[0][0]
    m = json.loads((real_kg / "_manifest.json").read_text())
    assert n == m["tables"]["sitelinks"]["by_lang"]["en"]
    label = duckdb.sql(f"select labels['en'] from read_parquet('{real_kg}/entities/*.parquet') where qid = 'Q1'").fetchall()[0][0]
    assert label == "universe"
    df = pl.read_parquet(f"{real_kg}/triples/*.parquet")
    assert df.height == m["tables"]["triples"]["rows"]


def test_embedded_sample(spark, tmp_path):
    out = tmp_path / "demo"
    assert run(["--input", SAMPLE_DUMP, "--out", out]) == 0
    expected = plain_reading(bz2.decompress(SAMPLE_DUMP.read_bytes()))
    ents = table(out, "entities")
    assert ents.num_rows == expected["item"] + expected["property"]
    assert table(out, "triples").num_rows == expected["item_triples"]
    assert table(out, "sitelinks").num_rows == expected["wikipedia_sitelinks"]
    labels = {r["qid"]: dict(r["labels"]) for r in ents.to_pylist()}
    assert labels["Q64"]["zh"] == "柏林" and labels["Q183"]["de"] == "Deutschland"
