"""The report's data section: the statistics of every data stage (KG, corpus, parallel and monolingual
text, tokenizer, shards) from their manifests."""

from __future__ import annotations

import os

from jobs.report_common import (
    CORPUS,
    CORPUS_REPORT,
    KG,
    MONO,
    PARALLEL,
    SHARDS,
    TOKENIZER,
    _get,
    _num,
    counts,
    fmt_bytes,
    fmt_int,
    fmt_s,
    md_table,
    pct,
    plot_shard_tokens,
    top_n,
)


class DataSections:
    """The "Data statistics per stage" section of :class:`jobs.report.Report`, one method per stage
    (a mixin: it uses the report's ``io``, ``load``, ``guarded``, ``figure``, ``top`` and ``out``)."""

    def data(self) -> list[str]:
        lines: list[str] = []
        lines += self.guarded("the per-language overview", self.overview)
        lines += ["### Knowledge graph", ""] + self.guarded(f"`{KG}`", self.kg)
        lines += ["### Corpus", ""] + self.guarded(f"`{CORPUS}`", self.corpus)
        lines += ["### Parallel text", ""] + self.guarded(f"`{PARALLEL}`", self.parallel)
        lines += ["### Monolingual text", ""] + self.guarded(f"`{MONO}`", self.monolingual)
        lines += ["### Tokenizer", ""] + self.guarded(f"`{TOKENIZER}`", self.tokenizer)
        lines += ["### Shards", ""] + self.guarded(f"`{SHARDS}`", self.shards)
        return lines

    def overview(self) -> list[str]:
        kg, _ = self.io.json(KG)
        corpus, _ = self.io.json(CORPUS)
        par, _ = self.io.json(PARALLEL)
        mono, _ = self.io.json(MONO)
        tok, _ = self.io.json(TOKENIZER)
        shards, _ = self.io.json(SHARDS)
        pl = _get(corpus, "per_lang", default={}) or {}
        shard_tokens: dict[str, float] = {}
        for t in (_get(shards, "tasks", default={}) or {}).values():
            for lang, v in (_get(t, "tokens_by_lang", default={}) or {}).items():
                shard_tokens[lang] = shard_tokens.get(lang, 0) + (_num(v) or 0)
        pairs_by_lang: dict[str, float] = {}
        for pair, v in (_get(par, "tables", "parallel", "by_pair", default={}) or {}).items():
            for lang in set(str(pair).split("-")):
                pairs_by_lang[lang] = pairs_by_lang.get(lang, 0) + (_num(v) or 0)
        mono_by = _get(mono, "tables", "monolingual", "by_lang", default={}) or {}
        tok_langs = _get(tok, "languages", default={}) or {}
        langs = set(_get(corpus, "config", "languages", default=[]) or []) | set(pl.get("pages", {}) or {}) \
            | set(mono_by) | set(shard_tokens) | set(tok_langs)
        langs = {str(x) for x in langs}
        if not langs:
            return []

        def vol(lang):
            return (shard_tokens.get(lang, 0), _num((pl.get("sentences") or {}).get(lang)) or 0)

        order = sorted(langs)
        more = ""
        if len(order) > self.top:
            order = sorted(sorted(langs, key=vol, reverse=True)[:self.top])
            more = f" The {len(langs) - self.top} languages with the fewest shard tokens are left out."
        labels = _get(kg, "tables", "entities", "labels_by_lang", default={}) or {}
        sitelinks = _get(kg, "tables", "sitelinks", "by_lang", default={}) or {}
        rows = []
        for lang in order:
            links = (pl.get("links") or {}).get(lang)
            res = (pl.get("links_resolved") or {}).get(lang)
            rows.append([lang, labels.get(lang, "-"), sitelinks.get(lang, "-"), (pl.get("pages") or {}).get(lang, "-"),
                         (pl.get("sentences") or {}).get(lang, "-"), links if links is not None else "-",
                         pct(res, links), mono_by.get(lang, "-"), pairs_by_lang.get(lang, "-"),
                         pct(_get(tok_langs, lang, "sampled_share"), 1.0), shard_tokens.get(lang, "-")])
        return ["Per language, across the stages (KG labels and sitelinks from the KG; pages, sentences and links "
                "from the corpus; resolved = links resolved to a Wikidata entity; parallel = pairs the language is "
                "in; tokenizer = its share of the tokenizer's training sample; shard tokens summed over tasks)."
                + more, "",
                md_table(["lang", "KG labels", "sitelinks", "pages", "sentences", "links", "resolved",
                          "monolingual", "parallel pairs", "tokenizer sample", "shard tokens"], rows), ""]

    def kg(self) -> list[str]:
        m, lines = self.load(KG, "the KG manifest", "kg")
        if m is None:
            return lines
        t = m.get("tables") or {}
        ent = t.get("entities") or {}
        rej = m.get("rejects") or {}
        skipped = m.get("skipped") or {}
        snaks = skipped.get("snaks") if isinstance(skipped.get("snaks"), dict) else {}
        rows = [
            ["entities", ent.get("rows", "-"), f"by kind: {counts(ent.get('by_kind'))}"],
            ["labels", sum(v for v in (ent.get("labels_by_lang") or {}).values() if _num(v)),
             f"in {len(ent.get('labels_by_lang') or {})} languages"],
            ["triples", _get(t, "triples", "rows", default="-"), f"by rank: {counts(_get(t, 'triples', 'by_rank'))}"],
            ["sitelinks", _get(t, "sitelinks", "rows", default="-"),
             f"to {len(_get(t, 'sitelinks', 'by_lang', default={}) or {})} wikis; skipped: "
             f"{counts(skipped.get('sitelinks'))}"],
            ["properties", _get(t, "properties", "rows", default="-"),
             f"by datatype: {counts(_get(t, 'properties', 'by_datatype'))}"],
            ["rejected records", _get(t, "rejects", "rows", default=rej.get("count", "-")),
             f"{pct(rej.get('count'), rej.get('records'))} of {fmt_int(rej.get('records'))} records "
             f"(limit {pct(rej.get('max_fraction'), 1.0)}); by reason: {counts(_get(t, 'rejects', 'by_reason'))}"],
            ["skipped statements", skipped.get("statements_deprecated", "-"), "deprecated rank"],
            ["skipped snaks", sum(v for v in snaks.values() if _num(v)), f"by cause: {counts(snaks)}"],
        ]
        lines = [f"From `{KG}`:", "", md_table(["", "count", "detail"], rows, right={1}), ""]
        labels = ent.get("labels_by_lang") or {}
        sitelinks = _get(t, "sitelinks", "by_lang", default={}) or {}
        if labels or sitelinks:
            langs = top_n({k: (_num(labels.get(k)) or 0) + (_num(sitelinks.get(k)) or 0)
                           for k in set(labels) | set(sitelinks)}, self.top)
            rows = []
            for lang, _ in langs:
                if lang.startswith("other ("):
                    rest = set(labels) | set(sitelinks)
                    shown = {k for k, _ in langs}
                    rest -= shown
                    rows.append([lang, sum(_num(labels.get(k)) or 0 for k in rest),
                                 sum(_num(sitelinks.get(k)) or 0 for k in rest)])
                else:
                    rows.append([lang, labels.get(lang, 0), sitelinks.get(lang, 0)])
            lines += [f"Labels and sitelinks per language (the {min(len(rows), self.top)} largest"
                      + (", the rest as other" if len(langs) > self.top else "") + "):", "",
                      md_table(["language / wiki", "labels", "sitelinks"], rows), ""]
        return lines

    def corpus(self) -> list[str]:
        m, lines = self.load(CORPUS, "the corpus manifest", "corpus")
        if m is None:
            return lines
        t = m.get("tables") or {}
        pl = m.get("per_lang") or {}
        links = sum(_num(v) or 0 for v in (pl.get("links") or {}).values())
        resolved = sum(_num(v) or 0 for v in (pl.get("links_resolved") or {}).values())
        rej = m.get("rejects") or {}
        unresolved: dict[str, float] = {}
        for reasons in (pl.get("unresolved_reasons") or {}).values():
            for k, v in (reasons or {}).items():
                unresolved[k] = unresolved.get(k, 0) + (_num(v) or 0)
        desc = {"pages": "articles kept (main namespace, not redirects)", "redirects": "redirect pages",
                "sentences": "sentences of the article text", "mentions": "links kept as entity mentions",
                "entity_docs": "entity description documents", "candidates": "entity candidates (top-N)",
                "mep_examples": "masked entity prediction examples", "oe_examples": "object entity examples",
                "rejects": "rejected pages"}
        rows = [[k, _get(v, "rows", default="-"), desc.get(k, "")] for k, v in t.items()]
        lines = [f"From `{CORPUS}`. The corpus job's own report, with its figures: "
                 f"[corpus/report/report.md](../{CORPUS_REPORT})"
                 + ("" if self.io.exists(CORPUS_REPORT) else " (**missing**)") + ".", "",
                 md_table(["table", "rows", "what"], rows, right={1}), "",
                 f"Mentions: {fmt_int(resolved)} of {fmt_int(links)} links resolved to a Wikidata entity "
                 f"(**{pct(resolved, links)}**); unresolved by reason: {counts(unresolved)}.", "",
                 f"Rejected pages: {fmt_int(rej.get('count', 0))} of {fmt_int(rej.get('pages_read'))} read "
                 f"({pct(rej.get('count', 0), rej.get('pages_read'))}, limit {pct(rej.get('max_fraction'), 1.0)}); "
                 f"by reason: {counts(rej.get('by_reason'))}"
                 + (f"; truncated inputs: {', '.join(map(str, rej['truncated_inputs']))}"
                    if rej.get("truncated_inputs") else "") + ". "
                 f"Pages skipped: {counts(_get(m, 'skipped', 'pages_other_namespaces'))}.", ""]
        return lines

    def parallel(self) -> list[str]:
        m, lines = self.load(PARALLEL, "the parallel-text manifest", "parallel")
        if m is None:
            return lines
        rows = []
        for name, s in (m.get("sources") or {}).items():
            for pair, p in (_get(s, "by_pair", default={}) or {name: s}).items():
                rows.append([name, pair, "evaluation" if s.get("evaluation") else "training", p.get("read", "-"),
                             p.get("rows", "-"), counts(p.get("dropped")), p.get("rejected", "-")])
        if not rows:
            rows = [["-", pair, "", "-", v, "", ""]
                    for pair, v in (_get(m, "tables", "parallel", "by_pair", default={}) or {}).items()]
        rej = m.get("rejects") or {}
        lines = [f"From `{PARALLEL}`: **{fmt_int(_get(m, 'tables', 'parallel', 'rows'))} sentence pairs** "
                 f"({'word-aligned' if _get(m, 'config', 'align') else 'not aligned'}).", "",
                 md_table(["source", "pair", "split", "read", "kept", "dropped", "rejected"], rows,
                          right={3, 4, 6}), "",
                 f"Rejected: {fmt_int(rej.get('pairs', 0))} pairs of {fmt_int(rej.get('pairs_read'))} read; by reason: "
                 f"{counts(rej.get('by_reason'))}. Evaluation sources kept apart: "
                 f"{', '.join(map(str, m.get('evaluation_sources') or [])) or 'none'}.", ""]
        return lines

    def monolingual(self) -> list[str]:
        m, lines = self.load(MONO, "the monolingual-text manifest", "mono")
        if m is None:
            return lines
        rows = [[name, s.get("kind", "-"), s.get("read", "-"), s.get("rows", "-"), counts(s.get("dropped")),
                 s.get("rejected", "-")] for name, s in (m.get("sources") or {}).items() if isinstance(s, dict)]
        by_lang = _get(m, "tables", "monolingual", "by_lang", default={}) or {}
        rej = m.get("rejects") or {}
        lines = [f"From `{MONO}`: **{fmt_int(_get(m, 'tables', 'monolingual', 'rows'))} texts** in {len(by_lang)} "
                 f"language(s) ({counts(dict(top_n(by_lang, self.top)))}).", ""]
        if rows:
            lines += [md_table(["source", "kind", "read", "kept", "dropped", "rejected"], rows, right={2, 3, 5}), ""]
        lines += [f"Dropped: {counts(_get(m, 'dropped', 'by_reason'))}. Rejected: {fmt_int(rej.get('lines', 0))} of "
                  f"{fmt_int(rej.get('read'))} read; by reason: {counts(rej.get('by_reason'))}.", ""]
        return lines

    def tokenizer(self) -> list[str]:
        m, lines = self.load(TOKENIZER, "the tokenizer manifest", "tokenizer")
        if m is None:
            return lines
        opts = m.get("sentencepiece_options") or {}
        sample = m.get("sample") or {}
        files = m.get("files") or {}
        sizes = []
        for name in files:
            p = self.io.path(os.path.join("tokenizer", name))
            sizes.append(f"`{name}` ({fmt_bytes(os.path.getsize(p))})" if os.path.exists(p) else f"`{name}` (missing)")
        ver = _get(m, "verification", "languages", default={}) or {}
        texts = sum(_num(v.get("texts")) or 0 for v in ver.values() if isinstance(v, dict))
        equal = sum(_num(v.get("equal")) or 0 for v in ver.values() if isinstance(v, dict))
        lines = [f"From `{TOKENIZER}`: a {m.get('kind', '?')} {opts.get('model_type', '?')} SentencePiece model, "
                 f"**vocabulary {fmt_int(m.get('vocab_size'))}** ({fmt_int(opts.get('vocab_size'))} pieces plus "
                 f"special tokens), character coverage {opts.get('character_coverage', '-')}, language sampling "
                 f"exponent α = {_get(m, 'config', 'alpha', default='-')}. Trained on a sample of "
                 f"{fmt_int(sample.get('rows'))} lines ({fmt_int(sample.get('chars'))} characters, "
                 f"{fmt_int(sample.get('distinct_lines'))} distinct) in {fmt_s(_num(_get(m, 'durations_s', 'total')))}."
                 f" The transformers tokenizer ({_get(m, 'verification', 'transformers_class', default='?')}) gives "
                 f"the same ids as SentencePiece on {fmt_int(equal)} of {fmt_int(texts)} check texts.", "",
                 f"Files: {', '.join(sizes) or 'none listed'}.", ""]
        langs = m.get("languages") or {}
        if langs:
            rows = []
            chosen = top_n({k: _num(_get(v, "corpus_chars")) or 0 for k, v in langs.items()}, self.top)
            named = {k for k, _ in chosen}
            for lang, _ in chosen:
                d = langs.get(lang) if lang in langs else {  # the "other" bucket: sums over the rest
                    f: sum(_num(_get(langs[k], f)) or 0 for k in langs if k not in named)
                    for f in ("corpus_rows", "corpus_chars", "p", "q", "sampled_rows", "sampled_share")}
                d = d if isinstance(d, dict) else {}
                rows.append([lang, d.get("corpus_rows", "-"), d.get("corpus_chars", "-"), pct(d.get("p"), 1.0),
                             pct(d.get("q"), 1.0), d.get("sampled_rows", "-"), pct(d.get("sampled_share"), 1.0)])
            lines += ["Language sampling (p = share of the corpus, q = target share after α smoothing):", "",
                      md_table(["lang", "corpus rows", "corpus chars", "p", "q", "sampled rows", "sampled share"],
                               rows), ""]
        return lines

    def shards(self) -> list[str]:
        m, lines = self.load(SHARDS, "the shard manifest", "shards")
        if m is None:
            return lines
        tasks = m.get("tasks") or {}
        rows = []
        for name, t in tasks.items():
            if not isinstance(t, dict):
                continue
            r, tok = _num(t.get("rows")), _num(t.get("tokens"))
            rows.append([name, t.get("rows", "-"), t.get("tokens", "-"), f"{tok / r:.1f}" if r and tok else "-",
                         len(t.get("tokens_by_lang") or {}), t.get("files", "-"), counts(t.get("dropped"))])
        total_rows = sum(_num(t.get("rows")) or 0 for t in tasks.values() if isinstance(t, dict))
        total_tok = sum(_num(t.get("tokens")) or 0 for t in tasks.values() if isinstance(t, dict))
        rows.append(["**total**", total_rows, total_tok, f"{total_tok / total_rows:.1f}" if total_rows else "-",
                     "", "", ""])
        lines = [f"From `{SHARDS}`: sequences of at most {fmt_int(m.get('max_len'))} tokens, at most "
                 f"{fmt_int(m.get('max_rows'))} rows per file; the MLM task reads `{m.get('mlm_source_table', '?')}`; "
                 f"excluded sources: {', '.join(map(str, m.get('excluded_sources') or [])) or 'none'}; built in "
                 f"{fmt_s(_num(m.get('duration_s')))}.", "",
                 md_table(["task", "rows", "tokens", "tokens / row", "languages", "files", "dropped"], rows,
                          right={1, 2, 3, 4, 5}), ""]
        langs: dict[str, float] = {}
        for t in tasks.values():
            for lang, v in (_get(t, "tokens_by_lang", default={}) or {}).items():
                langs[lang] = langs.get(lang, 0) + (_num(v) or 0)
        if langs:
            shown = sorted(k for k, _ in top_n(langs, self.top) if not k.startswith("other ("))
            has_other = len(shown) < len(langs)
            trows = []
            for name, t in tasks.items():
                by = _get(t, "tokens_by_lang", default={}) or {}
                row = [name] + [by.get(k, "-") for k in shown]
                if has_other:
                    row.append(sum(_num(v) or 0 for k, v in by.items() if k not in shown))
                trows.append(row)
            header = ["task"] + shown + ([f"other ({len(langs) - len(shown)})"] if has_other else [])
            lines += ["Tokens by language and task (a pair counts the tokens of both sides: `pairs` under its "
                      "source language, `distill` under its non-English language):"
                      if {"pairs", "distill"} & set(tasks) else "Tokens by language and task:", "",
                      md_table(header, trows), ""]
        lines += self.figure(plot_shard_tokens(tasks, self.top, self.out), "tokens per shard task and language",
                             "no task records tokens by language")
        return lines

    # -- training
