"""Multilingual factual-knowledge probing of a masked LM: X-FACTR (Jiang et al., 2020) and probes from our KG.

    python -m trainer.evaluate.probe MODEL [--source xfactr|kg] [--langs en,fr,...] [--kg DIR]
        [--templates FILE] [--facts-per-relation N] [--relations P17,P19] [--max-masks 5]
        [--out JSON] [--data DIR]

MODEL is what :func:`trainer.evaluate.common.resolve_model` accepts (an exported xlkit model, an xlkit
checkpoint, a local ``transformers`` directory) and must have a masked-LM head: the model is loaded with
``AutoModelForMaskedLM`` and refused when the head weights were missing (newly initialised), as for the
sentence-transformers teacher all-MiniLM-L6-v2. An xlkit model gets the language id of each prompt as
``token_type_ids`` (:meth:`ModelDir.lang_id_or_none`; a language it was not trained on gets row 0).

**X-FACTR data** (``--data``, default ``../shared/data/xfactr`` beside the checkout): ``TREx_prompts.csv``
(one template per relation and language, ``[X]`` the subject, ``[Y]`` the object), ``mTRExf/sub/P*.jsonl.gz``
(31 relations x 1,000 facts: ``sub_uri, sub_label`` (English), ``obj_uri, obj_label``) and
``alias/mTRExf/{lang}.txt.gz`` (``QID<TAB>alias<TAB>alias...``, sorted alphabetically: the canonical label
is not marked). The languages are those with an alias list (en es fr hu ja nl ru sw zh). Per relation
the first ``facts_per_relation`` subjects in file order are probed, the same ones in every language; a
subject with several objects is one fact whose gold is the union of the objects' aliases.

**Rendering** (a documented simplification: we have no gender, number or case features). In order:
an alternation ``[né;X-Gender=MASC|née;X-Gender=FEM]`` -> its first form (``né``, the masculine); a
function marker ``[DEF;X]``, ``[PREPLOC;Y]``, ``[DEF.Gen;X]``, ``[DEF;Y.Fem]``, ``[ART;Y-Gender]`` ->
removed (so French P19 loses its preposition: ``[X] est né [Y] .``); an inflected slot ``[X.Nom]``,
``[Y.IN+ESS]``, ``[Y;be]`` -> ``[X]``/``[Y]`` (the object is asked for in its citation form); spaces
collapsed. A template that is empty, lacks ``[X]`` or ``[Y]`` or has two (mg P31 is ``[Y] dia [Y] .``),
or keeps markup these rules do not know (war ``[X bad]``, he ``[Х]`` in Cyrillic) is skipped: one
stderr line names relation, language and reason, and the result counts it per language (its facts are
counted as skipped too).

**Surface forms** in language L: the subject is the English ``sub_label`` for en; otherwise its label
in L from our KG when ``--kg`` is given and has one, else the alias in L's list most similar to the
English label (``difflib`` ratio; only aliases with a letter in them, those without a parenthesised
disambiguator such as ``ダグ (アニメ)`` first; ties -> the shorter, then the alphabetically first).
Gold answers are all aliases of the object(s) in L (for en also ``obj_label``; with ``--kg`` also the
objects' KG label and aliases in L). A fact whose subject or objects have no form in L is skipped for
L and counted with its reason.

**KG probes** (``--source kg --kg DIR``, the ``build_kg`` output: Parquet tables ``entities``,
``properties``, ``triples``): one fact per (subject, property) of the non-deprecated triples, with the
objects' labels and aliases in L as gold; probed in L when subject and some object have a label in L
and the property has a template in L. The generated template is crude: ``[X] <property label in L>
[Y] .`` (``[X]<label>[Y]。`` for zh/ja, written without spaces), e.g. ``[X] country [Y] .``. A
template file (``--templates FILE``, JSON ``{"P17": {"en": "[X] is located in [Y] .", ...}}``, also
X-FACTR markup) overrides the generated template (or the X-FACTR one) of each (property, language) it
names; an invalid one is reported and counted, and that pair is not probed (the crude template does
not silently stand in). No valid template at all is an error.

**Decoding** (X-FACTR "independent"): for n = 1..``max_masks``, ``[Y]`` becomes n mask tokens written
together (``[X] was born in <mask><mask> .``; sentencepiece masks strip the space before them), one
forward pass (prompts of a language batched and padded; the LM head runs on the mask positions only);
each mask takes its argmax independently (special tokens excluded) under the full-vocabulary
log-softmax; the candidate's score is the mean log-probability of its chosen tokens; the n with the
best score wins (ties -> fewer masks) and its ids are decoded with the tokenizer.

**Scoring**: a prediction is correct when its normalised form (NFKC, casefold, whitespace collapsed,
spaces between CJK characters removed, surrounding punctuation stripped) equals the normalised form of
a gold answer. Results: accuracy (correct / probed facts) per language (also ``macro_relation``, the
mean over its relations), per relation (all languages pooled) and per (language, relation); averages
(``macro``: mean of the per-language accuracies, ``micro``: pooled); the **transfer gap**, en accuracy
minus the mean accuracy of the other languages; counts of probed and skipped facts (by reason) and of
skipped templates; a few example predictions per language.

**Defaults**: all 9 alias languages, all 31 relations (the csv has 46 rows; 15 have no facts file), 50
facts (subjects) per relation, up to 5 masks, 128 prompts a batch: 13,950 facts of which about 12,000
can be probed (60,000 prompts); the 2-layer demo model takes about 15 s on one CPU thread, an XLM-R
base model some minutes.
"""

