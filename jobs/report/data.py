"""The report's "Data statistics per stage" section: a per-language overview across the stages, then
one subsection per data stage (knowledge graph, corpus, parallel and monolingual text, tokenizer,
shards) from its manifest, with ``shard_tokens_by_lang.png``. Each subsection is a function
``(ctx) -> lines`` listed in :data:`PARTS`, run on its own by
:func:`jobs.report.context.render_sections`."""

from __future__ import annotations

import os

from matplotlib.ticker import FuncFormatter

from jobs.report.common import (
    counts,
    dig,
    fmt_bytes,
    fmt_int,
    fmt_s,
    md_table,
    num,
    pct,
    plt,
    save_figure,
    top_n,
)
from jobs.report.context import (
    CORPUS,
    CORPUS_REPORT,
    KG,
    MONO,
    PARALLEL,
    SHARDS,
    TOKENIZER,
    ReportContext,
    Section,
    render_sections,
)


def render(ctx: ReportContext) -> list[str]:
    return render_sections(ctx, PARTS)


def languages(ctx: ReportContext) -> list[str]:
    kg, _ = ctx.io.json(KG)
    corpus, _ = ctx.io.json(CORPUS)
    par, _ = ctx.io.json(PARALLEL)
    mono, _ = ctx.io.json(MONO)
    tok, _ = ctx.io.json(TOKENIZER)
    shards, _ = ctx.io.json(SHARDS)
    pl = dig(corpus, "per_lang", default={}) or {}
    shard_tokens: dict[str, float] = {}
    for t in (dig(shards, "tasks", default={}) or {}).values():
        for lang, v in (dig(t, "tokens_by_lang", default={}) or {}).items():
            shard_tokens[lang] = shard_tokens.get(lang, 0) + (num(v) or 0)
    pairs_by_lang: dict[str, float] = {}
    for pair, v in (dig(par, "tables", "parallel", "by_pair", default={}) or {}).items():
        for lang in set(str(pair).split("-")):
            pairs_by_lang[lang] = pairs_by_lang.get(lang, 0) + (num(v) or 0)
    mono_by = dig(mono, "tables", "monolingual", "by_lang", default={}) or {}
    tok_langs = dig(tok, "languages", default={}) or {}
    langs = set(dig(corpus, "config", "languages", default=[]) or []) | set(pl.get("pages", {}) or {}) \
        | set(mono_by) | set(shard_tokens) | set(tok_langs)
    langs = {str(x) for x in langs}
    if not langs:
        return []

    def vol(lang):
        return (shard_tokens.get(lang, 0), num((pl.get("sentences") or {}).get(lang)) or 0)

    order = sorted(langs)
    more = ""
    if len(order) > ctx.top:
        order = sorted(sorted(langs, key=vol, reverse=True)[:ctx.top])
        more = f" The {len(langs) - ctx.top} languages with the fewest shard tokens are left out."
    labels = dig(kg, "tables", "entities", "labels_by_lang", default={}) or {}
    sitelinks = dig(kg, "tables", "sitelinks", "by_lang", default={}) or {}
    rows = []
    for lang in order:
        links = (pl.get("links") or {}).get(lang)
        res = (pl.get("links_resolved") or {}).get(lang)
        rows.append([lang, labels.get(lang, "-"), sitelinks.get(lang, "-"), (pl.get("pages") or {}).get(lang, "-"),
                     (pl.get("sentences") or {}).get(lang, "-"), links if links is not None else "-",
                     pct(res, links), mono_by.get(lang, "-"), pairs_by_lang.get(lang, "-"),
                     pct(dig(tok_langs, lang, "sampled_share"), 1.0), shard_tokens.get(lang, "-")])
    return ["Per language, across the stages (KG labels and sitelinks from the KG; pages, sentences and links "
            "from the corpus; resolved = links resolved to a Wikidata entity; parallel = pairs the language is "
            "in; tokenizer = its share of the tokenizer's training sample; shard tokens summed over tasks)."
            + more, "",
            md_table(["lang", "KG labels", "sitelinks", "pages", "sentences", "links", "resolved",
                      "monolingual", "parallel pairs", "tokenizer sample", "shard tokens"], rows), ""]


