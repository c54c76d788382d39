"""The run's files and what every section is handed: :class:`ReportContext` (the run directory, the
output directory, the run's files read once, the stage log, the figures written so far), and
:class:`Section` with :func:`render_sections`, which run a list of sections so that one that fails
becomes an error line naming the file and line where it failed instead of a crash.

A section is a function ``render(ctx: ReportContext) -> list[str]`` returning markdown lines;
:mod:`jobs.report.assemble` lists the report's sections in order, :mod:`jobs.report.data` its
subsections."""

from __future__ import annotations

import json
import os
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from jobs.report.common import error_line, missing_line

STAGES_LOG = "stages.jsonl"

# The files each part of the report reads, relative to RUN.
KG = "kg/_manifest.json"
CORPUS = "corpus/_manifest.json"
CORPUS_REPORT = "corpus/report/report.md"
PARALLEL = "corpus/parallel/_manifest.json"
MONO = "corpus/monolingual/_manifest.json"
TOKENIZER = "tokenizer/xlkit_tokenizer.json"
SHARDS = "shards/manifest.json"
METRICS = "train/metrics.jsonl"
EXPORT = "model/xlkit_export.json"
MODEL_CONFIG = "model/config.json"
MODEL_WEIGHTS = "model/model.safetensors"
EVAL_MD = "eval/results.md"
EVAL_JSON = "eval/results.json"
REAL_COMPARE = "real/compare.md"


def hints(run: str) -> dict[str, str]:
    """How to produce each input (shown when it is missing)."""
    return {
        "stages": f"`python -m jobs.stage --log {run}/{STAGES_LOG} --name NAME -- CMD ...` around each stage "
                  "(`make demo` does this; pass `--reset` to the first stage)",
        "kg": f"`python jobs/build_kg.py --input WIKIDATA_DUMP --out {run}/kg`",
        "corpus": f"`python jobs/build_corpus.py --wikipedia DUMP ... --kg {run}/kg --out {run}/corpus`",
        "parallel": f"`python jobs/build_parallel.py --parallel SPEC --out {run}/corpus --align`",
        "mono": f"`python jobs/build_monolingual.py --out {run}/corpus`",
        "tokenizer": f"`python jobs/train_tokenizer.py --corpus {run}/corpus --out {run}/tokenizer`",
        "shards": f"`python jobs/build_shards.py --corpus {run}/corpus --tokenizer {run}/tokenizer "
                  f"--out {run}/shards`",
        "train": f"`python -m trainer.train tiny shards={run}/shards out={run}/train`",
        "model": f"`python -m trainer.export {run}/train {run}/model`",
        "eval": f"`make eval MODEL={run}/model OUT={run}/eval`",
    }


# ---- the run's files -----------------------------------------------------------------------------------


class Inputs:
    """Reads RUN's files once; remembers which were missing and which were damaged."""

    def __init__(self, run: str):
        self.run = run
        self.cache: dict[str, tuple[object, str | None]] = {}

    def path(self, rel: str) -> str:
        return os.path.join(self.run, rel)

    def exists(self, rel: str) -> bool:
        return os.path.exists(self.path(rel))

    def json(self, rel: str) -> tuple[dict | None, str | None]:
        """(object, None) when readable; (None, None) when absent; (None, error line) when damaged."""
        if rel in self.cache:
            return self.cache[rel]  # type: ignore[return-value]
        path = self.path(rel)
        out: tuple[dict | None, str | None]
        if not os.path.exists(path):
            out = (None, None)
        else:
            try:
                with open(path, encoding="utf-8") as f:
                    data = json.load(f)
            except json.JSONDecodeError as exc:
                out = (None, f"`{rel}` is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
                             "the file is damaged: rebuild it")
            except (OSError, UnicodeDecodeError) as exc:
                out = (None, f"`{rel}` cannot be read: {exc}")
            else:
                out = (data, None) if isinstance(data, dict) else \
                    (None, f"`{rel}` holds a JSON {type(data).__name__}, not the object that was expected")
        self.cache[rel] = out  # type: ignore[assignment]
        return out

    def jsonl(self, rel: str) -> tuple[list[dict] | None, list[str]]:
        """(records, error lines); records is None when the file is absent. Bad lines are named and skipped."""
        path = self.path(rel)
        if not os.path.exists(path):
            return None, []
        records, errors = [], []
        try:
            with open(path, encoding="utf-8") as f:
                for n, line in enumerate(f, 1):
                    if not line.strip():
                        continue
                    try:
                        r = json.loads(line)
                    except json.JSONDecodeError as exc:
                        errors.append(f"`{rel}` line {n} is not valid JSON ({exc.msg}); it was skipped")
                        continue
                    if isinstance(r, dict):
                        records.append(r)
                    else:
                        errors.append(f"`{rel}` line {n} is a JSON {type(r).__name__}, not an object; it was skipped")
        except (OSError, UnicodeDecodeError) as exc:
            return [], [f"`{rel}` cannot be read: {exc}"]
        return records, errors


