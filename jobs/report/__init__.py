"""The end-to-end report of a run directory (what ``make demo`` builds): cost, data, training, evaluation.

    python -m jobs.report RUN [--title TITLE] [--top-langs N]

Reads what the stages left in RUN (RUN/stages.jsonl from ``python -m jobs.stage``, the manifests of kg/,
corpus/, corpus/parallel/, corpus/monolingual/, tokenizer/ and shards/, train/metrics.jsonl, model/ and
eval/results.md) and writes RUN/report/report.md with its PNGs beside it. The report is built in
RUN/report.tmp and renamed into place when complete. A missing input makes its section say what is missing
and which command produces it; an unreadable or corrupt file is named in an error line of its section.
Nothing here needs Spark or torch.

The package, one module per section, each a function ``render(ctx: ReportContext) -> list[str]``:

    overview.py    the opening: the run, its inputs, when, machine and software, the outputs found
    cost.py        cost per stage (stages.jsonl) and the jobs' own timers; cost_per_stage.png
    data.py        data statistics per stage: per-language overview, KG, corpus, parallel and
                   monolingual text, tokenizer, shards; shard_tokens_by_lang.png
    training.py    training (metrics.jsonl, loss per objective, loss_curves.png) and the exported model
    evaluation.py  evaluation (eval/results.md, transfer_gap.png) and the comparison from the real init
    assemble.py    the list of sections in order, write_report() and main() (the command line)
    context.py     ReportContext (what a section is handed), the run's file names, Section and the
                   guard that turns a failing section into an error line naming the file and line
    common.py      number formats, md_table (the report's defaults over xlkit_core.mdtable), lenient
                   JSON lookups, embed_markdown, figure helpers
"""

from jobs.report.assemble import DEFAULT_TOP_LANGS, SECTIONS, build, main, write_report
from jobs.report.context import ReportContext, Section

__all__ = ["DEFAULT_TOP_LANGS", "SECTIONS", "ReportContext", "Section", "build", "main", "write_report"]