def kg(ctx: ReportContext) -> list[str]:
    m, lines = ctx.load(KG, "the KG manifest", "kg")
    if m is None:
        return lines
    t = m.get("tables") or {}
    ent = t.get("entities") or {}
    rej = m.get("rejects") or {}
    skipped = m.get("skipped") or {}
    snaks = skipped.get("snaks") if isinstance(skipped.get("snaks"), dict) else {}
    rows = [
        ["entities", ent.get("rows", "-"), f"by kind: {counts(ent.get('by_kind'))}"],
        ["labels", sum(v for v in (ent.get("labels_by_lang") or {}).values() if num(v)),
         f"in {len(ent.get('labels_by_lang') or {})} languages"],
        ["triples", dig(t, "triples", "rows", default="-"), f"by rank: {counts(dig(t, 'triples', 'by_rank'))}"],
        ["sitelinks", dig(t, "sitelinks", "rows", default="-"),
         f"to {len(dig(t, 'sitelinks', 'by_lang', default={}) or {})} wikis; skipped: "
         f"{counts(skipped.get('sitelinks'))}"],
        ["properties", dig(t, "properties", "rows", default="-"),
         f"by datatype: {counts(dig(t, 'properties', 'by_datatype'))}"],
        ["rejected records", dig(t, "rejects", "rows", default=rej.get("count", "-")),
         f"{pct(rej.get('count'), rej.get('records'))} of {fmt_int(rej.get('records'))} records "
         f"(limit {pct(rej.get('max_fraction'), 1.0)}); by reason: {counts(dig(t, 'rejects', 'by_reason'))}"],
        ["skipped statements", skipped.get("statements_deprecated", "-"), "deprecated rank"],
        ["skipped snaks", sum(v for v in snaks.values() if num(v)), f"by cause: {counts(snaks)}"],
    ]
    lines = [f"From `{KG}`:", "", md_table(["", "count", "detail"], rows, right={1}), ""]
    labels = ent.get("labels_by_lang") or {}
    sitelinks = dig(t, "sitelinks", "by_lang", default={}) or {}
    if labels or sitelinks:
        langs = top_n({k: (num(labels.get(k)) or 0) + (num(sitelinks.get(k)) or 0)
                       for k in set(labels) | set(sitelinks)}, ctx.top)
        rows = []
        for lang, _ in langs:
            if lang.startswith("other ("):
                rest = set(labels) | set(sitelinks)
                shown = {k for k, _ in langs}
                rest -= shown
                rows.append([lang, sum(num(labels.get(k)) or 0 for k in rest),
                             sum(num(sitelinks.get(k)) or 0 for k in rest)])
            else:
                rows.append([lang, labels.get(lang, 0), sitelinks.get(lang, 0)])
        lines += [f"Labels and sitelinks per language (the {min(len(rows), ctx.top)} largest"
                  + (", the rest as other" if len(langs) > ctx.top else "") + "):", "",
                  md_table(["language / wiki", "labels", "sitelinks"], rows), ""]
    return lines


def corpus(ctx: ReportContext) -> list[str]:
    m, lines = ctx.load(CORPUS, "the corpus manifest", "corpus")
    if m is None:
        return lines
    t = m.get("tables") or {}
    pl = m.get("per_lang") or {}
    links = sum(num(v) or 0 for v in (pl.get("links") or {}).values())
    resolved = sum(num(v) or 0 for v in (pl.get("links_resolved") or {}).values())
    rej = m.get("rejects") or {}
    unresolved: dict[str, float] = {}
    for reasons in (pl.get("unresolved_reasons") or {}).values():
        for k, v in (reasons or {}).items():
            unresolved[k] = unresolved.get(k, 0) + (num(v) or 0)
    desc = {"pages": "articles kept (main namespace, not redirects)", "redirects": "redirect pages",
            "sentences": "sentences of the article text", "mentions": "links kept as entity mentions",
            "entity_docs": "entity description documents", "candidates": "entity candidates (top-N)",
            "mep_examples": "masked entity prediction examples", "oe_examples": "object entity examples",
            "rejects": "rejected pages"}
    rows = [[k, dig(v, "rows", default="-"), desc.get(k, "")] for k, v in t.items()]
    lines = [f"From `{CORPUS}`. The corpus job's own report, with its figures: "
             f"[corpus/report/report.md](../{CORPUS_REPORT})"
             + ("" if ctx.io.exists(CORPUS_REPORT) else " (**missing**)") + ".", "",
             md_table(["table", "rows", "what"], rows, right={1}), "",
             f"Mentions: {fmt_int(resolved)} of {fmt_int(links)} links resolved to a Wikidata entity "
             f"(**{pct(resolved, links)}**); unresolved by reason: {counts(unresolved)}.", "",
             f"Rejected pages: {fmt_int(rej.get('count', 0))} of {fmt_int(rej.get('pages_read'))} read "
             f"({pct(rej.get('count', 0), rej.get('pages_read'))}, limit {pct(rej.get('max_fraction'), 1.0)}); "
             f"by reason: {counts(rej.get('by_reason'))}"
             + (f"; truncated inputs: {', '.join(map(str, rej['truncated_inputs']))}"
                if rej.get("truncated_inputs") else "") + ". "
             f"Pages skipped: {counts(dig(m, 'skipped', 'pages_other_namespaces'))}.", ""]
    return lines


