"""Splits own every line exactly once, whatever the split size; bad compressed data is named."""

import bz2
import gzip

import pytest

from kg_pipeline.reader import OwnedLines, chunks, plan_splits, sniff_layout
from xlkit_core.bz2split import BLOCK_MAGIC, EOS_MAGIC, Bz2Blocks, find_magic_bits
from xlkit_core.errors import CorruptInputError
from xlkit_core.fsio import FileInfo


def owned_lines(path, split_bytes):
    info = FileInfo(str(path), path.stat().st_size)
    out, newlines, owned = [], 0, 0
    for split in plan_splits([info], split_bytes):
        with open(path, "rb") as f:
            it = OwnedLines(chunks(f, split), first_split=split.start == 0)
            for _, off, line in it:
                out.append((split.split_idx, off, line))
            newlines += it.newlines
            owned += it.owned_bytes
    return out, newlines, owned


def test_find_magic_bits_at_every_bit_shift():
    # exact positions on a constructed stream
    for bitpos in (0, 1, 7, 8, 13, 63):
        nbytes = (bitpos + 48 + 7) // 8 + 2
        value = BLOCK_MAGIC << (8 * nbytes - bitpos - 48)
        buf = value.to_bytes(nbytes, "big")
        assert find_magic_bits(buf, BLOCK_MAGIC) == [bitpos]
        assert find_magic_bits(buf, EOS_MAGIC) == []


@pytest.mark.parametrize("split_bytes", [10**9, 300_000, 70_000])
def test_bz2_splits_read_each_line_once(tmp_path, split_bytes, wikidata_dump):
    data = bz2.decompress(wikidata_dump.read_bytes())
    expected = data.split(b"\n")
    if expected[-1] == b"":
        expected.pop()
    got, newlines, owned = owned_lines(wikidata_dump, split_bytes)
    assert [g[2] for g in got] == expected
    assert owned == len(data)
    assert newlines + 1 == data.count(b"\n")  # split 0 owns the first line without a newline before it


def test_plain_splits_at_every_boundary_kind(tmp_path):
    # lines of varied length, including empty lines and a last line without a newline
    lines = [b"[", b"", b"a" * 5, b"bb", b"", b"c" * 17, b"d", b"]"]
    data = b"\n".join(lines)
    p = tmp_path / "x.json"
    p.write_bytes(data)
    for split_bytes in range(1, len(data) + 2):
        info = FileInfo(str(p), len(data))
        got = []
        for split in plan_splits([info], split_bytes):
            with open(p, "rb") as f:
                got += [line for _, _, line in OwnedLines(chunks(f, split), split.start == 0)]
        assert got == lines, split_bytes


def test_multistream_bz2(tmp_path, wikidata_dump):
    data = bz2.decompress(wikidata_dump.read_bytes())
    cut = data.index(b"\n", len(data) // 3) + 1
    p = tmp_path / "multi.json.bz2"
    p.write_bytes(bz2.compress(data[:cut], 9) + bz2.compress(data[cut:], 1))  # like pbzip2/lbzip2 output
    got, _, owned = owned_lines(p, 100_000)
    assert b"\n".join(g[2] for g in got) + b"\n" == data
    assert owned == len(data)


def test_truncated_bz2_names_the_file(tmp_path, wikidata_dump):
    raw = wikidata_dump.read_bytes()
    p = tmp_path / "cut.json.bz2"
    p.write_bytes(raw[: len(raw) * 2 // 3])
    with pytest.raises(CorruptInputError, match=r"cut\.json\.bz2: bzip2 data is truncated"):
        owned_lines(p, 10**9)


def test_corrupt_bz2_block_names_the_file(tmp_path, wikidata_dump):
    raw = bytearray(wikidata_dump.read_bytes())
    raw[len(raw) // 2] ^= 0x55
    p = tmp_path / "bad.json.bz2"
    p.write_bytes(bytes(raw))
    with pytest.raises(CorruptInputError, match=r"bad\.json\.bz2: corrupt bzip2 block at byte \d+"):
        owned_lines(p, 10**9)


def test_truncated_gzip_names_the_file(tmp_path):
    payload = gzip.compress(b"[\n" + b'{"type":"item","id":"Q1"},\n' * 5000 + b"]\n")
    p = tmp_path / "cut.json.gz"
    p.write_bytes(payload[: len(payload) // 2])
    with pytest.raises(CorruptInputError, match=r"cut\.json\.gz: gzip data is truncated or corrupt"):
        owned_lines(p, 10**9)


def test_bz2_false_block_magic_is_merged(tmp_path, wikidata_dump):
    """A block magic that occurs by chance inside compressed data is not a boundary."""
    path = str(wikidata_dump)
    size = wikidata_dump.stat().st_size
    data = bz2.decompress(wikidata_dump.read_bytes())
    with open(path, "rb") as f:
        blocks = Bz2Blocks(f, path, size)
        real = list(blocks.boundaries(0))
        fake = real[0][0] + 12_345  # a spurious "block" inside the first block
        blocks.boundaries = lambda start: iter(sorted(real + [(fake, "block")]))
        assert b"".join(d for d, _ in blocks.decompressed_blocks(0, size)) == data


def test_sniff_layout():
    assert sniff_layout(b"[\n{") == "lines"
    assert sniff_layout(b'{"type":"item","id":"Q1"},\n{') == "lines"
    assert sniff_layout(b'{"entities":{"Q1":{}}}') == "api"
    assert sniff_layout(b'{\n  "entities": {') == "api"
    assert sniff_layout(b"<mediawiki") == "unknown"


def test_split_size_follows_the_file_not_the_cores():
    from xlkit_core.fsio import MIN_SPLIT_BYTES, MIN_SPLITS, byte_ranges, split_step

    mib = 1 << 20
    # a 13 MiB dump gives MIN_SPLITS tasks, a huge one 64 MiB splits, a small one splits of 1 MiB
    assert len(byte_ranges(13 * mib, 64 * mib)) == MIN_SPLITS
    assert split_step(100 << 30, 64 * mib) == 64 * mib
    assert split_step(3 * mib, 64 * mib) == MIN_SPLIT_BYTES
    assert byte_ranges(MIN_SPLIT_BYTES // 2, 64 * mib) == [(0, MIN_SPLIT_BYTES // 2)]
    # an explicit small split size is kept, and the ranges tile the file
    ranges = byte_ranges(10 * mib + 5, mib // 4)
    assert ranges[0] == (0, mib // 4) and ranges[-1][1] == 10 * mib + 5
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))
