"""The corpus data report: markdown tables plus PNG plots, from the job's manifest."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402

from xlkit_core.mdtable import md_table  # noqa: E402


def _log_axis(axis) -> None:
    """Log scale with plain numbers (1, 2, 5, 10, 20, ...) instead of 2x10^0."""
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def _bar(ax, labels, series: dict[str, list[float]], ylabel: str, log: bool = False) -> None:
    n = len(series)
    width = 0.8 / max(n, 1)
    for i, (name, values) in enumerate(series.items()):
        ax.bar([x + i * width for x in range(len(labels))], values, width, label=name)
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(labels))], labels, rotation=90 if len(labels) > 12 else 0)
    ax.set_ylabel(ylabel)
    if log:
        ax.set_yscale("log")
        _log_axis(ax.yaxis)
    if n > 1:
        ax.legend()


def _save(fig, path: str) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return os.path.basename(path)


def plot_volume(m: dict, out: str) -> str:
    pl = m["per_lang"]
    langs = sorted(pl["pages"])
    fig, ax = plt.subplots(figsize=(max(6, 0.35 * len(langs) + 3), 4))
    _bar(ax, langs, {k: [pl[k].get(x, 0) for x in langs] for k in ("pages", "sentences", "links")},
         "count (log scale)", log=True)
    ax.set_xlabel("language")
    ax.set_title("Pages, sentences and links per language")
    return _save(fig, os.path.join(out, "volume_per_lang.png"))


def plot_resolved(m: dict, out: str) -> str:
    pl = m["per_lang"]
    langs = sorted(pl["links"])
    share = [100.0 * pl["links_resolved"].get(x, 0) / pl["links"][x] if pl["links"].get(x) else 0.0 for x in langs]
    fig, ax = plt.subplots(figsize=(max(6, 0.35 * len(langs) + 3), 4))
    _bar(ax, langs, {"resolved": share}, "links resolved to a QID (%)")
    ax.set_ylim(0, 100)
    ax.set_xlabel("language")
    ax.set_title("Share of links resolved to Wikidata")
    return _save(fig, os.path.join(out, "resolved_share.png"))


def plot_rank_frequency(m: dict, out: str) -> str:
    fof = sorted(((int(k), v) for k, v in m["mentions_per_entity"].items()), reverse=True)
    ranks, freqs, r = [], [], 1
    for mentions, entities in fof:
        ranks += [r, r + entities - 1]
        freqs += [mentions, mentions]
        r += entities
    fig, ax = plt.subplots(figsize=(6, 4))
    if ranks:
        ax.loglog(ranks, freqs, marker=".", linewidth=1)
        _log_axis(ax.xaxis)
        _log_axis(ax.yaxis)
    else:
        ax.text(0.5, 0.5, "no resolved mentions", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("entity rank (log)")
    ax.set_ylabel("mentions (log)")
    ax.set_title("Mentions per entity, rank/frequency")
    return _save(fig, os.path.join(out, "mentions_rank_frequency.png"))


def plot_reasons(m: dict, out: str) -> str:
    counts: dict[str, int] = {}
    for reasons in m["per_lang"]["unresolved_reasons"].values():
        for k, v in reasons.items():
            counts[f"link: {k}"] = counts.get(f"link: {k}", 0) + v
    for k, v in m["rejects"]["by_reason"].items():
        counts[f"page reject: {k}"] = v
    fig, ax = plt.subplots(figsize=(7, 0.4 * max(len(counts), 2) + 1.5))
    if counts:
        names = sorted(counts, key=counts.get)
        ax.barh(names, [counts[n] for n in names])
        ax.set_xscale("log")
        _log_axis(ax.xaxis)
    else:
        ax.text(0.5, 0.5, "no unresolved links and no rejected pages", ha="center", va="center",
                transform=ax.transAxes)
    ax.set_xlabel("count (log scale)")
    ax.set_title("Unresolved links and rejected pages, by reason")
    return _save(fig, os.path.join(out, "reasons.png"))


def _count(v) -> str:
    return f"{v:,}" if isinstance(v, int) else str(v)


def write_report(m: dict, out: str) -> str:
    os.makedirs(out, exist_ok=True)
    pngs = [plot_volume(m, out), plot_resolved(m, out), plot_rank_frequency(m, out), plot_reasons(m, out)]
    pl = m["per_lang"]
    rows = []
    for lang in sorted(pl["pages"]):
        links = pl["links"].get(lang, 0)
        res = pl["links_resolved"].get(lang, 0)
        rows.append([lang, pl["pages"].get(lang, 0), pl["redirects"].get(lang, 0), pl["sentences"].get(lang, 0),
                     links, res, f"{100.0 * res / links:.1f}%" if links else "-"])
    reasons = sorted({r for v in pl["unresolved_reasons"].values() for r in v})
    unresolved = [[lang] + [pl["unresolved_reasons"][lang].get(r, 0) for r in reasons]
                  for lang in sorted(pl["unresolved_reasons"])]
    text = [
        "# Corpus report", "",
        f"Built from {len(m['inputs'])} dump(s) in {len(pl['pages'])} language(s) with the KG at `{m['kg']['path']}`.", "",
        "## Per language", "",
        md_table(["lang", "pages", "redirects", "sentences", "links", "resolved", "share"], rows, fmt=_count), "",
        f"![volume]({pngs[0]})", "", f"![resolved]({pngs[1]})", "",
        "## Tables", "",
        md_table(["table", "rows"], [[k, v["rows"]] for k, v in m["tables"].items()], fmt=_count), "",
        "## Unresolved links by reason", "",
        md_table(["lang"] + reasons, unresolved, fmt=_count) if reasons else "Every link was resolved.", "",
        "## Mentions per entity", "",
        f"![rank/frequency]({pngs[2]})", "",
        "## Rejected pages", "",
        md_table(["reason", "pages"], [[k, v] for k, v in m["rejects"]["by_reason"].items()], fmt=_count)
        if m["rejects"]["by_reason"] else "No page was rejected.", "",
        f"![reasons]({pngs[3]})", "",
    ]
    path = os.path.join(out, "report.md")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(text))
    return path
