"""Run the evaluation suite on one model and write one result (``make eval``).

    python -m trainer.evaluate MODEL --out DIR [--tasks tatoeba,ner,probe] [--quick] [task options]

MODEL is an exported xlkit directory, an xlkit checkpoint or run directory (exported into
``DIR/model`` first), or any local ``transformers`` directory with a tokenizer, so that a baseline
goes through the same code. Tasks:

``tatoeba``  sentence retrieval, XTREME protocol (:mod:`trainer.evaluate.tatoeba`)
``ner``      cross-lingual NER transfer, entity-level F1 (:mod:`trainer.evaluate.ner`): WikiANN
             (``--ner-data wikiann``: fine-tune on part of English dev, test on the other parts and
             languages) and/or CoNLL-2002 (``conll2002``: es -> nl and nl -> es)
``probe``    knowledge probing (:mod:`trainer.evaluate.probe`): X-FACTR facts and prompts
             (``--probe-source xfactr``) and/or probes generated from a KG built by ``make kg``
             (``kg``, needs ``--kg DIR``)

DIR receives ``results.json`` (every task's full result, the transfer gaps and the timings) and
``results.md`` (the tables). The **transfer gap** (Ernie-M, Table 7) is the English (source) score
minus the mean over the other languages, per task: for NER the source-language test part, for
probing English accuracy. Tatoeba has no English-only score, so it has no gap. ``--quick`` shrinks
every task (fewer sentences, facts and fine-tuning examples) for smoke tests and the demo; the
numbers then carry little signal. Exit status: 0, or 2 with one line ``evaluate: <message>`` when
the input is bad (no tokenizer, unequal Tatoeba files, a missing data file, ...).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

from xlkit_core.environment import check_environment

from .common import EvalError, ModelDir, resolve_model, write_json

TASKS = ("tatoeba", "ner", "probe")
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
# when the model does not name its languages (a plain transformers checkpoint)
DEFAULT_LANGS = ["de", "fr", "es", "ru", "zh", "ja"]
WIKIANN_LANGS = {"ar", "bg", "de", "en", "es", "fi", "fr", "hi", "id", "it", "ja", "pt", "ru", "sw", "ta", "ur", "zh"}
XFACTR_LANGS = {"en", "es", "fr", "hu", "ja", "nl", "ru", "sw", "zh"}

# sizes: (full, --quick)
SIZES = {
    "tatoeba_limit": (None, 200),
    "ner_n_train": (2000, 1000), "ner_n_dev": (500, 200), "ner_n_test": (1000, 200), "ner_epochs": (10, 5),
    "probe_facts": (50, 8), "probe_max_masks": (5, 3),
}


def _size(key: str, quick: bool):
    return SIZES[key][1 if quick else 0]


def _iso3(code: str) -> str:
    """Wikipedia code -> the ISO 639-3 code Tatoeba's file names use (de -> deu, zh -> cmn)."""
    from xlkit_core.langs import TATOEBA

    for iso3, wiki in TATOEBA.items():
        if wiki == code:
            return iso3
    return code


def _langs_for(md: ModelDir, given: str | None, available: set[str], with_en: bool = False) -> list[str]:
    """The languages to evaluate: ``given``, else the model's own languages (or DEFAULT_LANGS) that the data has."""
    if given:
        return [x.strip() for x in given.split(",") if x.strip()]
    base = [x for x in md.langs if x != "en"] or DEFAULT_LANGS
    out = [x for x in base if x in available]
    return (["en"] if with_en else []) + out


def run_tatoeba(md: ModelDir, args) -> dict:
    from . import tatoeba

    data = Path(args.tatoeba_data)
    have = tatoeba.available_langs(data)
    if args.tatoeba_langs:
        langs3 = [x.strip() for x in args.tatoeba_langs.split(",") if x.strip()]
    else:
        langs3 = [_iso3(x) for x in _langs_for(md, None, {_norm(x) for x in have})]
    if not langs3:
        raise EvalError(f"no Tatoeba language to evaluate: {data} holds {', '.join(sorted(have)) or 'nothing'}; "
                        "pass --tatoeba-langs")
    if langs3 == ["all"]:
        langs3 = have
    limit = args.tatoeba_limit or _size("tatoeba_limit", args.quick)
    more = [int(x) for x in args.tatoeba_more_layers.split(",") if x.strip()] if args.tatoeba_more_layers else []
    return tatoeba.evaluate(md, langs3, args.layer, data, args.device, limit, more)


def _norm(code: str) -> str:
    from xlkit_core.langs import normalise

    return normalise(code)