def parallel(ctx: ReportContext) -> list[str]:
    m, lines = ctx.load(PARALLEL, "the parallel-text manifest", "parallel")
    if m is None:
        return lines
    rows = []
    for name, s in (m.get("sources") or {}).items():
        for pair, p in (dig(s, "by_pair", default={}) or {name: s}).items():
            rows.append([name, pair, "evaluation" if s.get("evaluation") else "training", p.get("read", "-"),
                         p.get("rows", "-"), counts(p.get("dropped")), p.get("rejected", "-")])
    if not rows:
        rows = [["-", pair, "", "-", v, "", ""]
                for pair, v in (dig(m, "tables", "parallel", "by_pair", default={}) or {}).items()]
    rej = m.get("rejects") or {}
    lines = [f"From `{PARALLEL}`: **{fmt_int(dig(m, 'tables', 'parallel', 'rows'))} sentence pairs** "
             f"({'word-aligned' if dig(m, 'config', 'align') else 'not aligned'}).", "",
             md_table(["source", "pair", "split", "read", "kept", "dropped", "rejected"], rows,
                      right={3, 4, 6}), "",
             f"Rejected: {fmt_int(rej.get('pairs', 0))} pairs of {fmt_int(rej.get('pairs_read'))} read; by reason: "
             f"{counts(rej.get('by_reason'))}. Evaluation sources kept apart: "
             f"{', '.join(map(str, m.get('evaluation_sources') or [])) or 'none'}.", ""]
    return lines


def monolingual(ctx: ReportContext) -> list[str]:
    m, lines = ctx.load(MONO, "the monolingual-text manifest", "mono")
    if m is None:
        return lines
    rows = [[name, s.get("kind", "-"), s.get("read", "-"), s.get("rows", "-"), counts(s.get("dropped")),
             s.get("rejected", "-")] for name, s in (m.get("sources") or {}).items() if isinstance(s, dict)]
    by_lang = dig(m, "tables", "monolingual", "by_lang", default={}) or {}
    rej = m.get("rejects") or {}
    lines = [f"From `{MONO}`: **{fmt_int(dig(m, 'tables', 'monolingual', 'rows'))} texts** in {len(by_lang)} "
             f"language(s) ({counts(dict(top_n(by_lang, ctx.top)))}).", ""]
    if rows:
        lines += [md_table(["source", "kind", "read", "kept", "dropped", "rejected"], rows, right={2, 3, 5}), ""]
    lines += [f"Dropped: {counts(dig(m, 'dropped', 'by_reason'))}. Rejected: {fmt_int(rej.get('lines', 0))} of "
              f"{fmt_int(rej.get('read'))} read; by reason: {counts(rej.get('by_reason'))}.", ""]
    return lines


