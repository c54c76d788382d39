"""jobs/_sorted.py: a Spark DataFrame written sorted, by pyarrow, into a size-chosen number of files."""

from __future__ import annotations

import hashlib

import pyarrow.parquet as pq
import pytest

from jobs._sorted import count_by, file_count, write_sorted

pytestmark = pytest.mark.spark


def _frame(spark, n: int):
    rows = [("de" if i % 3 else "en", (i * 7919) % n, f"text {i}") for i in range(n)]
    return spark.createDataFrame(rows, "lang string, page_id long, text string").repartition(5)


def _hashes(path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(path.iterdir())}


@pytest.mark.parametrize("files", [1, 3])
def test_rows_come_out_globally_sorted_tallied_and_byte_stable(spark, tmp_path, files):
    n = 3000
    a = write_sorted(_frame(spark, n), str(tmp_path / "a"), ["lang", "page_id"], files, count_by("lang"))
    write_sorted(_frame(spark, n), str(tmp_path / "b"), ["lang", "page_id"], files, count_by("lang"))
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == [f"part-{i:05d}.parquet" for i in range(a.files)] and 1 <= a.files <= files
    assert files == 1 or a.files > 1
    table = pq.read_table(tmp_path / "a")
    keys = list(zip(table["lang"].to_pylist(), table["page_id"].to_pylist(), strict=True))
    assert keys == sorted(keys) and a.rows == n == table.num_rows
    assert a.tally == {("de",): 2000, ("en",): 1000}
    assert _hashes(tmp_path / "a") == _hashes(tmp_path / "b")


def test_an_empty_frame_still_gets_a_file_with_its_schema(spark, tmp_path):
    empty = _frame(spark, 30).where("page_id < 0")
    done = write_sorted(empty, str(tmp_path / "e"), ["lang", "page_id"], 2)
    assert (done.rows, done.files) == (0, 1)
    assert pq.read_table(tmp_path / "e").schema.names == ["lang", "page_id", "text"]


def test_file_count_follows_the_staged_size():
    assert file_count(0) == 1 and file_count(1) == 1
    assert file_count(512 << 20) == 1 and file_count((512 << 20) + 1) == 2
