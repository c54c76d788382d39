"""Pass 1 of the corpus job, this checkout against an earlier commit: same tables, and how fast.

    .venv/bin/python bench/pass1_ab.py --base REV [--repeat 4] [--out bench/results]

For a change meant to make pass 1 faster without changing what it writes. The base commit is
checked out into a temporary git worktree; both trees run ``corpus_builder.extract.process_split``
in their own child processes, without Spark:

* **identity**: every page of every Wikipedia sample under ../shared/data (93 dumps that the job
  accepts, about 90 languages), each file as one split; every staged table is read back and
  compared row by row, and so are the split's counters. Any difference is listed.
* **speed**: the enwiki fragment of ``make bench-corpus`` (106 articles), ``--repeat`` child
  processes per tree, alternating base and this tree; each child converts the file 4 times and
  keeps its fastest, and the fastest child counts. The headline is this tree's time over the
  base's, measured in the same run.

Writes OUT/pass1_ab.json and OUT/pass1_ab.md; exits 1 when a table differs.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
ENWIKI = DATA / "wikipedia-gensim-testdata" / "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
NOT_WIKIPEDIAS = ("commons", "wikidata")       # minidumps the job refuses

# Run inside a child with one tree on sys.path: prints one JSON line.
IDENTITY = r'''
import hashlib, json, os, sys, tempfile
root, paths = sys.argv[1], json.loads(sys.argv[2])
sys.path.insert(0, root)
import pyarrow.parquet as pq
from corpus_builder.extract import process_split
from corpus_builder.xmldump import inspect_dump, plan_xml_splits
out = {}
for path, lang in paths:
    d = inspect_dump(path, os.path.getsize(path), lang)
    stage = tempfile.mkdtemp()
    summaries = [process_split(s, {0: d.namespaces}, {0: d.case}, stage) for s in plan_xml_splits([d], 1 << 40)]
    tables = {}
    for name in sorted(os.listdir(stage)):
        rows = []
        for part in sorted(os.listdir(os.path.join(stage, name))):
            rows += pq.read_table(os.path.join(stage, name, part)).to_pylist()
        tables[name] = [len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()]
    out[path] = {"tables": tables, "counters": [s["counters"] for s in summaries]}
print(json.dumps(out))
'''

SPEED = r'''
import json, os, sys, tempfile, time
root, path = sys.argv[1], sys.argv[2]
sys.path.insert(0, root)
import pyarrow as pa
pa.array([""])
from corpus_builder.extract import process_split
from corpus_builder.xmldump import inspect_dump, plan_xml_splits
d = inspect_dump(path, os.path.getsize(path), None)
splits = plan_xml_splits([d], 1 << 40)
best = None
for _ in range(4):
    t0 = time.perf_counter()
    for s in splits:
        process_split(s, {0: d.namespaces}, {0: d.case}, tempfile.mkdtemp())
    t = time.perf_counter() - t0
    best = t if best is None else min(best, t)
print(json.dumps({"seconds": best}))
'''


def child(code: str, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        sys.exit(f"pass1_ab: a child failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def dumps() -> list[tuple[str, str | None]]:
    found = []
    for p in sorted(DATA.glob("wikipedia-*/**/*.bz2")):
        if ".xml" not in p.name and "articles" not in p.name:
            continue
        minidump = p.parent.parent.name == "wikipedia-dbpedia-minidumps"
        if minidump and p.parent.name in NOT_WIKIPEDIAS:
            continue
        found.append((str(p), p.parent.name if minidump else None))
    return found


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", required=True, help="the commit to compare with (any git revision)")
    ap.add_argument("--repeat", type=int, default=4, help="child processes per tree for the speed (default 4)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = ap.parse_args(argv)
    if not ENWIKI.is_file():
        sys.exit(f"pass1_ab: {ENWIKI} is missing (is ../shared/data there?)")
    base_rev = subprocess.run(["git", "rev-parse", "--short", args.base], capture_output=True, text=True,
                              cwd=ROOT, check=True).stdout.strip()
    head_rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=ROOT, check=True).stdout.strip()
    dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                                text=True, cwd=ROOT, check=True).stdout.strip())
    with tempfile.TemporaryDirectory(prefix="xlkit-pass1-ab-") as tmp:
        base = Path(tmp) / "base"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(base), base_rev], cwd=ROOT, check=True)
        try:
            paths = json.dumps(dumps())
            print(f"pass1_ab: identity on {len(json.loads(paths))} dumps ...", file=sys.stderr, flush=True)
            ours, theirs = child(IDENTITY, str(ROOT), paths), child(IDENTITY, str(base), paths)
            differ = sorted(p for p in ours if ours[p] != theirs.get(p))
            times: dict[str, list[float]] = {"base": [], "this": []}
            for r in range(args.repeat):
                print(f"pass1_ab: speed, round {r + 1}/{args.repeat} ...", file=sys.stderr, flush=True)
                for name, tree in (("base", base), ("this", ROOT)):
                    times[name].append(child(SPEED, str(tree), str(ENWIKI))["seconds"])
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT, check=False)
    rows = sum(t[0] for v in ours.values() for t in v["tables"].values())
    ratio = min(times["this"]) / min(times["base"])
    report = {"date": time.strftime("%Y-%m-%d %H:%M"), "base": base_rev, "this": head_rev + ("+changes" if dirty else ""),
              "dumps": len(ours), "rows_compared": rows, "tables_differ_in": differ,
              "enwiki_seconds": times, "this_over_base": round(ratio, 3)}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "pass1_ab.json").write_text(json.dumps(report, indent=2) + "\n")
    md = [f"# Pass 1: {report['this']} against {base_rev} ({report['date']})", "",
          f"- identity: {len(ours)} dumps, {rows:,} staged rows; "
          + ("every table and counter the same" if not differ else f"**differ in {len(differ)}**: " + ", ".join(differ)),
          f"- enwiki, 106 articles, fastest of {args.repeat} children x 4: base {min(times['base']):.3f} s, "
          f"this {min(times['this']):.3f} s: **{ratio:.3f} of the base's time**",
          f"- all children, s: base {[round(t, 3) for t in times['base']]}, this {[round(t, 3) for t in times['this']]}"]
    (out / "pass1_ab.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