# ---- what a section is handed --------------------------------------------------------------------------


class ReportContext:
    """One report being built: RUN (``run``, shown as ``label``), the directory the report and its
    figures go to (``out``), the run's files (``io``), the stage log (``stages``, ``stage_errors``),
    the commands that produce each input (``hint``) and the figures written so far (``pngs``)."""

    def __init__(self, run: str, out: str, title: str | None, top: int, repro: str | None = None):
        self.run = os.path.abspath(run)
        self.repro = os.path.abspath(repro) if repro else None
        self.label = os.path.relpath(self.run) if not os.path.relpath(self.run).startswith("..") else self.run
        self.out = out
        self.title = title or f"xlkit run report: {os.path.basename(self.run)}"
        self.top = top
        self.io = Inputs(self.run)
        self.hint = hints(self.label)
        self.pngs: list[str] = []
        self.stages, self.stage_errors = self.io.jsonl(STAGES_LOG)
        self._metrics: tuple[list[dict] | None, str | None] | None = None

    def load(self, rel: str, what: str, hint_key: str) -> tuple[dict | None, list[str]]:
        """A manifest, or (None, the lines that say it is missing or damaged and how to rebuild it)."""
        data, err = self.io.json(rel)
        if err:
            return None, [error_line(err + f" with {self.hint[hint_key]}."), ""]
        if data is None:
            return None, [missing_line(what, rel, self.hint[hint_key]), ""]
        return data, []

    def figure(self, name: str | None, alt: str, none_msg: str) -> list[str]:
        """The markdown for a figure a section drew (``name``), or a line saying why there is none."""
        if name:
            self.pngs.append(name)
            return [f"![{alt}]({name})", ""]
        return [f"_No figure: {none_msg}._", ""]

    def metrics(self) -> tuple[list[dict] | None, str | None]:
        """train/metrics.jsonl as (records, None); (None, None) when absent; (None, error line) when damaged.
        Read once: the cost section (the trainer's own timer) and the training section share it."""
        if self._metrics is None:
            from trainer.plot import PlotError, read_metrics

            if not self.io.exists(METRICS):
                self._metrics = (None, None)
            else:
                try:
                    self._metrics = (read_metrics(self.io.path("train")), None)
                except PlotError as exc:
                    self._metrics = (None, str(exc).replace(self.io.path(METRICS), f"`{METRICS}`"))
                except (OSError, UnicodeDecodeError, ValueError, TypeError) as exc:
                    self._metrics = (None, f"`{METRICS}` cannot be read: {exc}")
        return self._metrics


Render = Callable[[ReportContext], list[str]]


@dataclass(frozen=True)
class Section:
    """One part of the report: its heading line (None: no heading), what it summarises (named in the
    error line when it fails) and the function that renders it."""

    heading: str | None
    what: str
    render: Render


def guarded(ctx: ReportContext, what: str, fn: Render) -> list[str]:
    """Run one section; an unexpected failure becomes an error line (with the file and line where it
    happened) instead of a crash."""
    try:
        return fn(ctx)
    except Exception as exc:  # noqa: BLE001 (a report must never crash on odd inputs)
        tb = traceback.extract_tb(exc.__traceback__)[-1]
        return [error_line(f"could not summarise {what}: {type(exc).__name__}: {exc} "
                           f"({os.path.basename(tb.filename)} line {tb.lineno})"), ""]


def render_sections(ctx: ReportContext, sections: list[Section]) -> list[str]:
    """The sections in order, each under its heading and guarded on its own."""
    lines: list[str] = []
    for s in sections:
        lines += ([s.heading, ""] if s.heading else []) + guarded(ctx, s.what, s.render)
    return lines
