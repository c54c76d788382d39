"""Entity JSON -> :class:`EntityRecord`, with skip counters and reject reasons.

Pure functions, no Spark. ``parse_line`` takes one line of the dump (bytes, trailing comma
allowed); ``parse_entity`` takes an already decoded entity dict (also used for API responses).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from xlkit_core.langs import site_to_lang
from xlkit_core.parts import Reject

from .records import EXCERPT_CHARS, EntityRecord, Sitelink, Triple

try:  # orjson is ~3x faster than json on Wikidata lines; json is the fallback.
    import orjson as _json

    _loads = _json.loads
    JSONDecodeError: type[Exception] = _json.JSONDecodeError
except ImportError:  # pragma: no cover - orjson is a declared dependency
    import json as _json

    _loads = _json.loads
    JSONDecodeError = ValueError

ENTITY_ID_RE = re.compile(r"^[QP][1-9][0-9]*$")
STRUCTURAL_LINES = (b"[", b"]", b"")


def excerpt(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return text[:EXCERPT_CHARS]


def clean_line(line: bytes) -> bytes:
    """Strip whitespace and the one trailing comma of the dump layout."""
    line = line.strip()
    if line.endswith(b","):
        line = line[:-1].rstrip()
    return line


def _as_dict(value, what: str) -> dict:
    """Wikidata writes empty maps as ``[]`` (PHP arrays); accept both, refuse anything else."""
    if isinstance(value, dict):
        return value
    if value is None or (isinstance(value, list) and not value):
        return {}
    raise ValueError(what)


def _keep(lang: str, langs: frozenset[str] | None) -> bool:
    return langs is None or lang in langs


def _term_map(raw, langs, what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for lang, term in _as_dict(raw, what).items():
        if _keep(lang, langs):
            value = term["value"] if isinstance(term, dict) else None
            if not isinstance(value, str):
                raise ValueError(what)
            out[lang] = value
    return out


def _alias_map(raw, langs) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for lang, terms in _as_dict(raw, "aliases").items():
        if not _keep(lang, langs):
            continue
        if not isinstance(terms, list):
            raise ValueError("aliases")
        values = [t["value"] for t in terms]
        if not all(isinstance(v, str) for v in values):
            raise ValueError("aliases")
        out[lang] = values
    return out


def item_value(datavalue) -> tuple[str | None, str | None]:
    """(QID, None) for an item-valued datavalue, else (None, skip_reason).

    Both forms work: ``{"entity-type": "item", "numeric-id": 5, "id": "Q5"}`` and the old
    ``{"entity-type": "item", "numeric-id": 5}``.
    """
    if not isinstance(datavalue, dict):
        raise ValueError("datavalue")
    vtype = datavalue.get("type")
    if vtype != "wikibase-entityid":
        return None, f"value_type:{vtype}"
    value = datavalue.get("value")
    if not isinstance(value, dict):
        raise ValueError("datavalue")
    etype = value.get("entity-type")
    if etype != "item":
        return None, f"entity_type:{etype}"
    qid = value.get("id")
    if qid is None:
        num = value.get("numeric-id")
        if not isinstance(num, int) or num <= 0:
            raise ValueError("numeric-id")
        qid = f"Q{num}"
    if not isinstance(qid, str) or not ENTITY_ID_RE.match(qid) or qid[0] != "Q":
        raise ValueError("item id")
    return qid, None


def _claims(raw, subject: str, counters: Counter) -> tuple[list[Triple], list[str]]:
    triples: list[Triple] = []
    instance_of: list[str] = []
    for prop, statements in _as_dict(raw, "claims").items():
        if not isinstance(statements, list):
            raise ValueError("claims")
        for st in statements:
            snak = st["mainsnak"]
            rank = st.get("rank", "normal")
            snaktype = snak["snaktype"]
            if snaktype != "value":
                counters[f"snak_skipped.{snaktype}"] += 1
                continue
            qid, why = item_value(snak.get("datavalue"))
            if qid is None:
                counters[f"snak_skipped.{why}"] += 1
                continue
            if rank == "deprecated":
                counters["triple_dropped.deprecated"] += 1
                continue
            triples.append(Triple(snak.get("property", prop), qid, rank))
            if prop == "P31":
                instance_of.append(qid)
    return triples, instance_of


def _sitelinks(raw, langs, counters: Counter) -> tuple[list[Sitelink], int]:
    out: list[Sitelink] = []
    wikipedia = 0
    for site, link in _as_dict(raw, "sitelinks").items():
        lang, why = site_to_lang(site)
        if lang is None:
            counters[f"sitelink_skipped.{why}"] += 1
            continue
        wikipedia += 1
        if not _keep(lang, langs):
            counters["sitelink_skipped.lang_filter"] += 1
            continue
        title = link["title"] if isinstance(link, dict) else None
        if not isinstance(title, str):
            raise ValueError("sitelinks")
        out.append(Sitelink(site, lang, title))
    return out, wikipedia


def parse_entity(obj, langs: frozenset[str] | None, counters: Counter) -> EntityRecord | Reject | None:
    """Turn one decoded entity into a record; ``None`` means skipped (and counted)."""
    if not isinstance(obj, dict):
        return Reject("not_an_object", excerpt(repr(obj)))
    qid = obj.get("id")
    if qid is None:
        return Reject("missing_id", excerpt(repr(obj)))
    etype = obj.get("type")
    if etype not in ("item", "property"):
        # lexemes, mediainfo: valid Wikibase entities, but not part of this KG
        counters[f"entity_skipped.type:{etype}"] += 1
        return None
    if not isinstance(qid, str) or not ENTITY_ID_RE.match(qid) or (qid[0] == "Q") != (etype == "item"):
        return Reject("bad_id", excerpt(repr(qid)))
    where = "labels"
    try:
        labels = _term_map(obj.get("labels"), langs, "labels")
        where = "descriptions"
        descriptions = _term_map(obj.get("descriptions"), langs, "descriptions")
        where = "aliases"
        aliases = _alias_map(obj.get("aliases"), langs)
        where = "claims"
        triples, instance_of = _claims(obj.get("claims"), qid, counters)
        where = "sitelinks"
        sitelinks, n_wiki = _sitelinks(obj.get("sitelinks"), langs, counters)
    except (KeyError, TypeError, ValueError, AttributeError):
        return Reject(f"bad_{where}", f"{qid}: " + excerpt(repr(obj.get(where)))[: EXCERPT_CHARS - len(qid) - 2])
    datatype = obj.get("datatype") if etype == "property" else None
    lastrevid = obj.get("lastrevid")
    counters[f"entities.{etype}"] += 1
    return EntityRecord(
        qid=qid, kind=etype, labels=labels, descriptions=descriptions, aliases=aliases,
        sitelink_count=n_wiki, instance_of=instance_of, datatype=datatype, sitelinks=sitelinks,
        triples=triples, lastrevid=lastrevid if isinstance(lastrevid, int) else None,
    )


def parse_line(line: bytes, langs: frozenset[str] | None, counters: Counter) -> EntityRecord | Reject | None:
    """One dump line -> record, reject, or ``None`` for structural lines and skipped entities."""
    body = clean_line(line)
    if body in STRUCTURAL_LINES:
        return None
    try:
        obj = _loads(body)
    except (JSONDecodeError, ValueError, UnicodeDecodeError) as exc:
        msg = str(exc).split("\n")[0][:60]
        return Reject("bad_json", excerpt(f"[{msg}] ") + excerpt(body)[: EXCERPT_CHARS - len(msg) - 3])
    return parse_entity(obj, langs, counters)


def parse_api_document(data: bytes, langs: frozenset[str] | None, counters: Counter) -> Iterable[EntityRecord | Reject]:
    """A ``wbgetentities`` response: ``{"entities": {"Q42": {...}, "Q6": {"missing": ""}}}``."""
    try:
        doc = _loads(data)
    except (JSONDecodeError, ValueError) as exc:
        yield Reject("bad_json", excerpt(f"[{str(exc)[:60]}] ") + excerpt(data[:120]))
        return
    ents = doc.get("entities") if isinstance(doc, dict) else None
    if not isinstance(ents, dict):
        yield Reject("not_an_api_response", excerpt(data[:EXCERPT_CHARS]))
        return
    for key, obj in ents.items():
        if isinstance(obj, dict) and "missing" in obj:
            counters["entity_skipped.missing"] += 1
            continue
        if isinstance(obj, dict) and obj.get("id") not in (None, key):
            counters["entity_redirected"] += 1
        rec = parse_entity(obj, langs, counters)
        if rec is not None:
            yield rec