from __future__ import annotations

import argparse
import csv
import difflib
import gzip
import json
import re
import sys
import time
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import torch

from xlkit_core.environment import check_environment

from .common import EvalError, ModelDir, load_tokenizer, quiet_transformers, resolve_model, write_json

DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "xfactr"
FACTS_PER_RELATION = 50
MAX_MASKS = 5
BATCH_SIZE = 128
NO_SPACE_LANGS = {"zh", "ja", "yue", "wuu", "gan", "lzh"}      # generated KG templates without spaces

# ---------------------------------------------------------------------------------------------- templates

_ALT = re.compile(r"\[([^\[\];|]*);[^\[\]|]*(?:\|[^\[\]]*)+\]")   # [né;X-Gender=MASC|née;...] -> né
_MARKER = re.compile(r"\[[^\[\]\s;|]+;[XY](?:[.-][^\[\]]*)?\]")      # [DEF;X] [PREPLOC;Y] [ART;Y-Gender] -> ''
_SLOT = re.compile(r"\[([XY])[.;][^\[\]]*\]")                       # [X.Nom] [Y.IN+ESS] [Y;be] -> [X]/[Y]
_BRACKET = re.compile(r"\[[^\]]*\]?")


def render_template(raw: str | None) -> tuple[str | None, str | None]:
    """(rendered template, None) or (None, reason it cannot be used); the rules in the module docstring."""
    if raw is None or not raw.strip():
        return None, "empty template"
    s = _SLOT.sub(r"[\1]", _MARKER.sub("", _ALT.sub(r"\1", raw)))
    s = " ".join(s.split())
    left = [m for m in _BRACKET.findall(s) if m not in ("[X]", "[Y]")]
    if left:
        return None, f"unknown markup {left[0]}"
    for slot in ("[Y]", "[X]"):
        if s.count(slot) != 1:
            return None, f"no {slot}" if slot not in s else f"{s.count(slot)} {slot} slots"
    return s, None


def _skip_template(skipped: dict, relation: str, lang: str, raw, reason: str) -> None:
    skipped["templates"].append({"relation": relation, "lang": lang, "template": raw, "reason": reason})
    print(f"probe: skipping the template of {relation} in {lang} ({raw!r}): {reason}", file=sys.stderr)


# ---------------------------------------------------------------------------------------------- probes


@dataclass(frozen=True)
class Fact:
    relation: str
    lang: str
    subject: str                   # surface form in ``lang``
    gold: tuple[str, ...]          # accepted answers in ``lang``
    sub_id: str = ""
    obj_ids: tuple[str, ...] = ()


class Probes(NamedTuple):
    """facts; templates {relation: {lang: rendered template}}; skipped {"facts": {lang: {reason: n}},
    "templates": [{"relation", "lang", "template", "reason"}]}."""
    facts: list[Fact]
    templates: dict[str, dict[str, str]]
    skipped: dict


def _new_skipped(langs) -> dict:
    return {"facts": {lang: Counter() for lang in langs}, "templates": []}