def tokenizer(ctx: ReportContext) -> list[str]:
    m, lines = ctx.load(TOKENIZER, "the tokenizer manifest", "tokenizer")
    if m is None:
        return lines
    opts = m.get("sentencepiece_options") or {}
    sample = m.get("sample") or {}
    files = m.get("files") or {}
    sizes = []
    for name in files:
        p = ctx.io.path(os.path.join("tokenizer", name))
        sizes.append(f"`{name}` ({fmt_bytes(os.path.getsize(p))})" if os.path.exists(p) else f"`{name}` (missing)")
    ver = dig(m, "verification", "languages", default={}) or {}
    texts = sum(num(v.get("texts")) or 0 for v in ver.values() if isinstance(v, dict))
    equal = sum(num(v.get("equal")) or 0 for v in ver.values() if isinstance(v, dict))
    lines = [f"From `{TOKENIZER}`: a {m.get('kind', '?')} {opts.get('model_type', '?')} SentencePiece model, "
             f"**vocabulary {fmt_int(m.get('vocab_size'))}** ({fmt_int(opts.get('vocab_size'))} pieces plus "
             f"special tokens), character coverage {opts.get('character_coverage', '-')}, language sampling "
             f"exponent α = {dig(m, 'config', 'alpha', default='-')}. Trained on a sample of "
             f"{fmt_int(sample.get('rows'))} lines ({fmt_int(sample.get('chars'))} characters, "
             f"{fmt_int(sample.get('distinct_lines'))} distinct) in {fmt_s(num(dig(m, 'durations_s', 'total')))}."
             f" The transformers tokenizer ({dig(m, 'verification', 'transformers_class', default='?')}) gives "
             f"the same ids as SentencePiece on {fmt_int(equal)} of {fmt_int(texts)} check texts.", "",
             f"Files: {', '.join(sizes) or 'none listed'}.", ""]
    langs = m.get("languages") or {}
    if langs:
        rows = []
        chosen = top_n({k: num(dig(v, "corpus_chars")) or 0 for k, v in langs.items()}, ctx.top)
        named = {k for k, _ in chosen}
        for lang, _ in chosen:
            d = langs.get(lang) if lang in langs else {  # the "other" bucket: sums over the rest
                f: sum(num(dig(langs[k], f)) or 0 for k in langs if k not in named)
                for f in ("corpus_rows", "corpus_chars", "p", "q", "sampled_rows", "sampled_share")}
            d = d if isinstance(d, dict) else {}
            rows.append([lang, d.get("corpus_rows", "-"), d.get("corpus_chars", "-"), pct(d.get("p"), 1.0),
                         pct(d.get("q"), 1.0), d.get("sampled_rows", "-"), pct(d.get("sampled_share"), 1.0)])
        lines += ["Language sampling (p = share of the corpus, q = target share after α smoothing):", "",
                  md_table(["lang", "corpus rows", "corpus chars", "p", "q", "sampled rows", "sampled share"],
                           rows), ""]
    return lines


def shards(ctx: ReportContext) -> list[str]:
    m, lines = ctx.load(SHARDS, "the shard manifest", "shards")
    if m is None:
        return lines
    tasks = m.get("tasks") or {}
    rows = []
    for name, t in tasks.items():
        if not isinstance(t, dict):
            continue
        r, tok = num(t.get("rows")), num(t.get("tokens"))
        rows.append([name, t.get("rows", "-"), t.get("tokens", "-"), f"{tok / r:.1f}" if r and tok else "-",
                     len(t.get("tokens_by_lang") or {}), t.get("files", "-"), counts(t.get("dropped"))])
    total_rows = sum(num(t.get("rows")) or 0 for t in tasks.values() if isinstance(t, dict))
    total_tok = sum(num(t.get("tokens")) or 0 for t in tasks.values() if isinstance(t, dict))
    rows.append(["**total**", total_rows, total_tok, f"{total_tok / total_rows:.1f}" if total_rows else "-",
                 "", "", ""])
    lines = [f"From `{SHARDS}`: sequences of at most {fmt_int(m.get('max_len'))} tokens, at most "
             f"{fmt_int(m.get('max_rows'))} rows per file; the MLM task reads `{m.get('mlm_source_table', '?')}`; "
             f"excluded sources: {', '.join(map(str, m.get('excluded_sources') or [])) or 'none'}; built in "
             f"{fmt_s(num(m.get('duration_s')))}.", "",
             md_table(["task", "rows", "tokens", "tokens / row", "languages", "files", "dropped"], rows,
                      right={1, 2, 3, 4, 5}), ""]
    langs: dict[str, float] = {}
    for t in tasks.values():
        for lang, v in (dig(t, "tokens_by_lang", default={}) or {}).items():
            langs[lang] = langs.get(lang, 0) + (num(v) or 0)
    if langs:
        shown = sorted(k for k, _ in top_n(langs, ctx.top) if not k.startswith("other ("))
        has_other = len(shown) < len(langs)
        trows = []
        for name, t in tasks.items():
            by = dig(t, "tokens_by_lang", default={}) or {}
            row = [name] + [by.get(k, "-") for k in shown]
            if has_other:
                row.append(sum(num(v) or 0 for k, v in by.items() if k not in shown))
            trows.append(row)
        header = ["task"] + shown + ([f"other ({len(langs) - len(shown)})"] if has_other else [])
        lines += ["Tokens by language and task (a pair counts the tokens of both sides: `pairs` under its "
                  "source language, `distill` under its non-English language):"
                  if {"pairs", "distill"} & set(tasks) else "Tokens by language and task:", "",
                  md_table(header, trows), ""]
    lines += ctx.figure(plot_shard_tokens(tasks, ctx.top, ctx.out), "tokens per shard task and language",
                         "no task records tokens by language")
    return lines


