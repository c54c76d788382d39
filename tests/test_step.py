"""The shape every job's task has (xlkit_core/step.py): parts committed together or not at all, one
way to fail, and the shared reject threshold; and the one markdown table writer."""

from __future__ import annotations

import json
import os
from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from xlkit_core.errors import ConfigError, InputError, RejectThresholdError, find_tagged
from xlkit_core.mdtable import md_table
from xlkit_core.step import (
    Outcome,
    by_prefix,
    check_fraction_option,
    check_reject_fraction,
    merge_counters,
    run_task,
    write_manifest,
)

SCHEMA = pa.schema([("x", pa.int64())])


def _files(root) -> list[str]:
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)


def test_a_task_commits_all_its_parts_with_their_row_counts(tmp_path):
    def body(parts):
        a = parts.open(str(tmp_path), "a", SCHEMA, 3)
        b = parts.open(str(tmp_path), "b", SCHEMA, 3)
        for i in range(5):
            a.append((i,))
        b.append((9,))
        return Outcome(3, Counter({"read": 6}), {"rows": parts.close()}).as_dict()

    out = run_task("input.txt", body)
    assert out == {"task": 3, "counters": {"read": 6}, "rows": {"a": 5, "b": 1}}
    assert _files(tmp_path) == ["a/part-00003.parquet", "b/part-00003.parquet"]
    assert pq.read_table(tmp_path / "a" / "part-00003.parquet").column("x").to_pylist() == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("error, expected", [
    (InputError("dump.xml.bz2: truncated"), "dump.xml.bz2: truncated"),
    (KeyError("lang"), "input.txt (bytes 0-10): KeyError: 'lang'"),
])
def test_a_failing_task_leaves_no_part_and_one_tagged_line(tmp_path, error, expected):
    def body(parts):
        w = parts.open(str(tmp_path), "a", SCHEMA, 0)
        for i in range(5000):           # past a flush, so a temporary file exists
            w.append((i,))
        w._flush()
        raise error

    with pytest.raises(RuntimeError) as e:
        run_task("input.txt (bytes 0-10)", body)
    assert find_tagged(str(e.value)) == expected
    assert _files(tmp_path) == []


def test_interrupts_pass_through_after_cleaning_up(tmp_path):
    def body(parts):
        parts.open(str(tmp_path), "a", SCHEMA, 0).append((1,))
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_task("x", body)
    assert _files(tmp_path) == []


def test_the_reject_threshold():
    assert check_reject_fraction(1, 1000, 0.001, {"bad_json": 1}, "lines are malformed", "Fix it.") == 0.001
    assert check_reject_fraction(0, 0, 0.0, {}, "lines are malformed", "Fix it.") == 0.0
    with pytest.raises(RejectThresholdError) as e:
        check_reject_fraction(3, 1000, 0.001, {"bad_json": 2, "bad_id": 1}, "entity lines are malformed", "Fix it.")
    assert str(e.value) == ("3 of 1,000 entity lines are malformed (0.3000% > MAX_REJECT_FRACTION=0.001); "
                            "reasons: bad_json: 2, bad_id: 1. Fix it.")
    check_fraction_option(0.0)
    with pytest.raises(ConfigError, match=r"outside \[0, 1\]"):
        check_fraction_option(1.5)


def test_counters_merge_and_group_by_prefix():
    c = merge_counters([{"counters": {"read": 2, "rejects.b": 1}}, {"counters": {"read": 3, "rejects.a": 4}}])
    assert c == Counter({"read": 5, "rejects.a": 4, "rejects.b": 1})
    assert list(by_prefix(c, "rejects").items()) == [("a", 4), ("b", 1)]


def test_a_manifest_is_written_whole(tmp_path):
    path = tmp_path / "_manifest.json"
    write_manifest(str(path), {"job": "x", "name": "Zürich"})
    assert path.read_text(encoding="utf-8") == '{\n  "job": "x",\n  "name": "Zürich"\n}\n'
    assert json.loads(path.read_text(encoding="utf-8"))["name"] == "Zürich"
    assert _files(tmp_path) == ["_manifest.json"]


def test_markdown_tables():
    assert md_table(["lang", "pages", "share"], [["de", 1200, 0.5], ["fr", None, [1, 2.25]]]) == (
        "| lang | pages | share |\n|---|---|---|\n| de | 1,200 | 0.500 |\n| fr | - | 1 / 2.25 |")
    assert md_table(["a|b", "n"], [["x|y", 3]], right={1}, escape=True) == (
        "| a\\|b | n |\n|---|---:|\n| x\\|y | 3 |")


def test_map_columns_built_from_flat_pairs_equal_pyarrows_own_conversion():
    from kg_pipeline.records import ALIAS_MAP, STR_MAP
    from xlkit_core.parts import _column

    labels = [[("en", "Berlin"), ("de", "Berlin"), ("ja", "ベルリン")], [], [("fr", "")]]
    aliases = [[("en", ["Berlin, Germany", "BER"])], [("de", [])], []]
    for values, typ in ((labels, STR_MAP), (aliases, ALIAS_MAP)):
        assert _column(values, typ).equals(pa.array(values, type=typ))
    # a null map, or dicts, take pyarrow's own path
    assert _column([None, [("en", "x")]], STR_MAP).equals(pa.array([None, [("en", "x")]], type=STR_MAP))


def test_rows_given_as_columns_are_the_rows_appended_one_by_one(tmp_path, monkeypatch):
    import xlkit_core.parts as parts_module
    from xlkit_core.parts import PartWriter

    monkeypatch.setattr(parts_module, "BATCH_ROWS", 4)       # several batches, one crossing the limit
    schema = pa.schema([("lang", pa.string()), ("n", pa.int64())])
    rows = [("en", i) for i in range(11)]
    by_row, by_column = (PartWriter(str(tmp_path / k), "t", schema, 0, "a") for k in ("rows", "columns"))
    for row in rows:
        by_row.append(row)
    by_column.extend([["en"] * 3, [0, 1, 2]])
    by_column.extend([[], []])
    by_column.extend([["en"] * 8, list(range(3, 11))])
    assert by_row.close() == by_column.close() == 11
    read = [pq.read_table(tmp_path / k / "t" / "part-00000.parquet") for k in ("rows", "columns")]
    assert read[0].equals(read[1]) and read[0].to_pylist() == [{"lang": "en", "n": i} for i in range(11)]
    with pytest.raises(ValueError, match="columns of different lengths"):
        by_column.extend([["en"], [1, 2]])
    with pytest.raises(ValueError, match="1 columns for a table of 2"):
        by_column.extend([["en"]])
