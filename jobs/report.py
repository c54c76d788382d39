"""The end-to-end report of a run directory (what ``make demo`` builds): cost, data, training, evaluation.

    python -m jobs.report RUN [--title TITLE] [--top-langs N]

Reads what the stages left in RUN (RUN/stages.jsonl from ``python -m jobs.stage``, the manifests of kg/,
corpus/, corpus/parallel/, corpus/monolingual/, tokenizer/ and shards/, train/metrics.jsonl, model/ and
eval/results.md) and writes RUN/report/report.md with its PNGs beside it. The report is built in
RUN/report.tmp and renamed into place when complete. A missing input makes its section say what is missing
and which command produces it; an unreadable or corrupt file is named in an error line of its section.
Nothing here needs Spark or torch.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import traceback
from collections.abc import Callable
from datetime import datetime, timedelta

import matplotlib

matplotlib.use("Agg")

from jobs.report_common import (
    CORPUS,
    DEFAULT_TOP_LANGS,
    EVAL_JSON,
    EVAL_MD,
    EXPORT,
    KG,
    METRICS,
    MODEL_CONFIG,
    MODEL_WEIGHTS,
    MONO,
    PARALLEL,
    REAL_COMPARE,
    REPORT_DIR,
    SHARDS,
    STAGES_LOG,
    TOKENIZER,
    Inputs,
    _get,
    _hints,
    _machine,
    _mean_last,
    _num,
    _parse_time,
    _safetensors_params,
    _version,
    embed_markdown,
    error_line,
    fmt_bytes,
    fmt_int,
    fmt_mib,
    fmt_s,
    md_table,
    missing_line,
    pct,
    plot_cost,
    plot_transfer_gap,
)
from jobs.report_data import DataSections
from xlkit_core.environment import check_environment

# ---- the report ----------------------------------------------------------------------------------------


class Report(DataSections):
    def __init__(self, run: str, out: str, title: str | None, top: int):
        self.run = os.path.abspath(run)
        self.label = os.path.relpath(self.run) if not os.path.relpath(self.run).startswith("..") else self.run
        self.out = out
        self.title = title or f"xlkit run report: {os.path.basename(self.run)}"
        self.top = top
        self.io = Inputs(self.run)
        self.hint = _hints(self.label)
        self.pngs: list[str] = []
        self.stages: list[dict] | None = None
        self.stage_errors: list[str] = []

    # -- helpers

    def guarded(self, what: str, fn: Callable[[], list[str]]) -> list[str]:
        """Run one section builder; an unexpected failure becomes an error line instead of a crash."""
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 (a report must never crash on odd inputs)
            tb = traceback.extract_tb(exc.__traceback__)[-1]
            return [error_line(f"could not summarise {what}: {type(exc).__name__}: {exc} "
                               f"({os.path.basename(tb.filename)} line {tb.lineno})"), ""]

    def load(self, rel: str, what: str, hint_key: str) -> tuple[dict | None, list[str]]:
        data, err = self.io.json(rel)
        if err:
            return None, [error_line(err + f" with {self.hint[hint_key]}."), ""]
        if data is None:
            return None, [missing_line(what, rel, self.hint[hint_key]), ""]
        return data, []

    def figure(self, name: str | None, alt: str, none_msg: str) -> list[str]:
        if name:
            self.pngs.append(name)
            return [f"![{alt}]({name})", ""]
        return [f"_No figure: {none_msg}._", ""]

    # -- sections

    def build(self) -> str:
        self.stages, self.stage_errors = self.io.jsonl(STAGES_LOG)
        body: list[str] = []
        body += ["## Cost per stage", ""] + self.guarded(f"`{STAGES_LOG}`", self.cost)
        body += ["## Data statistics per stage", ""] + self.guarded("the data statistics", self.data)
        body += ["## Training", ""] + self.guarded(f"`{METRICS}`", self.training)
        body += ["## Evaluation", ""] + self.guarded("the evaluation", self.evaluation)
        body += ["## From the real init (multilingual-e5-small)", ""] + self.guarded(f"`{REAL_COMPARE}`",
                                                                                 self.real_init)
        head = self.guarded("the header", self.header)
        return "\n".join([f"# {self.title}", ""] + head + body).rstrip() + "\n"

    def header(self) -> list[str]:
        lines = ["An end-to-end xlkit run: Wikidata dump → knowledge graph → Wikipedia corpus (with parallel and "
                 "monolingual text) → tokenizer → Arrow shards → pre-training → exported encoder → evaluation.", ""]
        rows = [["run directory", f"`{self.run}`"]]
        inputs = self._inputs_summary()
        if inputs:
            rows.append(["inputs", inputs])
        stages = self.stages or []
        starts = [(_parse_time(s.get("started")), _num(s.get("wall_s"))) for s in stages]
        starts = [(t, w) for t, w in starts if t is not None]
        if starts:
            first = min(t for t, _ in starts)
            last = max(t + timedelta(seconds=w or 0) for t, w in starts)
            total = sum(_num(s.get("wall_s")) or 0 for s in stages)
            rows.append(["when", f"{first:%Y-%m-%d %H:%M:%S %z} to {last:%Y-%m-%d %H:%M:%S %z}"])
            rows.append(["total wall time", f"**{fmt_s((last - first).total_seconds())}** from the first stage's "
                                            f"start to the last one's end ({len(stages)} stage(s), which sum to "
                                            f"{fmt_s(total)})"])
            failed = [s.get("name", "?") for s in stages if s.get("rc") not in (0, None)]
            rows.append(["outcome", "every stage exited with 0" if not failed
                         else f"**failed stage(s): {', '.join(failed)}**"])
        else:
            when = self._mtime_span()
            if when:
                rows.append(["when", f"outputs written {when} (file times; `{STAGES_LOG}` absent)"])
            jobs = self._job_durations()
            rows.append(["total wall time", "not measured (no `stages.jsonl`)"
                         + (f"; the jobs' own timers sum to {fmt_s(sum(v for _, v in jobs))}" if jobs else "")])
        rows.append(["machine", _machine()])
        rows.append(["software", self._software()])
        rows.append(["report", f"generated {datetime.now().astimezone():%Y-%m-%d %H:%M:%S %z} by "
                               f"`python -m jobs.report {self.label}`"])
        lines += [md_table(["", ""], rows, right=set()), ""]
        status = self._status()
        lines += ["Outputs found:", "", md_table(["stage", "output", "status"], status, right=set()), ""]
        if any(row[2] != "ok" for row in status):
            lines += [f"`make demo DEMO_OUT={self.label}` builds every stage on the embedded sample; each section "
                      "below names the command for its own part.", ""]
        return lines

    def _status(self) -> list[list[str]]:
        rows = []
        for stage, rel in (("cost log", STAGES_LOG), ("KG", KG), ("corpus", CORPUS), ("parallel", PARALLEL),
                           ("monolingual", MONO), ("tokenizer", TOKENIZER), ("shards", SHARDS),
                           ("training", METRICS), ("export", EXPORT), ("evaluation", EVAL_MD)):
            if not self.io.exists(rel):
                status = "missing"
            elif rel.endswith(".json"):
                status = "damaged" if self.io.json(rel)[1] else "ok"
            elif rel == STAGES_LOG:
                status = "ok" if not self.stage_errors else f"{len(self.stage_errors)} bad line(s)"
            else:
                status = "ok"
            rows.append([stage, f"`{rel}`", status])
        return rows

    def _inputs_summary(self) -> str:
        parts = []
        kg, _ = self.io.json(KG)
        if kg and isinstance(kg.get("inputs"), list):
            size = sum(_num(i.get("size")) or 0 for i in kg["inputs"] if isinstance(i, dict))
            parts.append(f"{len(kg['inputs'])} Wikidata dump file(s) ({fmt_bytes(size)})")
        corpus, _ = self.io.json(CORPUS)
        if corpus and isinstance(corpus.get("inputs"), list):
            langs = sorted({str(i.get("lang")) for i in corpus["inputs"] if isinstance(i, dict)})
            parts.append(f"{len(corpus['inputs'])} Wikipedia dump(s) ({', '.join(langs)})")
        par, _ = self.io.json(PARALLEL)
        if par and isinstance(par.get("inputs"), list):
            srcs = [str(i.get("source")) for i in par["inputs"] if isinstance(i, dict)]
            parts.append(f"{len(srcs)} parallel source(s) ({', '.join(srcs)})")
        export, _ = self.io.json(EXPORT)
        cfg, _ = self.io.json(MODEL_CONFIG)
        if export:
            size = _get(export, "config", "model", "size")
            objs = sorted(_get(export, "objectives", default={}) or {})
            parts.append(f"model: {size or '?'} encoder, {fmt_int(export.get('step'))} steps, objectives "
                         f"{', '.join(objs) or '?'}" + (f", {cfg.get('num_hidden_layers')} layers × "
                                                        f"{cfg.get('hidden_size')} hidden" if cfg else ""))
        return "; ".join(parts)

    def _mtime_span(self) -> str | None:
        times = [os.path.getmtime(self.io.path(r)) for r in (KG, CORPUS, PARALLEL, MONO, TOKENIZER, SHARDS, METRICS,
                                                              EXPORT, EVAL_MD) if self.io.exists(r)]
        if not times:
            return None
        a, b = datetime.fromtimestamp(min(times)).astimezone(), datetime.fromtimestamp(max(times)).astimezone()
        return f"{a:%Y-%m-%d %H:%M} to {b:%Y-%m-%d %H:%M %z}"

    def _software(self) -> str:
        here = ", ".join(f"{p} {_version(p)}" for p in ("torch", "pyspark", "pyarrow", "transformers", "matplotlib"))
        text = f"python {platform.python_version()}, {here}"
        for rel in (KG, CORPUS):
            data, _ = self.io.json(rel)
            v = _get(data, "versions")
            if isinstance(v, dict):
                java = v.get("java")
                text += (f"; the Spark jobs ran pyspark {v.get('pyspark', '?')} on python {v.get('python', '?')}"
                         + (f", {java}" if java else ""))
                break
        return text

    # -- cost

    def _labels(self, stages: list[dict]) -> list[str]:
        seen: dict[str, int] = {}
        out = []
        for s in stages:
            name = str(s.get("name", "?"))
            seen[name] = seen.get(name, 0) + 1
            out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
        return out

    def cost(self) -> list[str]:
        lines = [error_line(e) for e in self.stage_errors]
        lines += [""] if lines else []
        stages = self.stages
        if stages is None:
            lines += [missing_line("the stage cost log", STAGES_LOG, self.hint["stages"]), ""]
        elif not stages:
            lines += [f"_Not available:_ `{STAGES_LOG}` holds no stage record. Produce it with "
                      f"{self.hint['stages']}.", ""]
        else:
            labels = self._labels(stages)
            if len({str(s.get("name")) for s in stages}) < len(stages):
                lines += ["Note: stage names repeat, so the log holds more than one run (numbered in order); pass "
                          "`--reset` to the first stage to start a fresh log.", ""]
            rows = []
            for i, (s, label) in enumerate(zip(stages, labels, strict=True), 1):
                wall, cpu = _num(s.get("wall_s")), _num(s.get("cpu_s"))
                rc = s.get("rc")
                rc_text = "-" if rc is None else str(rc) if rc == 0 else \
                    f"**{rc}**" + (f" ({s['signal']})" if s.get("signal") else "")
                if s.get("interrupted"):
                    rc_text += f", interrupted by {s['interrupted']}"
                rows.append([i, f"`{label}`", fmt_s(wall), fmt_mib(_num(s.get("peak_rss_mb"))), fmt_s(cpu),
                             f"{cpu / wall:.2f}" if cpu is not None and wall else "-", s.get("max_procs", "-"),
                             rc_text])
            walls = [_num(s.get("wall_s")) or 0 for s in stages]
            cpus = [_num(s.get("cpu_s")) or 0 for s in stages]
            peaks = [_num(s.get("peak_rss_mb")) or 0 for s in stages]
            rows.append(["", "**total**", f"**{fmt_s(sum(walls))}**", f"max {fmt_mib(max(peaks))}",
                         f"**{fmt_s(sum(cpus))}**", f"{sum(cpus) / sum(walls):.2f}" if sum(walls) else "-", "", ""])
            lines += [md_table(["#", "stage", "wall time", "peak memory", "CPU time", "CPU / wall", "processes",
                                "exit code"], rows, right={0, 2, 3, 4, 5, 6}), ""]
            lines += ["Wall time runs until the stage's whole process tree has exited. Peak memory is the peak of the "
                      "summed resident memory (RSS) of the tree (the Spark JVM included), sampled every 0.15 s; "
                      "memory shared between processes counts once per process. CPU time is user + system time "
                      "of the tree; CPU / wall is the mean number of busy cores; processes is the most seen at "
                      "once.", ""]
            lines += self.figure(plot_cost(stages, labels, self.out), "wall time and peak memory per stage",
                                 "no stage has a wall time or a peak memory")
        jobs = self._job_durations()
        if jobs:
            measured = {}
            for s in stages or []:
                if _num(s.get("wall_s")) is not None:
                    measured[str(s.get("name"))] = s["wall_s"]
            rows = []
            for name, secs in jobs:
                wall = measured.get(name) or (measured.get("mono") if name == "monolingual" else None)
                rows.append([name, fmt_s(secs), fmt_s(wall) if wall else "-",
                             fmt_s(wall - secs) if wall and wall >= secs else "-"])
            header = ["job", "job's own timer", "stage wall time", "start-up and other overhead"]
            if not measured:
                header, rows = header[:2], [r[:2] for r in rows]
            lines += ["Durations the jobs timed themselves (from their manifests and `metrics.jsonl`; they leave out "
                      "interpreter, JVM and SparkSession start-up" + (", which the stage wall time includes):"
                                                                      if measured else "):"), "",
                      md_table(header, rows), ""]
        return lines

    def _job_durations(self) -> list[tuple[str, float]]:
        out = []
        for name, rel, keys in (("kg", KG, ("durations_s", "total")), ("corpus", CORPUS, ("durations_s", "total")),
                                ("parallel", PARALLEL, ("durations_s", "total")),
                                ("monolingual", MONO, ("durations_s", "total")),
                                ("tokenizer", TOKENIZER, ("durations_s", "total")),
                                ("shards", SHARDS, ("duration_s",))):
            data, _ = self.io.json(rel)
            v = _num(_get(data, *keys))
            if v is not None:
                out.append((name, v))
        train = self._metrics()[0]
        if train:
            v = _num(train[-1].get("elapsed_s"))
            if v is not None:
                out.append(("train", v))
        return out

    # -- data

    def _metrics(self) -> tuple[list[dict] | None, str | None]:
        if not hasattr(self, "_metrics_cache"):
            from trainer.plot import PlotError, read_metrics

            if not self.io.exists(METRICS):
                self._metrics_cache = (None, None)
            else:
                try:
                    self._metrics_cache = (read_metrics(self.io.path("train")), None)
                except PlotError as exc:
                    self._metrics_cache = (None, str(exc).replace(self.io.path(METRICS), f"`{METRICS}`"))
                except (OSError, UnicodeDecodeError, ValueError, TypeError) as exc:
                    self._metrics_cache = (None, f"`{METRICS}` cannot be read: {exc}")
        return self._metrics_cache

    def training(self) -> list[str]:
        records, err = self._metrics()
        if err:
            return [error_line(err), ""] + self._model_lines()
        if records is None:
            return [missing_line("the training log", METRICS, self.hint["train"]), ""] + self._model_lines()
        steps = [int(r["step"]) for r in records if _num(r.get("step")) is not None]
        tokens = sum(_num(r.get("tokens")) or 0 for r in records)
        elapsed = _num(records[-1].get("elapsed_s"))
        by_task: dict[str, list[dict]] = {}
        for r in records:
            by_task.setdefault(str(r.get("task", "loss")), []).append(r)
        step_s = [_num(r.get("step_s")) for r in records if _num(r.get("step_s")) is not None]
        lines = [f"From `{METRICS}`: **{fmt_int(max(steps) if steps else len(records))} steps**, "
                 f"{fmt_int(tokens)} tokens, {fmt_s(elapsed)} of training"
                 + (f", **{tokens / elapsed:,.0f} tokens/s**" if elapsed else "")
                 + (f", median step {sorted(step_s)[len(step_s) // 2] * 1000:.0f} ms" if step_s else "")
                 + f"; {len(by_task)} objective(s), one per step, drawn in turn."
                 + self._config_text(), ""]
        rows = []
        for task, rs in sorted(by_task.items()):
            losses = [_num(r.get("loss")) for r in rs]
            losses = [v for v in losses if v is not None]
            k = max(1, min(50, len(losses) // 10))
            first = sum(losses[:k]) / len(losses[:k]) if losses else None
            final = sum(losses[-k:]) / len(losses[-k:]) if losses else None
            accs = sorted(key for r in rs[-1:] for key in r if key.startswith(f"{task}.") and key.endswith("_acc"))
            acc = ", ".join(f"{key.split('.', 1)[1]} {_mean_last(rs, key, k):.3f}" for key in accs)
            rows.append([task, len(rs), sum(_num(r.get("tokens")) or 0 for r in rs),
                         f"{first:.3f}" if first is not None else "-", f"{final:.3f}" if final is not None else "-",
                         pct(final - first, abs(first)) if first and final is not None else "-", acc or "-"])
        lines += ["Loss per objective (first and final: mean over the first and last k steps of the objective, "
                  "k = a tenth of its steps, 1 to 50; accuracy: mean over the last k steps):", "",
                  md_table(["objective", "steps", "tokens", "first loss", "final loss", "change", "final accuracy"],
                           rows, right={1, 2, 3, 4, 5}), ""]
        lines += self.figure(self._loss_png(), "loss curves", "the loss curves could not be drawn")
        return lines + self._model_lines()

    def _config_text(self) -> str:
        latest = self.io.path("train/checkpoints/latest")
        try:
            with open(latest, encoding="utf-8") as f:
                name = f.read().strip()
            with open(self.io.path(f"train/checkpoints/{name}/state.json"), encoding="utf-8") as f:
                cfg = json.load(f).get("config") or {}
        except (OSError, ValueError, AttributeError):
            return ""
        size = _get(cfg, "model", "size")
        return (f" Config (from the last checkpoint, `{name}`): {size} model, batch {cfg.get('batch_size', '?')}, "
                f"peak learning rate {_get(cfg, 'optim', 'lr', default='?')}, device {cfg.get('device', '?')}, "
                f"precision {cfg.get('precision', '?')}.")

    def _loss_png(self) -> str | None:
        from trainer.plot import PlotError, plot

        try:
            return os.path.basename(plot(self.io.path("train"), os.path.join(self.out, "loss_curves.png")))
        except PlotError:
            src = self.io.path("train/loss_curves.png")
            if os.path.exists(src):
                shutil.copyfile(src, os.path.join(self.out, "loss_curves.png"))
                return "loss_curves.png"
            return None

    def _model_lines(self) -> list[str]:
        export, err = self.io.json(EXPORT)
        if err:
            return ["### Exported model", "", error_line(err + f" with {self.hint['model']}."), ""]
        if export is None:
            return ["### Exported model", "", missing_line("the exported model", EXPORT, self.hint["model"]), ""]
        cfg, cerr = self.io.json(MODEL_CONFIG)
        params = _safetensors_params(self.io.path(MODEL_WEIGHTS))
        text = (f"`{os.path.dirname(EXPORT)}/` holds step {fmt_int(export.get('step'))} as a Hugging Face "
                f"{', '.join(_get(cfg, 'architectures', default=[]) or ['?'])}")
        if cfg:
            text += (f": {cfg.get('num_hidden_layers', '?')} layers, hidden size {cfg.get('hidden_size', '?')}, "
                     f"{cfg.get('num_attention_heads', '?')} heads, vocabulary {fmt_int(cfg.get('vocab_size'))}")
        if params:
            text += f", {params / 1e6:.2f} M parameters"
        text += (f"; languages {', '.join(map(str, export.get('langs') or []))} (as {export.get('language_ids', '?')})"
                 f"; pre-training heads left out: {', '.join(map(str, export.get('not_exported') or [])) or 'none'}.")
        return ["### Exported model", "", text, ""] + ([error_line(cerr), ""] if cerr else [])

    # -- evaluation

    def real_init(self) -> list[str]:
        """``make demo-real``'s table: the trimmed init and the model trained from it, side by side."""
        if not self.io.exists(REAL_COMPARE):
            return [f"_Not run:_ `{REAL_COMPARE}` does not exist. Run make demo-real (make demo runs it unless "
                    "DEMO_REAL=0).", ""]
        with open(self.io.path(REAL_COMPARE), encoding="utf-8") as f:
            table = f.read().strip()
        card, _ = self.io.json("real/init/vocab_map.json")
        kept = _get(card or {}, "counts", "kept")
        return ["multilingual-e5-small (`make init`), trimmed to this run's corpus plus the best-scoring pieces"
                + (f" ({fmt_int(kept)} ids kept)" if kept else "") + ", trained briefly with the Ernie-M recipe "
                "(`real/train`) and evaluated with quick sizes beside the init itself "
                f"([`{REAL_COMPARE}`](../{REAL_COMPARE}); scores in %). The init's MLM head is new, so its "
                "probing starts at zero.", "", table, ""]

    def evaluation(self) -> list[str]:
        lines: list[str] = []
        res, err = self.io.json(EVAL_JSON)
        if err:
            lines += [error_line(err + f" with {self.hint['eval']}."), ""]
        if not self.io.exists(EVAL_MD):
            lines += [f"_Not run:_ `{EVAL_MD}` does not exist. Run {self.hint['eval']}"
                      + (" (the export is missing too: " + self.hint["model"] + " first)"
                         if not self.io.exists(EXPORT) else "") + ".", ""]
        else:
            try:
                with open(self.io.path(EVAL_MD), encoding="utf-8") as f:
                    text = f.read()
            except (OSError, UnicodeDecodeError) as exc:
                lines += [error_line(f"`{EVAL_MD}` cannot be read: {exc}"), ""]
            else:
                lines += [f"From [`{EVAL_MD}`](../{EVAL_MD})"
                          + (f" (numbers in [`{EVAL_JSON}`](../{EVAL_JSON}))" if res else "") + ":", "",
                          embed_markdown(text, "../eval").strip() or "_(the file is empty)_", ""]
        gap = res.get("transfer_gap") if res else None
        if isinstance(gap, dict):
            lines += self.figure(plot_transfer_gap(gap, self.out), "transfer gap per task",
                                 "`transfer_gap` in results.json holds no number")
        return lines


