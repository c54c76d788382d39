"""Two or more evaluations side by side: ``python -m trainer.evaluate.compare NAME=DIR ... [--out FILE]``.

Each DIR is an ``--out`` of ``python -m trainer.evaluate`` (its ``results.json``). The table has one
row per task, language and score, one column per evaluation and, with two, the difference of the
second from the first, in points: what ``make demo-real`` shows for the init and the trained model.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from xlkit_core.environment import check_environment


def scores(res: dict) -> dict[tuple[str, str], float]:
    """(task, language) -> score in %, for every number the suite reports per language (a language with
    nothing to score, e.g. a probe source without facts in it, has none)."""
    out: dict[tuple[str, str], float] = {}
    tatoeba = res["tasks"].get("tatoeba")
    if tatoeba:
        for lang, a in tatoeba["accuracy"].items():
            out[("Tatoeba (mean of both directions)", lang)] = 50 * (a["xx2en"] + a["en2xx"])
    for name, r in res["tasks"].get("ner", {}).items():
        for lang, s in r["languages"].items():
            if s.get("f1") is not None:
                out[(f"NER {name} F1 ({s['role']})", lang)] = 100 * s["f1"]
    for name, r in res["tasks"].get("probe", {}).items():
        for lang, a in r["accuracy"].items():
            if a.get("acc") is not None:
                out[(f"probe {name} accuracy", lang)] = 100 * a["acc"]
    return out


def read(directory: str) -> dict:
    path = os.path.join(directory, "results.json")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path} does not exist: run python -m trainer.evaluate MODEL --out {directory}")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def table(named: list[tuple[str, dict]]) -> str:
    columns = [scores(res) for _, res in named]
    keys = list(dict.fromkeys(k for c in columns for k in c))
    two = len(named) == 2
    head = ["task", "language", *(n for n, _ in named)] + ([f"{named[1][0]} − {named[0][0]}"] if two else [])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key in keys:
        cells = [f"{c[key]:.1f}" if key in c else "—" for c in columns]
        if two:
            a, b = columns[0].get(key), columns[1].get(key)
            cells.append(f"{b - a:+.1f}" if a is not None and b is not None else "—")
        lines.append(f"| {key[0]} | {key[1]} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    check_environment()
    p = argparse.ArgumentParser(prog="python -m trainer.evaluate.compare", description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="+", metavar="NAME=DIR", help="a name and an evaluation's --out directory")
    p.add_argument("--out", help="also write the table (markdown) here")
    args = p.parse_args(argv)
    try:
        named = [(r.split("=", 1)[0], read(r.split("=", 1)[1])) for r in args.runs if "=" in r]
        if len(named) != len(args.runs):
            raise ValueError("give each evaluation as NAME=DIR, e.g. init=runs/demo-real/eval-init")
    except (OSError, ValueError) as exc:
        print(f"compare: {exc}", file=sys.stderr)
        return 2
    text = table(named)
    print(text)
    if args.out:
        tmp = args.out + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