def run_ner(md: ModelDir, args, out: Path) -> dict:
    from . import ner

    res = {}
    for dataset in [x.strip() for x in args.ner_data.split(",") if x.strip()]:
        common = dict(n_train=args.ner_n_train or _size("ner_n_train", args.quick),
                      n_dev=_size("ner_n_dev", args.quick), epochs=args.ner_epochs or _size("ner_epochs", args.quick),
                      seed=args.seed, device=args.device, workdir=str(out), mode=args.ner_mode, layer=args.ner_layer)
        n_test = args.ner_n_test or _size("ner_n_test", args.quick)
        if dataset == "wikiann":
            langs = _langs_for(md, args.ner_langs, WIKIANN_LANGS - {"en"})
            res[dataset] = ner.evaluate(md, dataset="wikiann", train_lang="en", test_langs=langs,
                                        n_test=n_test, **common)
        elif dataset == "conll2002":
            for src, tgt in (("es", "nl"), ("nl", "es")):
                res[f"conll2002 {src}→{tgt}"] = ner.evaluate(md, dataset="conll2002", train_lang=src, test_langs=[tgt],
                                                              n_test=n_test, **common)
        else:
            raise EvalError(f"--ner-data {dataset}: unknown; choose wikiann and/or conll2002")
    return res


def run_probe(md: ModelDir, args, out: Path) -> dict:
    from . import probe

    res = {}
    for source in [x.strip() for x in args.probe_source.split(",") if x.strip()]:
        if source == "kg" and not args.kg:
            raise EvalError("--probe-source kg needs --kg DIR (a KG built by make kg / jobs/build_kg.py)")
        if source not in ("xfactr", "kg"):
            raise EvalError(f"--probe-source {source}: unknown; choose xfactr and/or kg")
        avail = XFACTR_LANGS if source == "xfactr" else set(md.langs or DEFAULT_LANGS) | {"en"}
        langs = _langs_for(md, args.probe_langs, avail - {"en"}, with_en=True)
        res[source] = probe.evaluate(md, source=source, langs=langs, kg_dir=args.kg, templates=args.templates,
                                     facts_per_relation=args.facts_per_relation or _size("probe_facts", args.quick),
                                     max_masks=_size("probe_max_masks", args.quick), device=args.device,
                                     workdir=str(out))
    return res


def transfer_gaps(results: dict) -> dict:
    """{task name: source score - mean of the other languages} for every task that has one."""
    gaps = {}
    for name, r in results.get("ner", {}).items():
        gaps[f"ner {name} (F1)"] = r.get("transfer_gap")
    for name, r in results.get("probe", {}).items():
        gaps[f"probe {name} (accuracy)"] = r.get("transfer_gap")
    return {k: v for k, v in gaps.items() if v is not None}


def _pct(x) -> str:
    return "–" if x is None else f"{100 * x:.1f}"


def markdown(res: dict) -> str:
    """The tables of ``results.json``: one per task, then the transfer gaps."""
    lines = [f"Model: `{res['model']}`" + (" (quick sizes: little signal)" if res.get("quick") else ""), ""]
    t = res["tasks"].get("tatoeba")
    if t:
        lines += [f"**Tatoeba retrieval** (accuracy %, XTREME protocol, hidden_states[{t['layer']}] mean-pooled)", "",
                  "| language | xx→en | en→xx | n |", "|---|---|---|---|"]
        lines += [f"| {k} | {_pct(a['xx2en'])} | {_pct(a['en2xx'])} | {a['n']} |" for k, a in t["accuracy"].items()]
        lines += [f"| **average** | | {_pct(t['average'])} | |", ""]
    for name, r in res["tasks"].get("ner", {}).items():
        lines += [f"**NER {name}** (entity F1 %, seqeval conventions; fine-tuned on {r['train_lang']}, best dev step "
                  f"{r['training'].get('best_step', '?')}). {r.get('note', '')}", "",
                  "| language | role | F1 | precision | recall | sentences |", "|---|---|---|---|---|---|"]
        for lang, s in r["languages"].items():
            lines.append(f"| {lang} | {s['role']} | {_pct(s['f1'])} | {_pct(s['precision'])} | {_pct(s['recall'])} | "
                         f"{s['n']} |")
        lines += [f"| **target mean** | | {_pct(r['target_mean_f1'])} | | | |", ""]
        fixed = {k: v for k, v in r.get("repaired", {}).items() if v}
        if fixed:
            lines += ["Invalid tag sequences repaired as seqeval reads them (I- without B- starts a chunk): "
                      + ", ".join(f"{k} {v}" for k, v in fixed.items()), ""]
    for name, r in res["tasks"].get("probe", {}).items():
        lines += [f"**Knowledge probing, {name}** (accuracy %, 1–{r.get('max_masks', '?')} masks, the count with the "
                  "best mean log-probability kept)", "",
                  "| language | accuracy | macro over relations | facts |", "|---|---|---|---|"]
        for lang, a in r["accuracy"].items():
            lines.append(f"| {lang} | {_pct(a['acc'])} | {_pct(a.get('macro_relation'))} | {a['n']} |")
        lines.append("")
        if r.get("skipped_templates"):
            lines += [f"Templates skipped: {len(r['skipped_templates'])} (see results.json)", ""]
    if res.get("transfer_gap"):
        lines += ["**Transfer gap** (source/English score minus the mean of the other languages, points; lower is "
                  "better)", "", "| task | gap |", "|---|---|"]
        lines += [f"| {k} | {100 * v:.1f} |" for k, v in res["transfer_gap"].items()]
        lines.append("")
    lines.append("Time per task: " + ", ".join(f"{k} {v:.0f} s" for k, v in res["timings_s"].items()))
    return "\n".join(lines) + "\n"