def plot_shard_tokens(tasks: dict, top: int, out: str) -> str | None:
    """Stacked horizontal bars: tokens per shard task, split by language (top languages, then "other")."""
    rows = {t: v.get("tokens_by_lang") for t, v in tasks.items() if isinstance(v, dict)}
    rows = {t: {k: x for k, x in (d or {}).items() if num(x)} for t, d in rows.items() if isinstance(d, dict)}
    rows = {t: d for t, d in rows.items() if d}
    if not rows:
        return None
    totals: dict[str, float] = {}
    for d in rows.values():
        for lang, v in d.items():
            totals[lang] = totals.get(lang, 0) + v
    keep = [k for k, _ in top_n(totals, min(top, 10))]
    other_label = next((k for k in keep if k.startswith("other (")), None)
    langs = sorted(k for k in keep if k != other_label)
    order = sorted(rows, key=lambda t: -sum(rows[t].values()))
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(order) + 2.2))
    left = [0.0] * len(order)
    series = [(lang, [rows[t].get(lang, 0) for t in order]) for lang in langs]
    if other_label:
        series.append((f"other languages ({other_label[7:-1]})",
                       [sum(v for k, v in rows[t].items() if k not in langs) for t in order]))
    # at most 10 named languages: tab10 without its grey, plus a dark blue; "other" is grey
    palette = [plt.get_cmap("tab10")(i) for i in (0, 1, 2, 3, 4, 5, 6, 8, 9)] + ["#393b79"]
    for i, (name, vals) in enumerate(series):
        color = "0.65" if name.startswith("other languages") else palette[i % len(palette)]
        ax.barh(order, vals, left=left, label=name, color=color, height=0.65, edgecolor="white", linewidth=0.5)
        left = [a + b for a, b in zip(left, vals, strict=True)]
    for i, total in enumerate(left):
        ax.annotate(f"{total:,.0f}", (total, i), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8)
    ax.set_xlim(0, max(left) * 1.12)
    ax.invert_yaxis()
    ax.set_xlabel("tokens")
    ax.set_ylabel("shard task")
    ax.set_title("Tokens per shard task, by language")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.grid(True, axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    ax.legend(title="language", loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9)
    fig.tight_layout()
    return save_figure(fig, os.path.join(out, "shard_tokens_by_lang.png"))


# the subsections in order; the per-language overview has no heading of its own
PARTS = [
    Section(None, "the per-language overview", languages),
    Section("### Knowledge graph", f"`{KG}`", kg),
    Section("### Corpus", f"`{CORPUS}`", corpus),
    Section("### Parallel text", f"`{PARALLEL}`", parallel),
    Section("### Monolingual text", f"`{MONO}`", monolingual),
    Section("### Tokenizer", f"`{TOKENIZER}`", tokenizer),
    Section("### Shards", f"`{SHARDS}`", shards),
]