def _load_user_templates(templates) -> dict[str, dict[str, str]]:
    if templates is None:
        return {}
    if isinstance(templates, dict):
        data, where = templates, "the templates"
    else:
        where = str(templates)
        try:
            data = json.loads(Path(templates).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise EvalError(f"template file {where} does not exist") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise EvalError(f"template file {where} is not JSON ({exc})") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise EvalError(f"{where}: expected {{\"P17\": {{\"en\": \"[X] is located in [Y] .\", ...}}, ...}}")
    return {str(p): {str(lang): t for lang, t in v.items()} for p, v in data.items()}


def _apply_templates(base: dict[str, dict[str, str]], user: dict[str, dict[str, str]], langs, skipped,
                     xfactr: bool = False) -> dict[str, dict[str, str]]:
    """Render the base (raw) templates, let the user's override them per (relation, language)."""
    out: dict[str, dict[str, str]] = defaultdict(dict)
    for rel in sorted(set(base) | set(user), key=lambda p: (len(p), p)):
        for lang in langs:
            if lang in user.get(rel, {}):
                raw, src = user[rel][lang], "template file"
            elif lang in base.get(rel, {}):
                raw, src = base[rel][lang], "X-FACTR" if xfactr else "generated"
            else:
                continue
            t, why = render_template(raw if isinstance(raw, str) else None)
            if t is None:
                _skip_template(skipped, rel, lang, raw, f"{why} ({src})")
            else:
                out[rel][lang] = t
    return dict(out)


def read_kg(kg_dir) -> tuple[dict, dict, list]:
    """({qid: (labels, aliases)}, {pid: labels}, [(subject, property, object, rank)]) of a build_kg output."""
    import pyarrow.parquet as pq

    d = Path(kg_dir)
    for t in ("entities", "properties", "triples"):
        if not (d / t).exists():
            raise EvalError(f"{d} has no {t} table: give the output directory of the KG job "
                            "(python -m jobs.build_kg --input DUMP --out DIR)")
    ents = {}
    for r in pq.read_table(d / "entities", columns=["qid", "labels", "aliases"]).to_pylist():
        ents[r["qid"]] = (dict(r["labels"] or []), {k: list(v or []) for k, v in (r["aliases"] or [])})
    props = {r["pid"]: dict(r["labels"] or [])
             for r in pq.read_table(d / "properties", columns=["pid", "labels"]).to_pylist()}
    triples = [tuple(r.values()) for r in pq.read_table(d / "triples", columns=["subject", "property", "object",
                                                                                "rank"]).to_pylist()]
    return ents, props, triples


def _kg_forms(ents: dict, qid: str, lang: str) -> list[str]:
    labels, aliases = ents.get(qid, ({}, {}))
    return ([labels[lang]] if labels.get(lang) else []) + [a for a in aliases.get(lang, []) if a]


def kg_probes(kg_dir, langs=None, templates=None) -> Probes:
    """Probes from the triples of our KG; ``templates`` is a dict or a JSON file (module docstring);
    ``langs`` defaults to the languages in which some property has a label."""
    ents, props, triples = read_kg(kg_dir)
    langs = list(langs) if langs else sorted({lang for labels in props.values() for lang in labels})
    skipped = _new_skipped(langs)
    base = {}
    for pid, labels in props.items():
        for lang in langs:
            if labels.get(lang):
                nospace = lang.split("-")[0] in NO_SPACE_LANGS
                base.setdefault(pid, {})[lang] = (f"[X]{labels[lang]}[Y]。" if nospace
                                                  else f"[X] {labels[lang]} [Y] .")
    rendered = _apply_templates(base, _load_user_templates(templates), langs, skipped)
    if not any(rendered.values()):
        raise EvalError(f"no valid template for the languages {', '.join(langs)} in {kg_dir}: the properties "
                        "have no labels in them and the template file gives none that is usable")
    groups: dict[tuple[str, str], list[str]] = {}
    for s, p, o, rank in triples:
        if rank != "deprecated":
            groups.setdefault((s, p), []).append(o)
    facts = []
    for (s, p), objs in groups.items():
        for lang in langs:
            if lang not in rendered.get(p, {}):
                skipped["facts"][lang]["no template for the property"] += 1
                continue
            subj = ents.get(s, ({}, {}))[0].get(lang)
            gold = list(dict.fromkeys(f for o in objs for f in _kg_forms(ents, o, lang)))
            if not subj:
                skipped["facts"][lang]["no subject label"] += 1
            elif not gold:
                skipped["facts"][lang]["no object label"] += 1
            else:
                facts.append(Fact(p, lang, subj, tuple(gold), s, tuple(objs)))
    return Probes(facts, rendered, skipped)


def read_aliases(path) -> dict[str, list[str]]:
    out = {}
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) > 1:
                out[parts[0]] = [a for a in parts[1:] if a.strip()]
    return out


