"""The parallel-corpus reader, cleaning and job, on real Multi30K / Tatoeba and on hand-made files.

Expected counts on the real data come from a plain-Python reading (gzip + str.split) that shares
no code with corpus_builder.parallel.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import ROOT, SHARED_DATA, require
from corpus_builder.parallel import (
    CleanConfig,
    LineCountMismatch,
    PairInput,
    ReadStats,
    discover,
    pair_drop_reason,
    parse_spec,
    plan_inputs,
    read_pairs,
)
from jobs import build_parallel
from xlkit_core.errors import ConfigError, InputError
from xlkit_core.langs import TATOEBA, normalise

MULTI30K = SHARED_DATA / "multi30k" / "task1-raw"
TATOEBA_DIR = SHARED_DATA / "tatoeba-laser"
SAMPLES = ROOT / "samples" / "parallel"
# The 75 languages of the LASER Tatoeba sets, as SOURCES.md lists them.
TATOEBA_LANGS = ("afr ara ben cmn deu eus fin fra hin hun ind ita jav kaz mal nld por rus spa tam tel tgl tur urd "
                 "amh ang arz ast aze bel bos bre cbk ceb cha cor cym dan dtp epo fry gla glg gsw hsb hye ile ina "
                 "kab khm kzj lat lit lvs mhr mkd nds nno nov oci pam pms ron slk sqi srp swg tat tzl uig uzb war "
                 "xho yid zsm").split()
DEFAULT = CleanConfig()


# ---- plain-Python reference ------------------------------------------------------------------

def plain_lines(path: Path) -> list[str]:
    data = (gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()).decode("utf-8")
    assert data.endswith("\n")
    return data[:-1].split("\n")


def plain_clean(groups, max_length=1000, max_ratio=9.0):
    """groups: [(src_lang, tgt_lang, source, split, src_lines, tgt_lines)] in input order ->
    (kept rows, drop counts per source, by reason). Duplicates are checked over the whole job."""
    seen, rows, drops = set(), [], Counter()
    for sl, tl, source, split, a, b in groups:
        for s, t in zip(a, b, strict=True):
            s, t = s.strip(), t.strip()
            n = sorted((len(s), len(t)))
            if not s or not t:
                drops[source, "empty"] += 1
            elif s == t:
                drops[source, "identical"] += 1
            elif n[1] > max_length:
                drops[source, "too_long"] += 1
            elif n[1] > max_ratio * max(n[0], 1):
                drops[source, "ratio"] += 1
            elif (sl, tl, s, t) in seen:
                drops[source, "duplicate"] += 1
            else:
                seen.add((sl, tl, s, t))
                rows.append((sl, tl, s, t, source, split))
    return rows, drops


def read_all(inp: PairInput, cfg: CleanConfig = DEFAULT, encoding: str = "utf-8", cols=(0, 1)):
    stats, rejects = ReadStats(), []
    pairs = list(read_pairs(inp, cfg, encoding, cols, stats, rejects.append))
    return pairs, stats, rejects


# ---- language codes, layouts, cleaning (no Spark) ----------------------------------------------

def test_langcodes_cover_the_75_tatoeba_languages():
    assert len(TATOEBA_LANGS) == 75 and set(TATOEBA_LANGS) <= set(TATOEBA)
    assert [normalise(c) for c in ("cmn", "zsm", "lvs", "nno", "arz", "deu", "fra", "eng", "gsw", "tgl")] == \
        ["zh", "ms", "lv", "nn", "arz", "de", "fr", "en", "als", "tl"]
    assert [normalise(c) for c in ("de", "ZH", "zh_yue", "ceb", "jpn", "ger")] == ["de", "zh", "zh-yue", "ceb", "ja", "de"]
    with pytest.raises(ConfigError, match="not a language code"):
        normalise("deutsch!")


def test_tatoeba_directory_has_75_evaluation_pairs():
    found = discover(str(require(TATOEBA_DIR)))
    assert len(found) == 75
    assert {p.source for p in found} == {"tatoeba"} and all(p.evaluation and p.split == "test" for p in found)
    assert all(p.tgt_lang == "en" and p.paths[1].endswith(".eng") for p in found)
    assert sorted(p.src_lang for p in found) == sorted(normalise(c) for c in TATOEBA_LANGS)
    zh = next(p for p in found if p.src_lang == "zh")
    assert zh.paths[0].endswith("tatoeba.cmn-eng.cmn")


def test_multi30k_directory_pairs_with_english_as_pivot():
    found = discover(str(require(MULTI30K)))
    got = [(p.source, p.split, p.pair, os.path.basename(p.paths[0]), os.path.basename(p.paths[1])) for p in found]
    assert got == [(f"multi30k/{prefix}", split, f"{lang}-en", f"{prefix}.{lang}.gz", f"{prefix}.en.gz")
                   for prefix, split in (("test_2016_flickr", "test"), ("train", "train"), ("val", "val"))
                   for lang in ("cs", "de", "fr")]
    assert not any(p.evaluation for p in found)
    # src-tgt=DIR keeps that pair, in that order (here English becomes the source)
    assert [(p.pair, os.path.basename(p.paths[0])) for p in parse_spec(f"en-de={MULTI30K}")] == \
        [("en-de", "test_2016_flickr.en.gz"), ("en-de", "train.en.gz"), ("en-de", "val.en.gz")]


@pytest.mark.parametrize("lang,expected_code", [("deu", "de"), ("cmn", "zh"), ("fra", "fr")])
def test_reader_on_real_tatoeba(lang, expected_code):
    a = require(TATOEBA_DIR / f"tatoeba.{lang}-eng.{lang}")
    b = TATOEBA_DIR / f"tatoeba.{lang}-eng.eng"
    [inp] = parse_spec(f"{a},{b}")
    assert (inp.src_lang, inp.tgt_lang, inp.source, inp.split, inp.evaluation) == (expected_code, "en", "tatoeba", "test", True)
    pairs, stats, rejects = read_all(inp)
    src, tgt = plain_lines(a), plain_lines(b)
    expected, drops = plain_clean([(expected_code, "en", "tatoeba", "test", src, tgt)])
    assert stats.counters["read"] == len(src) == 1000
    assert [(p.src_lang, p.tgt_lang, p.src, p.tgt, p.source, p.split) for p in pairs] == expected
    assert {k: v for k, v in stats.counters.items() if k.startswith("dropped.")} == \
        {f"dropped.{r}": n for (_, r), n in drops.items()}
    assert rejects == [] and [f["lines"] for f in stats.files] == [1000, 1000]
    assert stats.files[0]["sha256"] == hashlib.sha256(a.read_bytes()).hexdigest()
    if lang == "cmn":  # Chinese is shorter in characters: some pairs pass 9x, which is the ratio filter's job
        assert drops["tatoeba", "ratio"] >= 1
    else:
        assert len(pairs) == 1000


@pytest.mark.parametrize("src,tgt,reason", [
    ("", "Berlin", "empty"), ("Paris", "   ", "empty"), ("Berlin.", "Berlin.", "identical"),
    ("x" * 1001, "y", "too_long"), ("ab", "x" * 19, "ratio"), ("ab", "x" * 18, None), ("Berlin ist groß.", "Berlin is big.", None),
])
def test_pair_drop_reasons(src, tgt, reason):
    assert pair_drop_reason(src.strip(), tgt.strip(), DEFAULT) == reason


def test_token_lengths_and_options():
    tokens = CleanConfig(max_length=3, length_unit="tokens", max_ratio=2)
    assert pair_drop_reason("a b c", "x y z", tokens) is None
    assert pair_drop_reason("a b c d", "x y z", tokens) == "too_long"
    assert pair_drop_reason("a", "x y z", tokens) == "ratio"
    assert pair_drop_reason("same", "same", CleanConfig(drop_identical=False)) is None
    with pytest.raises(ConfigError, match="chars or tokens"):
        CleanConfig(length_unit="bytes")
    with pytest.raises(ConfigError, match="max-ratio"):
        CleanConfig(max_ratio=0.5)


def test_reader_gz_crlf_bom_tsv_and_unequal_files(tmp_path):
    (tmp_path / "c.de.gz").write_bytes(gzip.compress("\ufeffHallo Welt\r\nZwei\r\n".encode()))
    (tmp_path / "c.en").write_bytes(b"Hello world\nTwo")  # no final newline: still two lines
    [inp] = parse_spec(f"{tmp_path / 'c.de.gz'},{tmp_path / 'c.en'}")
    assert (inp.pair, inp.source, inp.split, inp.evaluation) == ("de-en", "c", "train", False)
    pairs, stats, _ = read_all(inp)
    assert [(p.src, p.tgt, p.line) for p in pairs] == [("Hallo Welt", "Hello world", 1), ("Zwei", "Two", 2)]
    assert stats.files[0]["codec"] == "gz"

    (tmp_path / "ja-en.tsv").write_text("東京\tTokyo\nno tab here\n大阪\tOsaka\textra\n", encoding="utf-8")
    [tsv] = parse_spec(str(tmp_path / "ja-en.tsv"))
    pairs, stats, rejects = read_all(tsv)
    assert [(p.src, p.tgt) for p in pairs] == [("東京", "Tokyo"), ("大阪", "Osaka")]
    assert [(r.line, r.reason) for r in rejects] == [(2, "tsv_columns")]
    [rev] = parse_spec(f"en-ja={tmp_path}")  # the TSV found in a directory, read the other way round
    assert [(p.src, p.tgt) for p in read_all(rev)[0]] == [("Tokyo", "東京"), ("Osaka", "大阪")]

    (tmp_path / "short.en").write_text("One\n")
    [bad] = parse_spec(f"de-en={tmp_path / 'c.de.gz'},{tmp_path / 'short.en'}")
    with pytest.raises(LineCountMismatch) as e:
        read_all(bad)
    assert str(tmp_path / "c.de.gz") in str(e.value) and str(tmp_path / "short.en") in str(e.value)
    assert "has 2 lines but" in str(e.value) and "has 1" in str(e.value)


def test_undecodable_line_is_rejected_with_its_number(tmp_path):
    (tmp_path / "l.fr").write_bytes("Bonjour\nCafé crème\nMerci\n".encode("latin-1"))
    (tmp_path / "l.en").write_text("Hello\nCoffee with cream\nThanks\n")
    [inp] = parse_spec(f"{tmp_path / 'l.fr'},{tmp_path / 'l.en'}")
    pairs, stats, rejects = read_all(inp)
    assert [p.line for p in pairs] == [1, 3]
    [r] = rejects
    assert (r.source, r.line, r.offset, r.reason) == (str(tmp_path / "l.fr"), 2, 8, "undecodable")
    assert "0xe9" in r.excerpt and "Caf\\xe9" in r.excerpt
    assert stats.counters["rejected"] == 1 and stats.counters["rejects.undecodable"] == 1
    pairs, _, rejects = read_all(inp, encoding="latin-1")
    assert rejects == [] and pairs[1].src == "Café crème"


def test_spec_errors(tmp_path):
    (tmp_path / "a.txt").write_text("x\n")
    with pytest.raises(ConfigError, match="cannot tell the languages"):
        parse_spec(str(tmp_path / "a.txt"))
    with pytest.raises(ConfigError, match="not a language pair"):
        parse_spec(f"german={tmp_path / 'a.txt'}")
    with pytest.raises(InputError, match="does not exist"):
        parse_spec("de-en=nope.de,nope.en")
    with pytest.raises(InputError, match="no parallel files found"):
        discover(str(tmp_path))
    with pytest.raises(ConfigError, match="matches no source"):
        plan_inputs([str(SAMPLES)], eval_sources=("tatoeba",))
    marked = plan_inputs([str(SAMPLES)], eval_sources=("ja-*",))
    assert [(p.source, p.pair, p.fmt, p.evaluation) for p in marked] == [
        ("de-en", "de-en", "aligned", False), ("fr-en", "fr-en", "aligned", False), ("ja-en", "ja-en", "tsv", True)]


# ---- the Spark job -------------------------------------------------------------------------

def run(*args) -> int:
    return build_parallel.main([str(a) for a in args])


def table(out: Path, name: str = "parallel"):
    return pq.read_table(out / name)


def file_hashes(d: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.glob("*.parquet"))}


@pytest.mark.spark
def test_real_multi30k_and_tatoeba(spark, tmp_path):
    """The Multi30K directory (9 pairs found by name) and three Tatoeba file pairs, against plain Python."""
    m30k, tato = require(MULTI30K), require(TATOEBA_DIR)
    codes = ("cmn", "deu", "fra")
    tato_specs = [f"{tato}/tatoeba.{c}-eng.{c},{tato}/tatoeba.{c}-eng.eng" for c in codes]
    out = tmp_path / "corpus"
    assert run("--parallel", m30k, "--parallel", " ".join(tato_specs), "--out", out,
               "--eval-source", "multi30k/test*") == 0

    groups = []
    for prefix, split in (("test_2016_flickr", "test"), ("train", "train"), ("val", "val")):
        en = plain_lines(m30k / f"{prefix}.en.gz")
        assert len(en) == {"train": 29_000, "val": 1_014, "test": 1_000}[split]
        for lang in ("cs", "de", "fr"):
            groups.append((lang, "en", f"multi30k/{prefix}", split, plain_lines(m30k / f"{prefix}.{lang}.gz"), en))
    for code in codes:
        groups.append((normalise(code), "en", "tatoeba", "test", plain_lines(tato / f"tatoeba.{code}-eng.{code}"),
                       plain_lines(tato / f"tatoeba.{code}-eng.eng")))
    expected, drops = plain_clean(groups)

    t = table(out)
    got = list(zip(*(t.column(c).to_pylist() for c in ("src_lang", "tgt_lang", "src", "tgt", "source", "split")),
                   strict=True))
    assert got == expected
    assert t.column("alignment").null_count == t.num_rows
    m = json.loads((out / "parallel" / "_manifest.json").read_text())
    assert m["evaluation_sources"] == ["multi30k/test_2016_flickr", "tatoeba"]
    src = m["sources"]
    assert src["multi30k/train"]["read"] == 3 * 29_000 and src["multi30k/val"]["read"] == 3 * 1_014
    assert src["multi30k/test_2016_flickr"]["read"] == 3 * 1_000
    assert src["multi30k/train"]["by_pair"]["de-en"]["read"] == 29_000
    assert src["tatoeba"]["by_pair"]["de-en"] == {"rows": 1000, "read": 1000, "rejected": 0, "dropped": {}}
    assert src["tatoeba"]["by_pair"]["zh-en"]["rows"] == sum(1 for r in expected if r[0] == "zh" and r[4] == "tatoeba")
    assert src["tatoeba"]["evaluation"] and not src["multi30k/train"]["evaluation"]
    for name, s in src.items():
        assert s["rows"] == sum(1 for r in expected if r[4] == name)
        assert s["dropped"] == {r: n for (source, r), n in sorted(drops.items()) if source == name}
    assert drops["multi30k/train", "duplicate"] > 0  # the real data does repeat pairs
    assert m["tables"]["parallel"]["rows"] == len(expected) and m["tables"]["parallel_rejects"]["rows"] == 0
    assert sorted(os.listdir(out)) == ["parallel", "parallel_rejects"]


def _handmade(d: Path) -> None:
    d.mkdir()
    (d / "a.de").write_text("Berlin ist groß.\n\nBerlin.\n" + "x" * 1001 + "\nJa\nBerlin ist groß.\nZwei Städte.\n"
                            "Eins\n")
    (d / "a.en").write_text("Berlin is big.\nEmpty left\nBerlin.\ny\nYes, this answer is far too long\n"
                            "Berlin is big.\nTwo cities.\nOne\n")
    # the second input repeats a pair of the first (dropped) and has one undecodable line
    (d / "b.de").write_bytes(b"Zwei St\xc3\xa4dte.\nGr\xfc\xdfe\nDrei\n")  # UTF-8, then latin-1 "Grüße"
    (d / "b.en").write_text("Two cities.\nGreetings\nThree\n")


@pytest.mark.spark
def test_cleaning_rejects_rerun_and_overwrite(spark, tmp_path, capsys):
    _handmade(tmp_path / "in")
    d = tmp_path / "in"
    spec = f"de-en={d / 'a.de'},{d / 'a.en'} de-en={d / 'b.de'},{d / 'b.en'}"
    out = tmp_path / "corpus"
    assert run("--parallel", spec, "--out", out, "--max-reject-fraction", "0.5") == 0
    rows = table(out).to_pylist()
    assert [(r["src"], r["tgt"], r["source"]) for r in rows] == [
        ("Berlin ist groß.", "Berlin is big.", "a"), ("Zwei Städte.", "Two cities.", "a"), ("Eins", "One", "a"),
        ("Drei", "Three", "b")]
    m = json.loads((out / "parallel" / "_manifest.json").read_text())
    assert m["sources"]["a"]["dropped"] == {"duplicate": 1, "empty": 1, "identical": 1, "ratio": 1, "too_long": 1}
    assert m["sources"]["b"]["dropped"] == {"duplicate": 1} and m["sources"]["b"]["rejected"] == 1
    assert m["dropped"]["by_reason"] == {"duplicate": 2, "empty": 1, "identical": 1, "ratio": 1, "too_long": 1}
    [rej] = table(out, "parallel_rejects").to_pylist()
    assert (rej["source"], rej["line"], rej["reason"]) == (str(d / "b.de"), 2, "undecodable")
    assert m["rejects"]["by_reason"] == {"undecodable": 1}
    assert "pairs/s" in capsys.readouterr().err

    # a rerun gives the same bytes; an existing table needs --overwrite
    before = file_hashes(out / "parallel") | {"rejects": file_hashes(out / "parallel_rejects")}
    assert run("--parallel", spec, "--out", out, "--max-reject-fraction", "0.5") == 2
    assert "--overwrite" in capsys.readouterr().err
    assert run("--parallel", spec, "--out", out, "--max-reject-fraction", "0.5", "--overwrite") == 0
    assert file_hashes(out / "parallel") | {"rejects": file_hashes(out / "parallel_rejects")} == before
    assert sorted(os.listdir(out)) == ["parallel", "parallel_rejects"]

    # the default threshold fails the job and says to check the encoding; --encoding latin-1 reads the line
    fresh = tmp_path / "fresh"
    assert run("--parallel", spec, "--out", fresh) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "1 of 11 pairs were rejected" in err and "--encoding" in err and not fresh.exists()
    assert run("--parallel", f"de-en={d / 'b.de'},{d / 'b.en'}", "--out", fresh, "--encoding", "latin-1") == 0
    assert table(fresh).column("src").to_pylist()[:2] == ["Zwei StÃ¤dte.", "Grüße"]  # what latin-1 makes of each


@pytest.mark.spark
def test_unequal_files_fail_naming_both_and_write_nothing(spark, tmp_path, capsys):
    (tmp_path / "x.de").write_text("Eins\nZwei\nDrei\n")
    (tmp_path / "x.en").write_text("One\nTwo\n")
    out = tmp_path / "corpus"
    out.mkdir()
    assert run("--parallel", f"{tmp_path / 'x.de'},{tmp_path / 'x.en'}", "--out", out) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert all(line.startswith("build_parallel: ") for line in err)  # no stack trace
    last = err[-1]
    assert last.startswith("build_parallel: error: ") and str(tmp_path / "x.de") in last and str(tmp_path / "x.en") in last
    assert "3 lines" in last and "has 2" in last
    assert os.listdir(out) == []


@pytest.mark.spark
def test_align_fills_the_alignment_column(spark, tmp_path):
    try:
        from corpus_builder.align import align_corpus  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"corpus_builder.align.align_corpus is not there yet ({exc}); --align is wired but untested")
    out = tmp_path / "corpus"
    assert run("--parallel", SAMPLES, "--out", out, "--align") == 0
    rows = table(out).to_pylist()
    assert len(rows) == 88
    from xlkit_core.words import tokenize_words  # whitespace words, but every CJK character is a word

    for r in rows:
        assert r["alignment"] is not None
        n, m = len(tokenize_words(r["src"])), len(tokenize_words(r["tgt"]))
        assert all(0 <= i < n and 0 <= j < m for i, j in r["alignment"])
    assert sum(len(r["alignment"]) > 0 for r in rows) > 80


def test_train_source_makes_a_test_named_file_training_data_but_never_tatoeba(tmp_path):
    m30k, tato = require(MULTI30K), require(TATOEBA_DIR)
    spec = f"{m30k}/test_2016_flickr.de.gz,{m30k}/test_2016_flickr.en.gz"
    [plain] = plan_inputs([spec])
    assert (plain.source, plain.split, plain.evaluation) == ("multi30k/test_2016_flickr", "test", False)
    [trained] = plan_inputs([spec], train_sources=("multi30k/test_*",))
    assert (trained.split, trained.evaluation) == ("train", False)
    with pytest.raises(ConfigError, match="--eval-source marks it too"):
        plan_inputs([spec], eval_sources=("multi30k/*",), train_sources=("multi30k/*",))
    with pytest.raises(ConfigError, match="Tatoeba is the retrieval benchmark"):
        plan_inputs([f"{tato}/tatoeba.deu-eng.deu,{tato}/tatoeba.deu-eng.eng"], train_sources=("tatoeba",))
    with pytest.raises(ConfigError, match="--train-source nope matches no source"):
        plan_inputs([spec], train_sources=("nope",))


@pytest.mark.spark
def test_a_corpus_of_test_files_gets_a_tokenizer_error_that_says_so_and_how_to_fix_it(spark, tmp_path, capsys):
    """Multi30K's test_2016_flickr alone: the tokenizer refuses it, naming the rows, and --train-source fixes it."""
    from jobs import train_tokenizer

    m30k = require(MULTI30K)
    spec = f"de-en={m30k}/test_2016_flickr.de.gz,{m30k}/test_2016_flickr.en.gz"
    corpus, tok = tmp_path / "corpus", tmp_path / "tok"
    assert run("--parallel", spec, "--out", corpus) == 0
    capsys.readouterr()
    assert train_tokenizer.main(["--corpus", str(corpus), "--out", str(tok), "--vocab-size", "400"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert (f"all 1,000 rows of {corpus} are evaluation data, which never trains a tokenizer: "
            "multi30k/test_2016_flickr (test, 1,000 rows). If a file is training data, rebuild the parallel table "
            "with --train-source <source>") in err[0]
    assert run("--parallel", spec, "--out", corpus, "--train-source", "multi30k/test_2016_flickr", "--overwrite") == 0
    assert train_tokenizer.main(["--corpus", str(corpus), "--out", str(tok), "--vocab-size", "400"]) == 0
    assert (tok / "sentencepiece.bpe.model").is_file()
