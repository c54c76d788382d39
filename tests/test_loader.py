"""The shard loader: verification on open, deterministic resumable order, disjoint ranks."""

from __future__ import annotations

import json

import pytest

from jobs.build_shards import write_manifests
from trainer.data import DocStore, TaskStream
from xlkit_core.shards import ShardFormatError, ShardSet, ShardWriter

N = 1003  # not a multiple of the rank count


@pytest.fixture
def pairs_dir(tmp_path):
    results = []
    for part in range(3):
        w = ShardWriter(str(tmp_path), "pairs", part, max_rows=150, batch_rows=64)
        for i in range(part * 400, min(N, part * 400 + 400)):
            w.append({"src_ids": [i, i + 1], "tgt_ids": [i], "src_lang": "de", "tgt_lang": "en", "source": "t"},
                     "de", 3)
        results.append(w.close())
    write_manifests(str(tmp_path), results, {"tokenizer_sha256": "abc", "max_len": 64, "max_rows": 150,
                                             "corpus": "x", "duration_s": 0})
    return tmp_path / "pairs"


def test_open_reads_every_row_in_order(pairs_dir):
    s = ShardSet.open(str(pairs_dir))
    assert len(s) == N
    assert [s.row(i)["tgt_ids"][0] for i in (0, 1, 149, 150, 399, 400, N - 1)] == [0, 1, 149, 150, 399, 400, N - 1]
    m = json.loads((pairs_dir / "manifest.json").read_text())
    assert m["rows"] == N and m["tokens_by_lang"] == {"de": 3 * N}
    assert all(f["rows"] <= 150 for f in m["files"]) and len(m["files"]) == 8


def test_resume_gives_the_same_stream(pairs_dir):
    s = ShardSet.open(str(pairs_dir))
    full = TaskStream(s, seed=7).take(2500)  # crosses two epoch boundaries
    a = TaskStream(s, seed=7)
    first = a.take(1234)
    state = json.loads(json.dumps(a.state_dict()))
    b = TaskStream(s, seed=7)
    b.load_state_dict(state)
    assert first + b.take(2500 - 1234) == full
    assert TaskStream(s, seed=8).take(50) != full[:50]


def test_two_ranks_no_overlap_no_loss(pairs_dir):
    s = ShardSet.open(str(pairs_dir))
    r0 = TaskStream(s, seed=3, rank=0, world_size=2)
    r1 = TaskStream(s, seed=3, rank=1, world_size=2)
    seen0 = [x["tgt_ids"][0] for x in r0.take(502)]
    seen1 = [x["tgt_ids"][0] for x in r1.take(501)]
    assert not set(seen0) & set(seen1)
    assert sorted(seen0 + seen1) == list(range(N))
    assert r1.epoch == 0 and r1.take(1) and r1.epoch == 1  # rank 1 had 501 rows in epoch 0
    with pytest.raises(ValueError, match="seed/rank/world"):
        r0.load_state_dict(r1.state_dict())


def test_tampered_truncated_and_wrong_version(pairs_dir):
    files = sorted(pairs_dir.glob("part-*.arrow"))
    data = bytearray(files[2].read_bytes())
    data[len(data) // 2] ^= 0xFF
    files[2].write_bytes(bytes(data))
    with pytest.raises(ShardFormatError, match=r"part-00000-002\.arrow: sha256 does not match"):
        ShardSet.open(str(pairs_dir))
    files[3].write_bytes(files[3].read_bytes()[:100])
    with pytest.raises(ShardFormatError, match="rebuild the shards"):
        ShardSet.open(str(pairs_dir), verify=False)
    m = json.loads((pairs_dir / "manifest.json").read_text())
    m["schema_version"] = 99
    (pairs_dir / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ShardFormatError, match="schema_version 99"):
        ShardSet.open(str(pairs_dir))


def test_tokenizer_mismatch_and_missing_dir(pairs_dir, tmp_path):
    with pytest.raises(ShardFormatError, match="built with tokenizer abc"):
        ShardSet.open(str(pairs_dir), expect_tokenizer="def" * 10)
    with pytest.raises(ShardFormatError, match="no manifest.json"):
        ShardSet.open(str(tmp_path / "nothing"))


def test_doc_store_samples_languages(tmp_path):
    import numpy as np

    w = ShardWriter(str(tmp_path), "docs", 0, max_rows=10)
    for qid, lang in [("Q1", "en"), ("Q1", "de"), ("Q2", "ja")]:
        w.append({"qid": qid, "lang": lang, "ids": [1, 2]}, lang, 2)
    write_manifests(str(tmp_path), [w.close()], {"tokenizer_sha256": "a", "max_len": 8, "max_rows": 10,
                                                 "corpus": "x", "duration_s": 0})
    store = DocStore(ShardSet.open(str(tmp_path / "docs")))
    rng = np.random.default_rng(0)
    assert {store.sample("Q1", rng)["lang"] for _ in range(40)} == {"en", "de"}
    assert store.sample("Q2", rng)["lang"] == "ja" and store.sample("Q9", rng) is None
