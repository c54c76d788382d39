"""Word-alignment benchmark: AER on the hand-aligned en-de pairs and seconds on Multi30K train.

    .venv/bin/python bench/bench_align.py [--n 29000] [--iterations 5] [--repeat 1] [--out bench/results]

The aligners are trained on Multi30K task 1 train (en as source, de as target; 29,000 pairs read
from /work/shared/data/multi30k/task1-raw/train.{en,de}.gz, or the first ``--n``) plus the 20
hand-aligned pairs of corpus_builder/data/handaligned-en-de.tsv, and evaluated on the latter:
AER = 1 - (|A&S| + |A&P|) / (|A| + |S|). Rows:

* diagonal        no training: each word linked to the nearest diagonal position, both ways
* ibm1 / hmm      the numpy engine (corpus_builder.align), ``--iterations`` EM iterations of
                  IBM1 (and then of the HMM); the two directions alone (en->de is P(de | en):
                  one link per German word; de->en one per English word), their intersection,
                  and grow-diag-final-and (what align_corpus returns)
* eflomal         the eflomal package when importable (its own iteration schedule; not
                  deterministic, so it runs ``--repeat`` times and every AER is listed)

Each configuration runs in its own child process (``--step``) with OPENBLAS/OMP/MKL threads set
to 1, so the seconds are one core's (eflomal runs its own C program, which uses its OpenMP
threads), and the peak RSS is that child's. "train s" is both directions of training and
decoding; "total s" adds tokenisation, vocabulary and symmetrisation (align_corpus end to end).
The fastest of ``--repeat`` runs counts. Writes OUT/align.json and OUT/align.md.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import gzip  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from corpus_builder import align as A  # noqa: E402
from xlkit_core.mdtable import md_lines, short_float  # noqa: E402

DATA = Path(os.environ.get("XLKIT_SHARED_DATA", ROOT.parent / "shared" / "data")) / "multi30k" / "task1-raw"
HAND = ROOT / "corpus_builder" / "data" / "handaligned-en-de.tsv"
STEPS = ("diagonal", "ibm1", "hmm", "eflomal")


def load(n: int) -> tuple[list[str], list[str], list[set], list[set], int]:
    with gzip.open(DATA / "train.en.gz", "rt", encoding="utf-8") as fh:
        en = fh.read().splitlines()[:n]
    with gzip.open(DATA / "train.de.gz", "rt", encoding="utf-8") as fh:
        de = fh.read().splitlines()[:n]
    if len(en) != len(de):
        raise SystemExit(f"train.en has {len(en)} lines but train.de {len(de)}")
    rows = A.read_hand_aligned(HAND)
    n_train = len(en)
    en += [r[0] for r in rows]
    de += [r[1] for r in rows]
    return en, de, [r[2] for r in rows], [r[3] for r in rows], n_train


def run_step(step: str, n: int, iterations: int) -> dict:
    en, de, sure, possible, n_train = load(n)
    k = len(sure)
    out: dict = {"step": step, "pairs": len(en), "train_pairs": n_train}
    t0, c0 = time.perf_counter(), time.process_time()
    if step == "diagonal":
        hyp = {"diagonal": [A.diagonal_alignment(len(A.tokenize_words(e)), len(A.tokenize_words(d)))
                            for e, d in zip(en[-k:], de[-k:], strict=True)]}
        train_s = 0.0
    else:
        if step == "eflomal":
            fwd, rev = A._eflomal_directional(en, de)
        else:
            fwd, rev = A.train_directional(en, de, iterations=iterations, model=step)
        train_s = time.perf_counter() - t0
        gdfa = [A.symmetrize(f, r) for f, r in zip(fwd, rev, strict=True)]
        hyp = {
            f"{step} en->de": fwd[-k:],
            f"{step} de->en": rev[-k:],
            f"{step} intersection": [A.symmetrize(f, r, "intersection") for f, r in zip(fwd[-k:], rev[-k:], strict=True)],
            f"{step} grow-diag-final-and": gdfa[-k:],
        }
        out["links_per_pair"] = sum(map(len, gdfa)) / len(gdfa)
    out["train_s"] = train_s
    out["total_s"] = time.perf_counter() - t0
    out["cpu_s"] = time.process_time() - c0
    out["children_cpu_s"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["aer"] = {name: A.aer(h, sure, possible) for name, h in hyp.items()}
    out["detail"] = {name: _counts(h, sure, possible) for name, h in hyp.items()}
    return out


def _counts(hyp, sure, possible) -> dict:
    a = sum(len(h) for h in hyp)
    a_s = sum(len(set(h) & s) for h, s in zip(hyp, sure, strict=True))
    a_p = sum(len(set(h) & p) for h, p in zip(hyp, possible, strict=True))
    return {"A": a, "A&S": a_s, "A&P": a_p, "precision": a_p / a if a else 0.0,
            "recall": a_s / sum(map(len, sure))}


def child(step: str, n: int, iterations: int) -> dict:
    cmd = [sys.executable, __file__, "--step", step, "--n", str(n), "--iterations", str(iterations)]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise SystemExit(f"step {step} failed:\n{res.stderr[-4000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def render(report: dict) -> str:
    env = report["environment"]
    sure = report["hand"]["sure"]
    md = ["# Word-alignment benchmark", "",
          f"{env['date']} on {env['cpu']} ({env['cpus']} CPUs), Python {env['python']}, numpy {env['numpy']}; "
          f"load average {env['loadavg_start']} at the start, {env['loadavg_end']} at the end.", "",
          f"Trained on Multi30K task 1 train, en (source) - de (target): {report['train_pairs']:,} pairs "
          f"+ the {report['hand']['pairs']} hand-aligned pairs; {report['iterations']} EM iterations per model. "
          f"AER on the hand-aligned pairs ({sure} sure links, {report['hand']['possible']} possible incl. sure), "
          "so one link is worth about 0.004 AER. Lower is better.", "",
          "## AER", ""]
    rows = []
    for name, runs in report["aer"].items():
        d = report["detail"][name]
        rows.append([name, runs[0] if len(runs) == 1 else runs, d["precision"], d["recall"], d["A"]])
    md += md_lines(["alignment", "AER", "precision (A&P/A)", "recall (A&S/S)", "links"], rows, short_float)
    md += ["", "## Seconds (one core) and memory", ""]
    rows = []
    for step, t in report["timing"].items():
        rows.append([step, t["train_s"], t["total_s"], t["cpu_s"], t.get("children_cpu_s"), t["peak_rss_mib"],
                     t.get("links_per_pair"), t["runs_total_s"]])
    md += md_lines(["engine", "train s", "total s", "CPU s (python)", "CPU s (children)", "peak RSS MiB",
                     "links/pair (gdfa)", "all runs total s"], rows, short_float)
    md += ["", "train s: both directions, IBM1 (+ HMM) EM and decoding; total s: align_corpus end to end "
           "(tokenisation, vocabularies, training, grow-diag-final-and over all pairs). eflomal's sampler "
           "runs as a child process (its CPU time is under children), with several threads.", ""]
    if report.get("notes"):
        md += ["## Notes", ""] + [f"* {x}" for x in report["notes"]] + [""]
    return "\n".join(md)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=29000, help="Multi30K training pairs to use (default all)")
    ap.add_argument("--iterations", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    ap.add_argument("--step", choices=STEPS, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.step:
        print(json.dumps(run_step(args.step, args.n, args.iterations)))
        return 0
    if not (DATA / "train.en.gz").exists():
        raise SystemExit(f"missing {DATA}/train.en.gz")
    import numpy as np

    env = {"date": time.strftime("%Y-%m-%d %H:%M"), "cpu": platform.processor() or platform.machine(),
           "cpus": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__,
           "loadavg_start": [round(v, 2) for v in os.getloadavg()]}
    try:
        with open("/proc/cpuinfo") as f:
            env["cpu"] = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), env["cpu"])
    except OSError:
        pass
    steps = ["diagonal", "ibm1", "hmm"] + (["eflomal"] if A.eflomal_available() else [])
    results: dict[str, list[dict]] = {s: [] for s in steps}
    for _ in range(max(1, args.repeat)):
        for s in steps:
            r = child(s, args.n, args.iterations)
            results[s].append(r)
            print(f"{s}: " + ", ".join(f"{k} {v:.4f}" for k, v in r["aer"].items())
                  + f"; train {r['train_s']:.1f} s, total {r['total_s']:.1f} s, peak RSS {r['peak_rss_mib']:.0f} MiB",
                  flush=True)
    rows = A.read_hand_aligned(HAND)
    report: dict = {
        "environment": env, "iterations": args.iterations, "train_pairs": results["diagonal"][0]["train_pairs"],
        "hand": {"pairs": len(rows), "sure": sum(len(r[2]) for r in rows), "possible": sum(len(r[3]) for r in rows)},
        "aer": {}, "detail": {}, "timing": {}, "runs": results,
        "engines": {"eflomal_available": A.eflomal_available()},
        "parameters": {"MAX_JUMP": A.MAX_JUMP, "NULL_PROB": A.NULL_PROB, "LEX_ALPHA": A.LEX_ALPHA,
                       "JUMP_ALPHA": A.JUMP_ALPHA},
        "notes": [],
    }
    for s, runs in results.items():
        deterministic = s != "eflomal"
        for name in runs[0]["aer"]:
            vals = [r["aer"][name] for r in runs]
            report["aer"][name] = vals[:1] if deterministic and len(set(vals)) == 1 else vals
            report["detail"][name] = runs[0]["detail"][name]
            if deterministic and len(set(vals)) > 1:
                report["notes"].append(f"{name}: AER differs between runs {vals} (should be deterministic)")
        best = min(runs, key=lambda r: r["total_s"])
        report["timing"][s] = {k: best.get(k) for k in ("train_s", "total_s", "cpu_s", "children_cpu_s",
                                                        "peak_rss_mib", "links_per_pair")}
        report["timing"][s]["runs_total_s"] = [round(r["total_s"], 2) for r in runs]
    if "eflomal" not in results:
        report["notes"].append("eflomal is not installed: its rows are missing (pip install eflomal).")
    else:
        report["notes"].append("eflomal seeds its sampler from /dev/urandom: its AER varies run to run.")
    env["loadavg_end"] = [round(v, 2) for v in os.getloadavg()]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "align.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    (args.out / "align.md").write_text(render(report), encoding="utf-8")
    print(render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