def xfactr_languages(data_dir=DEFAULT_DATA) -> list[str]:
    return sorted(p.name.split(".")[0] for p in (Path(data_dir) / "alias" / "mTRExf").glob("*.txt.gz"))


def xfactr_relations(data_dir=DEFAULT_DATA) -> list[str]:
    """Relations with both a facts file and a template row, in numeric order."""
    d = Path(data_dir)
    with open(d / "TREx_prompts.csv", encoding="utf-8", newline="") as f:
        rows = {r["pid"] for r in csv.DictReader(f)}
    have = {p.name.split(".")[0] for p in (d / "mTRExf" / "sub").glob("P*.jsonl.gz")}
    return sorted(rows & have, key=lambda p: int(p[1:]))


def read_facts(data_dir, relation: str, n: int | None = None) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """[(sub_uri, sub_label, [(obj_uri, obj_label), ...])] of the first ``n`` subjects in file order."""
    subs: dict[str, tuple[str, list]] = {}
    with gzip.open(Path(data_dir) / "mTRExf" / "sub" / f"{relation}.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r["sub_uri"] not in subs:
                if n is not None and len(subs) >= n:
                    continue
                subs[r["sub_uri"]] = (r["sub_label"], [])
            if r["obj_uri"] not in {o for o, _ in subs[r["sub_uri"]][1]}:
                subs[r["sub_uri"]][1].append((r["obj_uri"], r["obj_label"]))
    return [(s, lab, objs) for s, (lab, objs) in subs.items()]


def closest_alias(english: str, aliases: list[str]) -> str | None:
    """The alias most similar to the English label (difflib ratio; aliases with a letter only, those without
    a parenthesised disambiguator first; ties -> the shorter, then the alphabetically first)."""
    cands = [a for a in aliases if any(c.isalpha() for c in a)]
    if not cands:
        return None
    e = english.casefold()
    return min(cands, key=lambda a: ("(" in a, -difflib.SequenceMatcher(None, e, a.casefold()).ratio(), len(a), a))


def xfactr_probes(data_dir=DEFAULT_DATA, langs=None, relations=None, facts_per_relation: int | None =
                  FACTS_PER_RELATION, kg_dir=None, templates=None) -> Probes:
    """X-FACTR probes (module docstring); ``langs`` defaults to every language with an alias list."""
    d = Path(data_dir)
    for need in ("TREx_prompts.csv", "mTRExf/sub", "alias/mTRExf"):
        if not (d / need).exists():
            raise EvalError(f"{d / need} is missing: give --data DIR holding the X-FACTR data (TREx_prompts.csv, "
                            "mTRExf/sub/P*.jsonl.gz, alias/mTRExf/*.txt.gz)")
    have_langs = xfactr_languages(d)
    langs = list(langs) if langs else have_langs
    with open(d / "TREx_prompts.csv", encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        columns = [c for c in reader.fieldnames if c not in ("pid", "relation")]
        raw = {r["pid"]: {lang: r[lang] for lang in columns} for r in reader}
    for lang in langs:
        if lang not in columns or lang not in have_langs:
            raise EvalError(f"X-FACTR in {d} has no {'templates' if lang not in columns else 'alias list'} for "
                            f"{lang}; its languages: {', '.join(x for x in have_langs if x in columns)}")
    all_rels = xfactr_relations(d)
    rels = all_rels if not relations else list(relations)
    unknown = [r for r in rels if r not in all_rels]
    if unknown:
        raise EvalError(f"unknown relation(s) {', '.join(unknown)}; X-FACTR in {d} has {', '.join(all_rels)}")
    skipped = _new_skipped(langs)
    user = {r: v for r, v in _load_user_templates(templates).items() if r in rels}
    rendered = _apply_templates({r: raw[r] for r in rels}, user, langs, skipped, xfactr=True)
    aliases = {lang: read_aliases(d / "alias" / "mTRExf" / f"{lang}.txt.gz") for lang in langs}
    ents = read_kg(kg_dir)[0] if kg_dir else {}
    facts = []
    for rel in rels:
        for sub, sub_label, objs in read_facts(d, rel, facts_per_relation):
            for lang in langs:
                if lang not in rendered.get(rel, {}):
                    skipped["facts"][lang]["no usable template"] += 1
                    continue
                if lang == "en":
                    subj = sub_label
                else:
                    kg_label = ents.get(sub, ({}, {}))[0].get(lang)
                    subj = kg_label or closest_alias(sub_label, aliases[lang].get(sub, []))
                gold = list(dict.fromkeys(g for o, label in objs for g in ([label] if lang == "en" else [])
                                          + aliases[lang].get(o, []) + _kg_forms(ents, o, lang)))
                if not subj:
                    skipped["facts"][lang]["no subject alias"] += 1
                elif not gold:
                    skipped["facts"][lang]["no object alias"] += 1
                else:
                    facts.append(Fact(rel, lang, subj, tuple(gold), sub, tuple(o for o, _ in objs)))
    return Probes(facts, rendered, skipped)


# ---------------------------------------------------------------------------------------------- scoring

_CJK = r"\u2e80-\u2fdf\u3000-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
_CJK_SPACE = re.compile(f"(?<=[{_CJK}]) (?=[{_CJK}])")


def normalise(s: str) -> str:
    """NFKC, casefold, whitespace collapsed (and removed between CJK characters), surrounding punctuation
    stripped: the form in which a prediction and a gold answer are compared."""
    s = " ".join(unicodedata.normalize("NFKC", s).casefold().split())
    s = _CJK_SPACE.sub("", s)
    i, j = 0, len(s)
    while i < j and (s[i].isspace() or unicodedata.category(s[i]).startswith("P")):
        i += 1
    while j > i and (s[j - 1].isspace() or unicodedata.category(s[j - 1]).startswith("P")):
        j -= 1
    return s[i:j]


def is_correct(prediction: str, gold) -> bool:
    p = normalise(prediction)
    return bool(p) and any(p == normalise(g) for g in gold)


def mask_predictions(logits: torch.Tensor, banned=None) -> tuple[list[int], list[float]]:
    """Independent argmax of each mask row of ``logits`` [n, V] (ids in ``banned`` never chosen) and the
    log-probabilities (log-softmax over the whole vocabulary) of the chosen ids."""
    lp = torch.log_softmax(logits.float(), dim=-1)
    sel = lp
    if banned is not None and len(banned):
        sel = lp.clone()
        sel[:, torch.as_tensor(list(banned), dtype=torch.long)] = float("-inf")
    ids = sel.argmax(dim=-1)
    return ids.tolist(), lp.gather(1, ids[:, None])[:, 0].tolist()


def pick_best(cands: list[tuple[list[int], list[float]]]) -> int:
    """Index of the candidate with the highest mean log-probability (ties -> the earlier, fewer masks)."""
    scores = [sum(lps) / len(lps) if lps else float("-inf") for _, lps in cands]
    return max(range(len(cands)), key=lambda i: (scores[i], -i))


class MaskedLM:
    """A local masked LM with its tokenizer: mask logits of batched prompts and decoding of ids."""

    def __init__(self, model, device: str = "cpu", batch_size: int = BATCH_SIZE, workdir=None):
        from transformers import AutoModelForMaskedLM
        from transformers.utils import logging as hf_logging

        quiet_transformers()
        hf_logging.disable_progress_bar()
        self.md = model if isinstance(model, ModelDir) else resolve_model(str(model), workdir)
        self.tokenizer = load_tokenizer(self.md)
        if self.tokenizer.mask_token is None:
            raise EvalError(f"the tokenizer in {self.md.path} has no mask token: probing needs a masked LM")
        try:
            m, info = AutoModelForMaskedLM.from_pretrained(self.md.path, output_loading_info=True)
        except (ValueError, OSError) as exc:
            raise EvalError(f"probing needs a masked-LM head; {self.md.path} does not load as one "
                            f"({type(exc).__name__}: {str(exc).splitlines()[0]})") from None
        prefix = m.base_model_prefix + "."
        missing = sorted(k for k in info["missing_keys"] if not k.startswith(prefix))
        if missing:
            raise EvalError(f"probing needs a masked-LM head; {self.md.path} has none "
                            f"(missing: {', '.join(missing[:4])}{', ...' if len(missing) > 4 else ''})")
        self.model = m.to(device).eval()
        self.device, self.batch_size = device, batch_size
        # run the encoder, then the LM head on the mask positions only (a 250k vocabulary x all positions
        # would not fit); models whose head is not a single module get the full forward
        heads = [mod for name, mod in m.named_children() if name != m.base_model_prefix]
        self.encoder = getattr(m, m.base_model_prefix, None)
        self.head = heads[0] if len(heads) == 1 and self.encoder is not None else None
        self.mask_token, self.mask_id = self.tokenizer.mask_token, self.tokenizer.mask_token_id
        self.banned = sorted(set(self.tokenizer.all_special_ids))
        cfg = m.config
        offset = (cfg.pad_token_id + 1) if "roberta" in cfg.model_type else 0
        self.max_len = min(getattr(cfg, "max_position_embeddings", 512) - offset,
                           getattr(self.tokenizer, "model_max_length", 10 ** 9))
        self.use_types = getattr(cfg, "type_vocab_size", 1) > 1

    def lang_id(self, lang: str) -> int | None:
        """The prompt's ``token_type_ids`` value, or None: none (row 0) for a model without language ids
        and for a language it was not trained on (:meth:`ModelDir.lang_id_or_none`)."""
        return self.md.lang_id_or_none(lang)

    @torch.no_grad()
    def mask_logits(self, texts: list[str], lang: str) -> list[torch.Tensor]:
        """One padded forward pass: for each text the logits [n_masks, V] of its mask positions."""
        enc = self.tokenizer(texts, padding=True, truncation=True, max_length=self.max_len, return_tensors="pt")
        enc = {k: v.to(self.device) for k, v in enc.items()
               if k in ("input_ids", "attention_mask", "token_type_ids")}
        lid = self.lang_id(lang)
        if lid is not None:
            enc["token_type_ids"] = torch.full_like(enc["input_ids"], lid)
        elif "token_type_ids" in enc and not self.use_types:
            enc.pop("token_type_ids")
        is_mask = enc["input_ids"] == self.mask_id
        if self.head is not None:
            hs = self.encoder(**enc)[0]
            logits = self.head(hs[is_mask]).float().cpu()
        else:
            logits = self.model(**enc).logits[is_mask].float().cpu()
        return list(torch.split(logits, is_mask.sum(1).tolist()))

    def predict(self, texts: list[str], lang: str, n_masks: list[int] | None = None
                ) -> list[tuple[list[int], list[float]]]:
        """Independent decoding of every text (batched, sorted by length): (ids, log-probs) per text; a text
        that lost some of its ``n_masks`` masks to truncation gets ([], [])."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out: list = [None] * len(texts)
        for b in range(0, len(order), self.batch_size):
            idx = order[b:b + self.batch_size]
            for i, lg in zip(idx, self.mask_logits([texts[i] for i in idx], lang), strict=True):
                ok = n_masks is None or lg.shape[0] == n_masks[i]
                out[i] = mask_predictions(lg, self.banned) if ok and lg.shape[0] else ([], [])
        return out

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True).strip()


def probe(lm, probes: Probes, max_masks: int = MAX_MASKS, examples: int = 3) -> dict:
    """Score ``probes`` with ``lm`` (a :class:`MaskedLM`, or anything with ``mask_token``, ``predict`` and
    ``decode``): X-FACTR independent decoding over 1..max_masks masks; returns :func:`aggregate`'s dict."""
    if max_masks < 1:
        raise EvalError(f"max_masks must be at least 1, got {max_masks}")
    facts, templates, _ = probes
    by_lang: dict[str, list[Fact]] = defaultdict(list)
    for f in facts:
        by_lang[f.lang].append(f)
    records = []
    for lang, fs in by_lang.items():
        texts, ns = [], []
        for f in fs:
            t = templates[f.relation][f.lang].replace("[X]", f.subject)
            for n in range(1, max_masks + 1):
                texts.append(t.replace("[Y]", lm.mask_token * n))
                ns.append(n)
        preds = lm.predict(texts, lang, ns)
        for k, f in enumerate(fs):
            cands = preds[k * max_masks:(k + 1) * max_masks]
            best = pick_best(cands)
            ids, lps = cands[best]
            pred = lm.decode(ids) if ids else ""
            records.append({"lang": lang, "relation": f.relation, "subject": f.subject,
                            "prompt": templates[f.relation][f.lang].replace("[X]", f.subject),
                            "prediction": pred, "gold": list(f.gold), "correct": is_correct(pred, f.gold),
                            "n_masks": best + 1, "score": sum(lps) / len(lps) if lps else None})
    return aggregate(records, probes.skipped, examples)


def _acc(correct: int, n: int) -> dict:
    return {"acc": correct / n if n else None, "correct": correct, "n": n}


def aggregate(records: list[dict], skipped: dict | None = None, examples: int = 3) -> dict:
    """Accuracies per language, relation and (language, relation), averages, the transfer gap, counts and
    examples from per-fact records ({"lang", "relation", "correct", ...})."""
    skipped = skipped or {"facts": {}, "templates": []}
    langs = list(dict.fromkeys([*skipped["facts"], *(r["lang"] for r in records)]))
    cell: dict = defaultdict(lambda: [0, 0])
    for r in records:
        for key in ((r["lang"], r["relation"]), (r["lang"], None), (None, r["relation"])):
            cell[key][0] += bool(r["correct"])
            cell[key][1] += 1
    rels = sorted({r["relation"] for r in records}, key=lambda p: (len(p), p))
    lang_rel = {lang: {rel: _acc(*cell[(lang, rel)]) for rel in rels if (lang, rel) in cell} for lang in langs}
    accuracy = {}
    for lang in langs:
        a = _acc(*cell[(lang, None)]) if (lang, None) in cell else _acc(0, 0)
        per_rel = [v["acc"] for v in lang_rel[lang].values()]
        a["macro_relation"] = sum(per_rel) / len(per_rel) if per_rel else None
        accuracy[lang] = a
    scored = {lang: a["acc"] for lang, a in accuracy.items() if a["acc"] is not None}
    others = [v for lang, v in scored.items() if lang != "en"]
    gap = scored["en"] - sum(others) / len(others) if "en" in scored and others else None
    n_all, c_all = len(records), sum(bool(r["correct"]) for r in records)
    tmpl = Counter(t["lang"] for t in skipped["templates"])
    ex: dict[str, list] = defaultdict(list)
    for r in records:
        if len(ex[r["lang"]]) < examples:
            ex[r["lang"]].append({k: r[k] for k in ("relation", "prompt", "prediction", "gold", "correct",
                                                    "n_masks", "score")} | {"gold": r["gold"][:5]})
    return {"accuracy": accuracy,
            "relation": {rel: _acc(*cell[(None, rel)]) for rel in rels},
            "lang_relation": lang_rel,
            "average": {"macro": sum(scored.values()) / len(scored) if scored else None,
                        "micro": c_all / n_all if n_all else None},
            "transfer_gap": gap,
            "counts": {"facts": {lang: accuracy[lang]["n"] for lang in langs},
                       "skipped_facts": {lang: dict(skipped["facts"].get(lang, {})) for lang in langs},
                       "skipped_templates": {lang: tmpl.get(lang, 0) for lang in langs}},
            "skipped_templates": list(skipped["templates"]),
            "examples": dict(ex)}


# ---------------------------------------------------------------------------------------------- entry points


def evaluate(model, source: str = "xfactr", langs: list[str] | None = None, max_masks: int = MAX_MASKS,
             facts_per_relation: int | None = FACTS_PER_RELATION, relations: list[str] | None = None,
             kg_dir=None, templates=None, data_dir=DEFAULT_DATA, device: str = "cpu", workdir=None,
             batch_size: int = BATCH_SIZE, examples: int = 3) -> dict:
    """Probe ``model`` on X-FACTR (``source="xfactr"``; ``langs`` default: every language with an alias list)
    or on our KG (``source="kg"``, ``kg_dir`` required; ``langs`` default: the languages in which some
    property has a label). Everything is checked before the model is loaded. See :func:`aggregate` for the
    result, which also names the model, source, languages and settings, and the seconds taken."""
    t0 = time.perf_counter()
    md = model if isinstance(model, ModelDir) else resolve_model(str(model), workdir)
    load_tokenizer(md)                                     # a missing/broken tokenizer: before reading data
    if source == "xfactr":
        probes = xfactr_probes(data_dir, langs, relations, facts_per_relation, kg_dir, templates)
        langs = list(probes.skipped["facts"])
    elif source == "kg":
        if kg_dir is None:
            raise EvalError("--source kg needs --kg DIR, the output directory of the KG job (jobs/build_kg.py)")
        probes = kg_probes(kg_dir, langs, templates)
        langs = list(probes.skipped["facts"])
    else:
        raise EvalError(f"unknown source {source!r}: use xfactr or kg")
    if not probes.facts:
        why = {k: dict(v) for k, v in probes.skipped["facts"].items()}
        raise EvalError(f"no fact could be probed in {', '.join(langs)} "
                        f"(skipped: {json.dumps(why, ensure_ascii=False)})")
    lm = MaskedLM(md, device, batch_size)
    t1 = time.perf_counter()
    res = probe(lm, probes, max_masks, examples)
    t2 = time.perf_counter()
    return {"model": md.source, "source": source, "data": str(kg_dir if source == "kg" else data_dir),
            "langs": list(langs), "relations": sorted({f.relation for f in probes.facts}, key=lambda p: (len(p), p)),
            "max_masks": max_masks, "facts_per_relation": facts_per_relation if source == "xfactr" else None,
            **res, "seconds": {"load": round(t1 - t0, 3), "probe": round(t2 - t1, 3)}}


def _split(s: str | None) -> list[str] | None:
    return [x.strip() for x in s.split(",") if x.strip()] if s else None


def _fmt(x) -> str:
    return "  n/a" if x is None else f"{100 * x:5.2f}"


def main(argv: list[str] | None = None) -> int:
    check_environment()
    p = argparse.ArgumentParser(prog="python -m trainer.evaluate.probe",
                                description="X-FACTR-style factual knowledge probing of a local masked LM")
    p.add_argument("model", metavar="MODEL", help="an exported xlkit model, an xlkit checkpoint or a local "
                   "transformers masked-LM directory")
    p.add_argument("--source", choices=("xfactr", "kg"), default="xfactr")
    p.add_argument("--langs", default=None, help="comma-separated codes (default: xfactr: en,es,fr,hu,ja,nl,ru,"
                   "sw,zh; kg: the languages with property labels)")
    p.add_argument("--kg", default=None, help="KG directory (build_kg output): the facts for --source kg; "
                   "subject labels and extra gold answers for xfactr")
    p.add_argument("--templates", default=None, help='JSON {"P17": {"en": "[X] is located in [Y] ."}} overriding '
                   "templates per property and language")
    p.add_argument("--facts-per-relation", type=int, default=FACTS_PER_RELATION,
                   help=f"xfactr: first N subjects per relation (default {FACTS_PER_RELATION}; 0 = all)")
    p.add_argument("--relations", default=None, help="xfactr: comma-separated relations (default all 31)")
    p.add_argument("--max-masks", type=int, default=MAX_MASKS, help=f"default {MAX_MASKS}")
    p.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    p.add_argument("--data", default=str(DEFAULT_DATA), help=f"X-FACTR directory (default {DEFAULT_DATA})")
    p.add_argument("--out", default=None, help="write the result as JSON here")
    p.add_argument("--workdir", default=None, help="where an xlkit checkpoint is exported first")
    p.add_argument("--device", default="cpu")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    try:
        res = evaluate(args.model, args.source, _split(args.langs), args.max_masks,
                       args.facts_per_relation or None, _split(args.relations), args.kg, args.templates, args.data, args.device, args.workdir,
                       args.batch_size)
    except EvalError as exc:
        print(f"probe: {exc}", file=sys.stderr)
        return 2
    for lang, a in res["accuracy"].items():
        skip = sum(res["counts"]["skipped_facts"][lang].values())
        print(f"{lang}: {_fmt(a['acc'])}  (n={a['n']}, skipped {skip} facts, "
              f"{res['counts']['skipped_templates'][lang]} templates)")
    print(f"average {_fmt(res['average']['macro'])} (micro {_fmt(res['average']['micro'])})  transfer gap "
          f"{_fmt(res['transfer_gap'])}  ({res['source']}, {res['model']}, {res['seconds']['probe']:.1f}s)")
    if args.out:
        write_json(args.out, res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
