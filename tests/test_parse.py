"""Entity parsing on small hand-made records with exact expectations."""

import json
from collections import Counter

from kg_pipeline.parse import parse_api_document, parse_line
from kg_pipeline.records import EntityRecord, Sitelink, Triple
from xlkit_core.parts import Reject


def snak(prop, value=None, snaktype="value", vtype="wikibase-entityid"):
    s = {"snaktype": snaktype, "property": prop}
    if snaktype == "value":
        s["datavalue"] = {"value": value, "type": vtype}
    return s


def statement(prop, value=None, rank="normal", **kw):
    return {"mainsnak": snak(prop, value, **kw), "type": "statement", "rank": rank}


ITEM = {
    "type": "item", "id": "Q64", "lastrevid": 7,
    "labels": {"en": {"language": "en", "value": "Berlin"}, "de": {"language": "de", "value": "Berlin"},
               "zh": {"language": "zh", "value": "柏林"}},
    "descriptions": {"en": {"language": "en", "value": "capital of Germany"}},
    "aliases": {"en": [{"language": "en", "value": "Berlin, Germany"}, {"language": "en", "value": "BER"}]},
    "claims": {
        "P31": [statement("P31", {"entity-type": "item", "numeric-id": 515, "id": "Q515"}),
                statement("P31", {"entity-type": "item", "numeric-id": 5119}, rank="preferred")],
        "P17": [statement("P17", {"entity-type": "item", "numeric-id": 183, "id": "Q183"}),
                statement("P17", {"entity-type": "item", "numeric-id": 27306, "id": "Q27306"}, rank="deprecated")],
        "P1082": [statement("P1082", {"amount": "+3644826", "unit": "1"}, vtype="quantity")],
        "P1659": [statement("P1659", {"entity-type": "property", "numeric-id": 279, "id": "P279"})],
        "P26": [statement("P26", snaktype="somevalue"), statement("P26", snaktype="novalue")],
    },
    "sitelinks": {"enwiki": {"site": "enwiki", "title": "Berlin", "badges": []},
                  "zh_yuewiki": {"site": "zh_yuewiki", "title": "柏林", "badges": []},
                  "commonswiki": {"site": "commonswiki", "title": "Category:Berlin", "badges": []},
                  "enwikivoyage": {"site": "enwikivoyage", "title": "Berlin", "badges": []}},
}


def line(obj, comma=True):
    return (json.dumps(obj, ensure_ascii=False) + ("," if comma else "")).encode()


def test_item_fields_triples_and_skip_counters():
    c = Counter()
    rec = parse_line(line(ITEM), None, c)
    assert rec == EntityRecord(
        qid="Q64", kind="item",
        labels={"en": "Berlin", "de": "Berlin", "zh": "柏林"},
        descriptions={"en": "capital of Germany"},
        aliases={"en": ["Berlin, Germany", "BER"]},
        sitelink_count=2, instance_of=["Q515", "Q5119"], datatype=None,
        sitelinks=[Sitelink("enwiki", "en", "Berlin"), Sitelink("zh_yuewiki", "zh-yue", "柏林")],
        triples=[Triple("P31", "Q515", "normal"), Triple("P31", "Q5119", "preferred"),
                 Triple("P17", "Q183", "normal")],
        lastrevid=7,
    )
    assert c == Counter({
        "entities.item": 1, "triple_dropped.deprecated": 1, "snak_skipped.value_type:quantity": 1,
        "snak_skipped.entity_type:property": 1, "snak_skipped.somevalue": 1, "snak_skipped.novalue": 1,
        "sitelink_skipped.special_site": 1, "sitelink_skipped.sister_project": 1,
    })


def test_langs_filter_applies_to_terms_and_sitelinks():
    c = Counter()
    rec = parse_line(line(ITEM, comma=False), frozenset({"de", "zh-yue"}), c)
    assert rec.labels == {"de": "Berlin"} and rec.descriptions == {} and rec.aliases == {}
    assert rec.sitelinks == [Sitelink("zh_yuewiki", "zh-yue", "柏林")]
    assert rec.sitelink_count == 2  # counted before the language filter
    assert c["sitelink_skipped.lang_filter"] == 1


def test_property_and_php_empty_maps():
    prop = {"type": "property", "id": "P17", "datatype": "wikibase-item", "labels": {"en": {"language": "en", "value": "country"}},
            "descriptions": [], "aliases": [], "claims": [], "sitelinks": []}
    rec = parse_line(line(prop), None, Counter())
    assert (rec.kind, rec.datatype, rec.labels, rec.descriptions, rec.triples) == (
        "property", "wikibase-item", {"en": "country"}, {}, [])


def test_structural_lines_and_skipped_types():
    c = Counter()
    for raw in (b"[", b"]", b"", b"  \r"):
        assert parse_line(raw, None, c) is None
    assert parse_line(line({"type": "lexeme", "id": "L7"}), None, c) is None
    assert c == Counter({"entity_skipped.type:lexeme": 1})


def test_rejects_say_why():
    c = Counter()
    cases = {
        b'{"type":"item","id":"Q1",' : "bad_json",
        b'["not", "an", "entity"],': "not_an_object",
        line({"type": "item", "labels": {}}): "missing_id",
        line({"type": "item", "id": "P5"}): "bad_id",
        line({"type": "item", "id": "Q0"}): "bad_id",
        line({"type": "item", "id": "Q9", "labels": {"en": {"language": "en"}}}): "bad_labels",
        line({"type": "item", "id": "Q9", "claims": {"P31": [{"rank": "normal"}]}}): "bad_claims",
        line({"type": "item", "id": "Q9", "claims": {"P31": [statement(
            "P31", {"entity-type": "item", "numeric-id": "x"})]}}): "bad_claims",
        line({"type": "item", "id": "Q9", "sitelinks": {"dewiki": {"site": "dewiki"}}}): "bad_sitelinks",
    }
    for raw, reason in cases.items():
        rec = parse_line(raw, None, c)
        assert isinstance(rec, Reject), raw
        assert rec.reason == reason, raw
        assert 0 < len(rec.excerpt) <= 200
    long_bad = b'{"id": "Q1", ' + b"x" * 1000
    assert len(parse_line(long_bad, None, c).excerpt) <= 200


def test_api_document_missing_and_entities():
    doc = {"entities": {"Q6": {"id": "Q6", "missing": ""},
                        "Q64": ITEM,
                        "P17": {"type": "property", "id": "P17", "datatype": "wikibase-item"}},
           "success": 1}
    c = Counter()
    recs = list(parse_api_document(json.dumps(doc).encode(), None, c))
    assert [r.qid for r in recs] == ["Q64", "P17"]
    assert c["entity_skipped.missing"] == 1
    bad = list(parse_api_document(b'{"success": 1}', None, Counter()))
    assert [r.reason for r in bad] == ["not_an_api_response"]