def evaluate(model: str, out: str | os.PathLike, tasks: list[str], args) -> dict:
    outp = Path(out)
    outp.mkdir(parents=True, exist_ok=True)
    md = resolve_model(model, str(outp))
    res: dict = {"model": md.source, "model_dir": md.path, "langs": md.langs, "quick": args.quick, "tasks": {},
                 "timings_s": {}}
    for task in tasks:
        t = time.time()
        print(f"evaluate: {task} ...", file=sys.stderr, flush=True)
        if task == "tatoeba":
            res["tasks"]["tatoeba"] = run_tatoeba(md, args)
        elif task == "ner":
            res["tasks"]["ner"] = run_ner(md, args, outp)
        elif task == "probe":
            res["tasks"]["probe"] = run_probe(md, args, outp)
        res["timings_s"][task] = time.time() - t
    res["transfer_gap"] = transfer_gaps(res["tasks"])
    write_json(outp / "results.json", res)
    tmp = outp / "results.md.tmp"
    tmp.write_text(markdown(res), encoding="utf-8")
    os.replace(tmp, outp / "results.md")
    return res


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m trainer.evaluate", description=__doc__.splitlines()[0])
    p.add_argument("model", metavar="MODEL", help="exported xlkit model, xlkit checkpoint/run dir, or a local "
                   "transformers directory")
    p.add_argument("--out", required=True, help="output directory (results.json, results.md)")
    p.add_argument("--tasks", default=",".join(TASKS), help=f"comma-separated, of {', '.join(TASKS)} (default all)")
    p.add_argument("--quick", action="store_true", help="small sizes for smoke tests and the demo")
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=0, help="fine-tuning seed (NER)")
    g = p.add_argument_group("tatoeba")
    g.add_argument("--tatoeba-langs", default=None, help="ISO 639-3 codes, or all (default: the model's languages that "
                   "Tatoeba has; deu,fra,spa,rus,cmn,jpn for a model that names none)")
    g.add_argument("--tatoeba-data", default=str(SHARED / "tatoeba-laser"))
    g.add_argument("--layer", type=int, default=None, help="hidden_states index to pool (default the middle layer)")
    g.add_argument("--tatoeba-more-layers", default=None, metavar="I,J",
                   help="further hidden_states indices scored from the same passes (e.g. -1 for the last layer)")
    g.add_argument("--tatoeba-limit", type=int, default=None, metavar="N",
                   help="only the first N pairs of each language (default all; quick 200)")
    g = p.add_argument_group("ner")
    g.add_argument("--ner-data", default="wikiann,conll2002", help="wikiann and/or conll2002")
    g.add_argument("--ner-langs", default=None, help="WikiANN target languages (default: the model's languages "
                   "that WikiANN has)")
    g.add_argument("--ner-n-train", type=int, default=None, help="fine-tuning sentences (default 2000; quick 1000)")
    g.add_argument("--ner-epochs", type=int, default=None, help="fine-tuning epochs at most (default 10; quick 5)")
    g.add_argument("--ner-n-test", type=int, default=None, help="test sentences per language (default 1000; quick 200)")
    g.add_argument("--ner-mode", default="finetune", choices=("finetune", "frozen"),
                   help="fine-tune the encoder (default) or fit a linear probe on its frozen features")
    g.add_argument("--ner-layer", type=int, default=-1, help="--ner-mode frozen: the hidden_states index (default -1)")
    g = p.add_argument_group("probe")
    g.add_argument("--probe-source", default="xfactr", help="xfactr and/or kg")
    g.add_argument("--probe-langs", default=None, help="languages (default en + the model's languages the source has)")
    g.add_argument("--kg", default=None, help="a KG directory (jobs/build_kg.py output) for --probe-source kg")
    g.add_argument("--templates", default=None, help="JSON {pid: {lang: template}} for KG probes")
    g.add_argument("--facts-per-relation", type=int, default=None, help="default 50; quick 8")
    return p


def main(argv: list[str] | None = None) -> int:
    check_environment()
    args = parser().parse_args(argv)
    tasks = [x.strip() for x in args.tasks.split(",") if x.strip()]
    bad = [x for x in tasks if x not in TASKS]
    if bad:
        print(f"evaluate: unknown task {', '.join(bad)}; known: {', '.join(TASKS)}", file=sys.stderr)
        return 2
    if args.device == "cpu" and "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(min(2, os.cpu_count() or 1))
    try:
        res = evaluate(args.model, args.out, tasks, args)
    except EvalError as exc:
        print(f"evaluate: {exc}", file=sys.stderr)
        return 2
    print(markdown(res))
    print(f"evaluate: wrote {Path(args.out) / 'results.json'} and results.md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