def write_report(run: str, title: str | None = None, top: int = DEFAULT_TOP_LANGS) -> str:
    """Build RUN/report (via RUN/report.tmp) and return the path of report.md."""
    run = os.path.abspath(run)
    final = os.path.join(run, REPORT_DIR)
    tmp = final + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    try:
        rep = Report(run, tmp, title, top)
        text = rep.build()
        with open(os.path.join(tmp, "report.md"), "w", encoding="utf-8") as f:
            f.write(text)
        old = final + ".old"
        shutil.rmtree(old, ignore_errors=True)
        if os.path.exists(final):
            os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return os.path.join(final, "report.md")


def main(argv: list[str] | None = None) -> int:
    check_environment()
    p = argparse.ArgumentParser(prog="python -m jobs.report", description=__doc__.split("\n\n")[0])
    p.add_argument("run", metavar="RUN", help="the run directory (what make demo writes into DEMO_OUT)")
    p.add_argument("--title", default=None, help="the report's title (default: 'xlkit run report: <RUN name>')")
    p.add_argument("--top-langs", type=int, default=DEFAULT_TOP_LANGS, metavar="N",
                   help=f"languages shown by name in tables and figures; the rest are summed (default "
                        f"{DEFAULT_TOP_LANGS})")
    args = p.parse_args(argv)
    if not os.path.isdir(args.run):
        print(f"report: error: {args.run} is not a directory: pass the run directory (e.g. runs/demo)",
              file=sys.stderr)
        return 2
    if args.top_langs < 1:
        p.error("--top-langs must be at least 1")
    path = write_report(args.run, args.title, args.top_langs)
    print(f"report: wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
