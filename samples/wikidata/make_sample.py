#!/usr/bin/env python3
"""Build the small embedded Wikidata sample used by ``make demo``.

Plain Python 3.11 standard library, no dependencies. Run from anywhere:

    python3 samples/wikidata/make_sample.py

It writes, next to this script:

* ``sample-wikidata.json``     -- the layout of the published Wikidata JSON dump: ``[``, one
  entity per line (each line but the last entity line ends with ``,``), ``]``;
* ``sample-wikidata.json.bz2`` -- bz2 (level 9) of exactly those bytes.

The output is deterministic: running the script twice gives identical bytes. Statement ids,
qualifier hashes and ``lastrevid`` are derived from the entity id with hashlib.

Facts (ids, labels, sitelink titles, statements) follow Wikidata (CC0); all descriptions were
written for this project. Population figures and coordinates are rounded snapshots. A few
edge cases are built in on purpose; README.md lists them with the ids that carry them.
"""

from __future__ import annotations

import bz2
import hashlib
import json
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
JSON_PATH = HERE / "sample-wikidata.json"
BZ2_PATH = HERE / "sample-wikidata.json.bz2"

# Label order in the ``L`` strings below: ten languages separated by "|" ("" = no label).
LABEL_LANGS = ("en", "de", "fr", "zh", "ja", "ru", "es", "bn", "uk", "vi")
# Description order in the ``D`` tuples below.
DESC_LANGS = ("en", "de", "fr")
# Sitelink order in the ``S`` strings below ("" = no sitelink for that wiki).
SITE_ORDER = ("enwiki", "dewiki", "frwiki", "zhwiki", "jawiki",
              "ruwiki", "eswiki", "bnwiki", "ukwiki", "viwiki")

GREGORIAN = "http://www.wikidata.org/entity/Q1985727"
EARTH = "http://www.wikidata.org/entity/Q2"

# --------------------------------------------------------------------------------------------
# value helpers for the claim tables
# --------------------------------------------------------------------------------------------
SOMEVALUE = ("somevalue",)
NOVALUE = ("novalue",)


def qty(amount: str) -> tuple:
    return ("quantity", {"amount": amount, "unit": "1"})


def coord(lat: float, lon: float) -> tuple:
    return ("globecoordinate", {"latitude": lat, "longitude": lon, "altitude": None,
                                "precision": 0.00027777777777778, "globe": EARTH})


def date(iso: str, precision: int = 11) -> tuple:
    """iso: "+1879-03-14" (day) or "+1237" (year, precision 9)."""
    if precision == 9:
        iso = f"{iso}-00-00"
    return ("time", {"time": f"{iso}T00:00:00Z", "timezone": 0, "before": 0, "after": 0,
                     "precision": precision, "calendarmodel": GREGORIAN})


def url(u: str) -> tuple:
    return ("string", u)


def mono(text: str, lang: str) -> tuple:
    return ("monolingualtext", {"text": text, "language": lang})


def prop(pid: str) -> tuple:
    return ("property-ref", pid)


# --------------------------------------------------------------------------------------------
# properties: pid -> (datatype, labels en|de|fr|zh, descriptions (en, de, fr), en aliases)
# --------------------------------------------------------------------------------------------
PROPERTIES = {
    "P17": ("wikibase-item", "country|Staat|pays|国家",
            ("sovereign state in which the subject lies", "Staat, in dem das Objekt liegt",
             "État souverain où se trouve le sujet"), ["land", "state"]),
    "P19": ("wikibase-item", "place of birth|Geburtsort|lieu de naissance|出生地",
            ("locality where the person was born", "Ort, an dem die Person geboren wurde",
             "localité où la personne est née"), ["birthplace", "born in"]),
    "P26": ("wikibase-item", "spouse|Ehepartner|conjoint|配偶",
            ("person the subject is or was married to", "Person, mit der das Subjekt verheiratet ist oder war",
             "personne avec qui le sujet est ou était marié"), ["husband", "wife"]),
    "P27": ("wikibase-item", "country of citizenship|Staatsangehörigkeit|pays de nationalité|国籍",
            ("state that recognises the person as its citizen", "Staat, dessen Bürger die Person ist",
             "État dont la personne a la nationalité"), ["citizenship", "nationality"]),
    "P30": ("wikibase-item", "continent|Kontinent|continent|大洲",
            ("continent on which the subject lies", "Kontinent, auf dem das Objekt liegt",
             "continent où se trouve le sujet"), []),
    "P31": ("wikibase-item", "instance of|ist ein(e)|nature de l'élément|性质",
            ("class of which the subject is one particular example", "Klasse, deren Exemplar das Objekt ist",
             "classe dont le sujet est un exemple"), ["is a", "is an"]),
    "P36": ("wikibase-item", "capital|Hauptstadt|capitale|首都",
            ("seat of government of a country or region", "Regierungssitz eines Staates oder einer Region",
             "siège du gouvernement d'un pays ou d'une région"), ["capital city"]),
    "P40": ("wikibase-item", "child|Kind|enfant|子女",
            ("son or daughter of the subject", "Sohn oder Tochter des Subjekts",
             "fils ou fille du sujet"), ["son", "daughter"]),
    "P47": ("wikibase-item", "shares border with|grenzt an|frontalier de|接壤",
            ("place with which the subject has a common land border", "Gebiet mit gemeinsamer Landgrenze",
             "territoire avec lequel le sujet a une frontière terrestre"), ["borders", "neighbour"]),
    "P69": ("wikibase-item", "educated at|besuchte Bildungseinrichtung|scolarité|就读学校",
            ("school or university the person attended", "Schule oder Hochschule, die die Person besucht hat",
             "école ou université fréquentée par la personne"), ["alma mater", "studied at"]),
    "P106": ("wikibase-item", "occupation|Tätigkeit|occupation|职业",
             ("work the person does or did", "Beruf oder Tätigkeit der Person",
              "travail ou métier de la personne"), ["profession", "job"]),
    "P131": ("wikibase-item",
             "located in the administrative territorial entity|liegt in der Verwaltungseinheit|localisation administrative|所在行政领土实体",
             ("administrative area that contains the subject", "Verwaltungseinheit, in der das Objekt liegt",
              "division administrative contenant le sujet"), ["located in", "in"]),
    "P150": ("wikibase-item",
             "contains the administrative territorial entity|enthält Verwaltungseinheit|subdivisions|下辖行政区",
             ("administrative areas directly inside the subject", "Verwaltungseinheiten direkt innerhalb des Objekts",
              "divisions administratives directement incluses"), ["subdivisions"]),
    "P206": ("wikibase-item", "located in or next to body of water|liegt an Gewässer|baigné par|毗邻水体",
             ("river, lake or sea the place lies on or beside", "Fluss, See oder Meer, an dem der Ort liegt",
              "cours d'eau, lac ou mer qui borde le lieu"), ["on the river", "on the shore of"]),
    "P279": ("wikibase-item", "subclass of|Unterklasse von|sous-classe de|上级类",
             ("every instance of the subject is also an instance of this class",
              "jedes Exemplar des Objekts ist auch Exemplar dieser Klasse",
              "toute instance du sujet est aussi instance de cette classe"), ["is a type of", "kind of"]),
    "P569": ("time", "date of birth|Geburtsdatum|date de naissance|出生日期",
             ("day on which the person was born", "Tag, an dem die Person geboren wurde",
              "jour de naissance de la personne"), ["born", "birth date"]),
    "P571": ("time", "inception|Gründung, Erstellung bzw. Entstehung|date de fondation ou de création|成立或建立时间",
             ("time when the subject came into being", "Zeitpunkt, zu dem das Objekt entstand",
              "moment où le sujet a été créé"), ["founded", "established"]),
    "P582": ("time", "end time|Enddatum|date de fin|结束时间",
             ("time after which a statement no longer holds", "Zeitpunkt, ab dem eine Aussage nicht mehr gilt",
              "moment à partir duquel une affirmation cesse d'être vraie"), ["until", "ended"]),
    "P625": ("globe-coordinate", "coordinate location|geographische Koordinaten|coordonnées géographiques|坐标",
             ("latitude and longitude of the subject on Earth", "Breiten- und Längengrad des Objekts",
              "latitude et longitude du sujet"), ["coordinates", "geo"]),
    "P856": ("url", "official website|offizielle Website|site officiel|官方网站",
             ("web address run by the subject itself", "vom Objekt selbst betriebene Webadresse",
              "adresse web gérée par le sujet lui-même"), ["homepage", "website"]),
    "P1082": ("quantity", "population|Einwohnerzahl|population|人口",
              ("number of people living in the place", "Zahl der Menschen, die an dem Ort leben",
               "nombre de personnes vivant dans le lieu"), ["inhabitants"]),
    "P1376": ("wikibase-item", "capital of|Hauptstadt von|capitale de|首府所属",
              ("country or region whose seat of government the subject is",
               "Staat oder Region, deren Regierungssitz das Objekt ist",
               "pays ou région dont le sujet est le siège du gouvernement"), []),
    "P1448": ("monolingualtext", "official name|offizieller Name|nom officiel|正式名称",
              ("name the subject uses officially, in its own language", "amtlicher Name in der eigenen Sprache",
               "nom officiel dans sa propre langue"), ["formal name"]),
    "P1659": ("wikibase-property", "see also|siehe auch|voir aussi|参见",
              ("another property that is closely related", "eine eng verwandte andere Eigenschaft",
               "autre propriété étroitement liée"), ["related property"]),
}

# Claims on property entities. P31 -> P279 via P1659: an entity-valued claim whose value is a
# property (entity-type "property"); it must NOT become a triple.
PROPERTY_CLAIMS = {
    "P31": [("P1659", prop("P279"))],
}

# --------------------------------------------------------------------------------------------
# items
#   L: labels (LABEL_LANGS, "|"-separated)      LX: extra / variant-code labels
#   D: descriptions (DESC_LANGS), None = no descriptions at all; DX: extra descriptions
#   A: aliases {lang: [..]}
#   S: Wikipedia sitelinks (SITE_ORDER, "|"-separated); SX: other sitelinks {site: title}
#   C: claims, list of (pid, value[, rank[, qualifiers]]).  A value is either an item id
#      string ("Q183"; "Q1 Q2" = one statement each; "~Q183" = old dump form without "id"),
#      or one of the tuples made by the helpers above.
# --------------------------------------------------------------------------------------------
ITEMS = {
    # ---- classes -------------------------------------------------------------------------
    "Q5": dict(
        L="human|Mensch|être humain|人类|ヒト|человек|ser humano|মানুষ|людина|con người",
        D=("member of the species Homo sapiens", "Angehöriger der Art Homo sapiens",
           "membre de l'espèce Homo sapiens"),
        A={"en": ["person", "people"]},
        S="Human|Mensch|Homo sapiens|人|ヒト||||Людина|",
        SX={"specieswiki": "Homo sapiens", "commonswiki": "Category:Homo sapiens"},
        C=[("P279", "Q215627")]),
    "Q46": dict(
        L="Europe|Europa|Europe|欧洲|ヨーロッパ|Европа|Europa|ইউরোপ|Європа|Châu Âu",
        D=("continent in the west of Eurasia", "Kontinent im Westen Eurasiens",
           "continent à l'ouest de l'Eurasie"),
        S="Europe|Europa|Europe|欧洲|ヨーロッパ|Европа|Europa|ইউরোপ|Європа|Châu Âu",
        SX={"commonswiki": "Category:Europe", "dewikivoyage": "Europa"},
        C=[("P31", "Q5107")]),
    "Q48": dict(
        L="Asia|Asien|Asie|亚洲|アジア|Азия|Asia|এশিয়া|Азія|Châu Á",
        D=("largest continent, east of Europe", "größter Kontinent, östlich von Europa",
           "plus grand continent, à l'est de l'Europe"),
        S="Asia|Asien|Asie|亚洲|アジア|Азия|Asia|এশিয়া|Азія|Châu Á",
        SX={"commonswiki": "Category:Asia"},
        C=[("P31", "Q5107")]),
    "Q515": dict(
        L="city|Stadt|ville|城市|都市|город|ciudad|শহর|місто|thành phố",
        D=("large, permanent human settlement", "große, dauerhafte menschliche Siedlung",
           "grande agglomération humaine permanente"),
        S="City|Stadt|Ville|城市|都市|Город|Ciudad||Місто|Thành phố",
        SX={"simplewiki": "City", "commonswiki": "Category:Cities"},
        C=[("P279", "Q486972")]),
    "Q3918": dict(
        L="university|Universität|université|大学|大学|университет|universidad|বিশ্ববিদ্যালয়|університет|đại học",
        D=("institution for higher teaching and research", "Einrichtung für höhere Lehre und Forschung",
           "établissement d'enseignement supérieur et de recherche"),
        S="University|Universität|Université|大学|大学|Университет|Universidad||Університет|Đại học",
        C=[("P279", "Q38723")]),
    "Q4022": dict(
        L="river|Fluss|rivière|河流|川|река|río|নদী|річка|sông",
        D=("natural stream of fresh water flowing towards a sea, lake or other river",
           "natürliches fließendes Gewässer, das in ein Meer, einen See oder Fluss mündet",
           "cours d'eau naturel se jetant dans une mer, un lac ou une autre rivière"),
        S="River|Fluss|Rivière|河流|川|Река|Río|নদী|Річка|Sông",
        SX={"commonswiki": "Category:Rivers"},
        C=[("P279", "Q355304")]),
    "Q5119": dict(
        L="capital city|Hauptstadt|capitale|首都|首都|столица|capital|রাজধানী|столиця|thủ đô",
        D=("city that hosts the government of a country or region",
           "Stadt, in der die Regierung eines Staates oder einer Region sitzt",
           "ville où siège le gouvernement d'un pays ou d'une région"),
        A={"en": ["capital"]},
        S="Capital city|Hauptstadt|Capitale|首都|首都|Столица|Capital (política)||Столиця|Thủ đô",
        C=[("P279", "Q515")]),
    "Q6256": dict(
        L="country|Land|pays|国家|国|страна|país|দেশ|країна|quốc gia",
        D=("distinct territorial body or political entity", "abgegrenztes Gebiet oder politisches Gemeinwesen",
           "territoire ou entité politique distincte"),
        S="Country|Land|Pays|国家|国||País||Країна|Quốc gia",
        C=[("P279", "Q56061")]),
    "Q82955": dict(
        L="politician|Politiker|personnalité politique|政治人物|政治家|политик|político|রাজনীতিবিদ|політик|chính khách",
        D=("person active in party politics or holding public office",
           "Person, die in der Politik tätig ist oder ein öffentliches Amt innehat",
           "personne engagée en politique ou titulaire d'une fonction publique"),
        S="Politician|Politiker|Personnalité politique|政治人物|政治家|Политик|Político||Політик|Chính khách",
        C=[("P31", "Q28640")]),
    "Q169470": dict(
        L="physicist|Physiker|physicien|物理学家|物理学者|физик|físico|পদার্থবিজ্ঞানী|фізик|nhà vật lý",
        D=("scientist who studies matter, energy and their interactions",
           "Wissenschaftler, der Materie, Energie und ihre Wechselwirkungen erforscht",
           "scientifique qui étudie la matière, l'énergie et leurs interactions"),
        S="Physicist|Physiker|Physicien|物理学家|物理学者|Физик|Físico||Фізик|Nhà vật lý",
        C=[("P31", "Q28640"), ("P279", "Q901")]),
    "Q593644": dict(
        L="chemist|Chemiker|chimiste|化学家|化学者|химик|químico|রসায়নবিদ|хімік|nhà hóa học",
        D=("scientist who studies the composition and reactions of substances",
           "Wissenschaftler, der Zusammensetzung und Reaktionen von Stoffen erforscht",
           "scientifique qui étudie la composition et les réactions des substances"),
        S="Chemist|Chemiker|Chimiste|化学家|化学者|Химик|Químico||Хімік|Nhà hóa học",
        C=[("P31", "Q28640"), ("P279", "Q901")]),
    "Q3624078": dict(  # edge case: no sitelinks at all
        L="sovereign state|souveräner Staat|État souverain|主权国家|主権国家|суверенное государство|estado soberano|সার্বভৌম রাষ্ট্র|суверенна держава|quốc gia có chủ quyền",
        D=("state that governs itself and is independent of any other",
           "Staat, der sich selbst regiert und von keinem anderen abhängt",
           "État qui se gouverne lui-même, indépendant de tout autre"),
        S="",
        C=[("P279", "Q6256 Q7275")]),
    # ---- countries -----------------------------------------------------------------------
    "Q17": dict(
        L="Japan|Japan|Japon|日本|日本|Япония|Japón|জাপান|Японія|Nhật Bản",
        D=("island country in East Asia", "Inselstaat in Ostasien", "pays insulaire d'Asie de l'Est"),
        DX={"ja": "東アジアの島国"},
        S="Japan|Japan|Japon|日本|日本|Япония|Japón|জাপান|Японія|Nhật Bản",
        SX={"zh_yuewiki": "日本", "simplewiki": "Japan", "commonswiki": "Category:Japan"},
        C=[("P31", "Q3624078 Q6256"),
           ("P36", "Q1490", "preferred"),
           ("P36", "Q34600", "deprecated", {"P582": date("+1869", 9)}),
           ("P30", "Q48"),
           ("P150", "Q1490"),
           ("P1082", qty("+125440000")),
           ("P1448", mono("日本国", "ja"))]),
    "Q29": dict(
        L="Spain|Spanien|Espagne|西班牙|スペイン|Испания|España|স্পেন|Іспанія|Tây Ban Nha",
        D=("country in south-western Europe, on the Iberian Peninsula",
           "Staat im Südwesten Europas auf der Iberischen Halbinsel",
           "pays du sud-ouest de l'Europe, sur la péninsule Ibérique"),
        S="Spain|Spanien|Espagne|西班牙|スペイン|Испания|España||Іспанія|Tây Ban Nha",
        C=[("P31", "Q3624078 Q6256"),
           ("P36", "Q2807"),
           ("P30", "Q46"),
           ("P47", "Q142 Q45"),
           ("P1448", mono("Reino de España", "es"))]),
    "Q36": dict(
        L="Poland|Polen|Pologne|波兰|ポーランド|Польша|Polonia|পোল্যান্ড|Польща|Ba Lan",
        D=("country in central Europe on the Baltic Sea", "Staat in Mitteleuropa an der Ostsee",
           "pays d'Europe centrale au bord de la Baltique"),
        S="Poland|Polen|Pologne|波兰|ポーランド|Польша|Polonia||Польща|Ba Lan",
        C=[("P31", "Q3624078 Q6256"),
           ("P36", "Q270"),
           ("P30", "Q46"),
           ("P47", "Q183 Q212"),
           ("P1448", mono("Rzeczpospolita Polska", "pl"))]),
    "Q40": dict(
        L="Austria|Österreich|Autriche|奥地利|オーストリア|Австрия|Austria|অস্ট্রিয়া|Австрія|Áo",
        D=("landlocked country in the Alps of central Europe", "Binnenstaat in den Alpen Mitteleuropas",
           "pays enclavé des Alpes, en Europe centrale"),
        S="Austria|Österreich|Autriche|奥地利|オーストリア|Австрия|Austria||Австрія|Áo",
        SX={"dewikivoyage": "Österreich"},
        C=[("P31", "Q3624078 Q6256"),
           ("P36", "Q1741"),
           ("P30", "Q46"),
           ("P47", "Q183 Q39"),
           ("P1448", mono("Republik Österreich", "de"))]),
    "Q142": dict(
        L="France|Frankreich|France|法国|フランス|Франция|Francia|ফ্রান্স|Франція|Pháp",
        D=("country in western Europe with overseas territories",
           "Staat in Westeuropa mit Gebieten in Übersee",
           "pays d'Europe de l'Ouest avec des territoires d'outre-mer"),
        S="France|Frankreich|France|法国|フランス|Франция|Francia|ফ্রান্স|Франція|Pháp",
        SX={"zh_yuewiki": "法國", "simplewiki": "France", "commonswiki": "Category:France"},
        C=[("P31", "Q3624078 Q6256"),
           ("P36", "Q90"),
           ("P30", "Q46"),
           ("P47", "Q183 Q29"),
           ("P1082", qty("+67407241")),
           ("P1448", mono("République française", "fr"))]),
    "Q148": dict(
        L="People's Republic of China|Volksrepublik China|république populaire de Chine|中华人民共和国|中華人民共和国|Китайская Народная Республика|República Popular China||Китайська Народна Республіка|Trung Quốc",
        LX={"zh-hans": "中华人民共和国", "zh-hant": "中華人民共和國", "zh-hk": "中華人民共和國"},
        D=("country in East Asia, the most populous in the region",
           "Staat in Ostasien, der bevölkerungsreichste der Region",
           "pays d'Asie de l'Est, le plus peuplé de la région"),
        A={"en": ["China", "PRC"], "zh": ["中国"], "de": ["China"], "fr": ["Chine"]},
        S="China|Volksrepublik China|Chine|中华人民共和国|中華人民共和国|Китай|China||Китай|Trung Quốc",
        SX={"zh_yuewiki": "中華人民共和國"},
        C=[("P31", "Q3624078 Q6256"),
           ("P36", "Q956"),
           ("P30", "Q48"),
           ("P47", "Q881 Q668"),
           ("P150", "Q956 Q8686"),
           ("P571", date("+1949-10-01")),
           ("P1082", qty("+1411778724")),
           ("P1448", mono("中华人民共和国", "zh"))]),
    "Q183": dict(
        L="Germany|Deutschland|Allemagne|德国|ドイツ|Германия|Alemania|জার্মানি|Німеччина|Đức",
        LX={"zh-hant": "德國", "de-ch": "Deutschland", "en-gb": "Germany"},
        D=("federal country in central Europe", "Bundesstaat in Mitteleuropa",
           "État fédéral d'Europe centrale"),
        DX={"zh": "中欧的联邦制国家"},
        A={"en": ["FRG", "Federal Republic of Germany"], "de": ["BRD", "Bundesrepublik Deutschland"]},
        S="Germany|Deutschland|Allemagne|德国|ドイツ|Германия|Alemania|জার্মানি|Німеччина|Đức",
        SX={"zh_yuewiki": "德國", "simplewiki": "Germany", "commonswiki": "Category:Germany",
            "dewikivoyage": "Deutschland", "enwikiquote": "Germany"},
        C=[("P31", "Q3624078 Q6256"),
           ("P36", "Q64", "preferred"),
           ("P36", "Q586", "deprecated", {"P582": date("+1990-10-03")}),
           ("P30", "Q46"),
           ("P47", "Q142 Q36 Q40"),
           ("P150", "Q64 Q1055 Q980"),
           ("P571", date("+1949-05-23")),
           ("P1082", qty("+83149300")),
           ("P1448", mono("Bundesrepublik Deutschland", "de"))]),
    "Q212": dict(
        L="Ukraine|Ukraine|Ukraine|乌克兰|ウクライナ|Украина|Ucrania|ইউক্রেন|Україна|Ukraina",
        D=("country in eastern Europe on the Black Sea", "Staat in Osteuropa am Schwarzen Meer",
           "pays d'Europe de l'Est au bord de la mer Noire"),
        DX={"uk": "держава у Східній Європі"},
        S="Ukraine|Ukraine|Ukraine|乌克兰|ウクライナ|Украина|Ucrania|ইউক্রেন|Україна|Ukraina",
        C=[("P31", "Q3624078 Q6256"),
           ("P36", "Q1899"),
           ("P30", "Q46"),
           ("P47", "Q36 Q159"),
           ("P571", date("+1991-08-24")),
           ("P1448", mono("Україна", "uk"))]),
    "Q881": dict(
        L="Vietnam|Vietnam|Viêt Nam|越南|ベトナム|Вьетнам|Vietnam|ভিয়েতনাম|В'єтнам|Việt Nam",
        D=("country on the eastern coast of the Indochinese peninsula",
           "Staat an der Ostküste der Indochinesischen Halbinsel",
           "pays sur la côte est de la péninsule indochinoise"),
        A={"en": ["Viet Nam"], "vi": ["Nước Việt Nam"]},
        S="Vietnam|Vietnam|Viêt Nam|越南|ベトナム|Вьетнам|Vietnam||В'єтнам|Việt Nam",
        C=[("P31", "Q3624078 Q6256"),
           ("P36", "Q1858"),
           ("P30", "Q48"),
           ("P47", "Q148 Q819"),
           ("P1448", mono("Cộng hòa Xã hội chủ nghĩa Việt Nam", "vi"))]),
    "Q902": dict(
        L="Bangladesh|Bangladesch|Bangladesh|孟加拉国|バングラデシュ|Бангладеш|Bangladés|বাংলাদেশ|Бангладеш|Bangladesh",
        D=("country in South Asia on the Bay of Bengal", "Staat in Südasien am Golf von Bengalen",
           "pays d'Asie du Sud au bord du golfe du Bengale"),
        S="Bangladesh|Bangladesch|Bangladesh|孟加拉国|バングラデシュ|Бангладеш|Bangladés|বাংলাদেশ|Бангладеш|Bangladesh",
        C=[("P31", "Q3624078 Q6256"),
           ("P36", "Q1354"),
           ("P30", "Q48"),
           ("P47", "Q668 Q836"),
           ("P571", date("+1971-03-26")),
           ("P1448", mono("গণপ্রজাতন্ত্রী বাংলাদেশ", "bn"))]),
    # ---- cities --------------------------------------------------------------------------
    "Q64": dict(
        L="Berlin|Berlin|Berlin|柏林|ベルリン|Берлин|Berlín|বার্লিন|Берлін|Berlin",
        D=("capital and largest city of Germany", "Hauptstadt und größte Stadt Deutschlands",
           "capitale et plus grande ville d'Allemagne"),
        DX={"zh": "德国首都"},
        A={"en": ["Berlin, Germany"], "de": ["Bärlin"]},
        S="Berlin|Berlin|Berlin|柏林|ベルリン|Берлин|Berlín|বার্লিন|Берлін|Berlin",
        SX={"zh_yuewiki": "柏林", "simplewiki": "Berlin", "commonswiki": "Category:Berlin",
            "enwikiquote": "Berlin", "dewikivoyage": "Berlin"},
        C=[("P31", "Q5119 Q515"),
           ("P17", "Q183"),
           ("P1376", "Q183"),
           ("P131", "Q183"),
           ("P571", date("+1237", 9)),
           ("P1082", qty("+3644826")),
           ("P625", coord(52.516666666667, 13.383333333333)),
           ("P856", url("https://www.berlin.de/"))]),
    "Q90": dict(
        L="Paris|Paris|Paris|巴黎|パリ|Париж|París|প্যারিস|Париж|Paris",
        D=("capital of France, on the Seine", "Hauptstadt Frankreichs an der Seine",
           "capitale de la France, sur la Seine"),
        A={"en": ["City of Light"], "fr": ["Ville Lumière"]},
        S="Paris|Paris|Paris|巴黎|パリ|Париж|París|প্যারিস|Париж|Paris",
        SX={"zh_yuewiki": "巴黎", "simplewiki": "Paris", "commonswiki": "Category:Paris",
            "dewikivoyage": "Paris"},
        C=[("P31", "Q5119 Q515"),
           ("P17", "Q142"),
           ("P1376", "Q142"),
           ("P206", "Q1471"),
           ("P1082", qty("+2165423")),
           ("P625", coord(48.856666666667, 2.3516666666667)),
           ("P856", url("https://www.paris.fr/"))]),
    "Q270": dict(
        L="Warsaw|Warschau|Varsovie|华沙|ワルシャワ|Варшава|Varsovia|ওয়ারশ|Варшава|Warszawa",
        D=("capital and largest city of Poland, on the Vistula",
           "Hauptstadt und größte Stadt Polens an der Weichsel",
           "capitale et plus grande ville de Pologne, sur la Vistule"),
        S="Warsaw|Warschau|Varsovie|华沙|ワルシャワ|Варшава|Varsovia||Варшава|Warszawa",
        C=[("P31", "Q5119 Q515"),
           ("P17", "Q36"),
           ("P1376", "Q36"),
           ("P1082", qty("+1790658"))]),
    "Q456": dict(
        L="Lyon|Lyon|Lyon|里昂|リヨン|Лион|Lyon||Ліон|Lyon",
        D=("city in east-central France where the Rhône meets the Saône",
           "Stadt im Osten Frankreichs am Zusammenfluss von Rhône und Saône",
           "ville du centre-est de la France, au confluent du Rhône et de la Saône"),
        S="Lyon|Lyon|Lyon|里昂|リヨン|Лион|Lyon||Ліон|Lyon",
        C=[("P31", "Q515"),
           ("P17", "~Q142"),
           ("P1082", qty("+522228")),
           ("P625", coord(45.758888888889, 4.8413888888889))]),
    "Q956": dict(
        L="Beijing|Peking|Pékin|北京|北京市|Пекин|Pekín|বেইজিং|Пекін|Bắc Kinh",
        D=("capital of the People's Republic of China", "Hauptstadt der Volksrepublik China",
           "capitale de la république populaire de Chine"),
        DX={"zh": "中华人民共和国的首都"},
        A={"en": ["Peking"], "zh": ["北京市", "京"]},
        S="Beijing|Peking|Pékin|北京市|北京市|Пекин|Pekín|বেইজিং|Пекін|Bắc Kinh",
        SX={"zh_yuewiki": "北京"},
        C=[("P31", "Q5119 Q515"),
           ("P17", "Q148"),
           ("P1376", "Q148"),
           ("P1082", qty("+21893095")),
           ("P625", coord(39.906666666667, 116.3975))]),
    "Q1055": dict(
        L="Hamburg|Hamburg|Hambourg|汉堡|ハンブルク|Гамбург|Hamburgo|হামবুর্গ|Гамбург|Hamburg",
        D=("port city in northern Germany on the Elbe", "Hafenstadt in Norddeutschland an der Elbe",
           "ville portuaire du nord de l'Allemagne, sur l'Elbe"),
        A={"de": ["Freie und Hansestadt Hamburg"]},
        S="Hamburg|Hamburg|Hambourg|汉堡|ハンブルク|Гамбург|Hamburgo||Гамбург|Hamburg",
        C=[("P31", "Q515"),
           ("P17", "~Q183"),
           ("P131", "Q183"),
           ("P1082", qty("+1841179")),
           ("P625", coord(53.55, 10.0))]),
    "Q1354": dict(
        L="Dhaka|Dhaka|Dacca|达卡|ダッカ|Дакка|Daca|ঢাকা|Дакка|Dhaka",
        D=("capital and largest city of Bangladesh", "Hauptstadt und größte Stadt von Bangladesch",
           "capitale et plus grande ville du Bangladesh"),
        DX={"bn": "বাংলাদেশের রাজধানী"},
        S="Dhaka|Dhaka|Dacca|达卡|ダッカ|Дакка|Daca|ঢাকা|Дакка|Dhaka",
        C=[("P31", "Q5119 Q515"),
           ("P17", "Q902"),
           ("P1376", "Q902"),
           ("P1082", qty("+8906039"))]),
    "Q1490": dict(
        L="Tokyo|Tokio|Tokyo|东京|東京都|Токио|Tokio|টোকিও|Токіо|Tokyo",
        D=("capital of Japan and its most populous prefecture",
           "Hauptstadt Japans und bevölkerungsreichste Präfektur",
           "capitale du Japon et sa préfecture la plus peuplée"),
        DX={"ja": "日本の首都"},
        A={"ja": ["東京"], "en": ["Tokyo Metropolis"]},
        S="Tokyo|Tokio|Tokyo|东京都|東京都|Токио|Tokio|টোকিও|Токіо|Tokyo",
        SX={"zh_yuewiki": "東京", "simplewiki": "Tokyo", "commonswiki": "Category:Tokyo"},
        C=[("P31", "Q5119"),
           ("P17", "Q17"),
           ("P1376", "Q17"),
           ("P1082", qty("+13960236")),
           ("P625", coord(35.689722222222, 139.69222222222))]),
    "Q1726": dict(
        L="Munich|München|Munich|慕尼黑|ミュンヘン|Мюнхен|Múnich|মিউনিখ|Мюнхен|München",
        LX={"de-ch": "München", "en-gb": "Munich"},
        D=("capital of Bavaria, in southern Germany", "Landeshauptstadt Bayerns in Süddeutschland",
           "capitale de la Bavière, dans le sud de l'Allemagne"),
        A={"en": ["München"]},
        S="Munich|München|Munich|慕尼黑|ミュンヘン|Мюнхен|Múnich||Мюнхен|München",
        C=[("P31", "Q515"),
           ("P17", "Q183"),
           ("P131", "Q980"),
           ("P1082", qty("+1488202"))]),
    "Q1741": dict(
        L="Vienna|Wien|Vienne|维也纳|ウィーン|Вена|Viena|ভিয়েনা|Відень|Viên",
        D=("capital of Austria, on the Danube", "Hauptstadt Österreichs an der Donau",
           "capitale de l'Autriche, sur le Danube"),
        S="Vienna|Wien|Vienne|维也纳|ウィーン|Вена|Viena||Відень|Viên",
        SX={"dewikivoyage": "Wien"},
        C=[("P31", "Q5119 Q515"),
           ("P17", "Q40"),
           ("P1376", "Q40"),
           ("P206", "Q1653"),
           ("P1082", qty("+1911191")),
           ("P625", coord(48.208333333333, 16.373055555556))]),
    "Q1858": dict(
        L="Hanoi|Hanoi|Hanoï|河内|ハノイ|Ханой|Hanói|হ্যানয়|Ханой|Hà Nội",
        D=("capital of Vietnam, on the Red River", "Hauptstadt Vietnams am Roten Fluss",
           "capitale du Viêt Nam, sur le fleuve Rouge"),
        DX={"vi": "thủ đô của Việt Nam"},
        S="Hanoi|Hanoi|Hanoï|河内市|ハノイ|Ханой|Hanói||Ханой|Hà Nội",
        C=[("P31", "Q5119 Q515"),
           ("P17", "Q881"),
           ("P1376", "Q881"),
           ("P1082", qty("+8053663"))]),
    "Q1899": dict(
        L="Kyiv|Kiew|Kiev|基辅|キーウ|Киев|Kiev|কিয়েভ|Київ|Kyiv",
        D=("capital and largest city of Ukraine, on the Dnipro",
           "Hauptstadt und größte Stadt der Ukraine am Dnipro",
           "capitale et plus grande ville d'Ukraine, sur le Dniepr"),
        DX={"uk": "столиця України"},
        A={"en": ["Kiev"], "ja": ["キエフ"]},
        S="Kyiv|Kiew|Kiev|基辅|キーウ|Киев|Kiev||Київ|Kyiv",
        C=[("P31", "Q5119 Q515"),
           ("P17", "Q212"),
           ("P1376", "Q212"),
           ("P1082", qty("+2952301"))]),
    "Q2807": dict(
        L="Madrid|Madrid|Madrid|马德里|マドリード|Мадрид|Madrid|মাদ্রিদ|Мадрид|Madrid",
        D=("capital and largest city of Spain", "Hauptstadt und größte Stadt Spaniens",
           "capitale et plus grande ville d'Espagne"),
        S="Madrid|Madrid|Madrid|马德里|マドリード|Мадрид|Madrid||Мадрид|Madrid",
        C=[("P31", "Q5119 Q515"),
           ("P17", "Q29"),
           ("P1376", "Q29"),
           ("P1082", qty("+3266126"))]),
    "Q8686": dict(
        L="Shanghai|Shanghai|Shanghai|上海|上海市|Шанхай|Shanghái|সাংহাই|Шанхай|Thượng Hải",
        D=("largest city of China, at the mouth of the Yangtze",
           "größte Stadt Chinas an der Mündung des Jangtsekiang",
           "plus grande ville de Chine, à l'embouchure du Yangzi"),
        S="Shanghai|Shanghai|Shanghai|上海市|上海市|Шанхай|Shanghái||Шанхай|Thượng Hải",
        SX={"zh_yuewiki": "上海"},
        C=[("P31", "Q515"),
           ("P17", "Q148"),
           ("P206", "Q5413"),
           ("P1082", qty("+24870895"))]),
    "Q34600": dict(
        L="Kyoto|Kyōto|Kyoto|京都市|京都市|Киото|Kioto|কিয়োতো|Кіото|Kyōto",
        D=("city in western Japan and the country's capital until 1869",
           "Stadt im Westen Japans und bis 1869 Hauptstadt des Landes",
           "ville de l'ouest du Japon, capitale du pays jusqu'en 1869"),
        S="Kyoto|Kyōto|Kyoto|京都市|京都市|Киото|Kioto||Кіото|Kyōto",
        C=[("P31", "Q515"),
           ("P17", "Q17"),
           ("P1082", qty("+1463723"))]),
    "Q35765": dict(
        L="Osaka|Osaka|Osaka|大阪市|大阪市|Осака|Osaka|ওসাকা|Осака|Ōsaka",
        D=("major port city in the Kansai region of Japan", "große Hafenstadt in der Region Kansai in Japan",
           "grande ville portuaire du Kansai, au Japon"),
        S="Osaka|Osaka|Osaka|大阪市|大阪市|Осака|Osaka||Осака|Ōsaka",
        C=[("P31", "Q515"),
           ("P17", "Q17"),
           ("P1082", qty("+2752412"))]),
    # ---- rivers --------------------------------------------------------------------------
    "Q584": dict(
        L="Rhine|Rhein|Rhin|莱茵河|ライン川|Рейн|Rin|রাইন নদী|Рейн|",
        D=("river flowing from the Swiss Alps to the North Sea",
           "Fluss, der von den Schweizer Alpen in die Nordsee fließt",
           "fleuve qui coule des Alpes suisses à la mer du Nord"),
        S="Rhine|Rhein|Rhin|莱茵河|ライン川|Рейн|Rin||Рейн|",
        C=[("P31", "Q4022"),
           ("P17", "Q39 Q183 Q142 Q55"),
           ("P30", "~Q46")]),
    "Q1471": dict(
        L="Seine|Seine|Seine|塞纳河|セーヌ川|Сена|Sena||Сена|sông Seine",
        D=("river of northern France that runs through Paris",
           "Fluss in Nordfrankreich, der durch Paris fließt",
           "fleuve du nord de la France qui traverse Paris"),
        S="Seine|Seine|Seine|塞纳河|セーヌ川|Сена|Sena||Сена|",
        C=[("P31", "Q4022"),
           ("P17", "Q142"),
           ("P30", "Q46")]),
    "Q1653": dict(
        L="Danube|Donau|Danube|多瑙河|ドナウ川|Дунай|Danubio||Дунай|sông Donau",
        D=("second-longest river of Europe, ending in the Black Sea",
           "zweitlängster Fluss Europas, mündet ins Schwarze Meer",
           "deuxième plus long fleuve d'Europe, se jetant dans la mer Noire"),
        S="Danube|Donau|Danube|多瑙河|ドナウ川|Дунай|Danubio||Дунай|",
        SX={"commonswiki": "Category:Danube"},
        C=[("P31", "Q4022"),
           ("P17", "Q183 Q40 Q212"),
           ("P30", "Q46")]),
    "Q5413": dict(
        L="Yangtze|Jangtsekiang|Yangzi Jiang|长江|長江|Янцзы|Yangtsé||Янцзи|Trường Giang",
        D=("longest river of Asia, crossing China from west to east",
           "längster Fluss Asiens, durchquert China von West nach Ost",
           "plus long fleuve d'Asie, traversant la Chine d'ouest en est"),
        A={"en": ["Chang Jiang", "Yangtze River"], "zh": ["扬子江"]},
        S="Yangtze|Jangtsekiang|Yangzi Jiang|长江|長江|Янцзы|Yangtsé||Янцзи|Trường Giang",
        C=[("P31", "Q4022"),
           ("P17", "Q148"),
           ("P30", "Q48")]),
    # ---- people --------------------------------------------------------------------------
    "Q567": dict(
        L="Angela Merkel|Angela Merkel|Angela Merkel|安格拉·默克尔|アンゲラ・メルケル|Ангела Меркель|Angela Merkel|আঙ্গেলা মের্কেল|Ангела Меркель|Angela Merkel",
        D=("German politician, Chancellor of Germany from 2005 to 2021",
           "deutsche Politikerin, Bundeskanzlerin von 2005 bis 2021",
           "femme politique allemande, chancelière fédérale de 2005 à 2021"),
        A={"en": ["Angela Dorothea Merkel"], "de": ["Angela Dorothea Merkel", "Angela Dorothea Kasner"]},
        S="Angela Merkel|Angela Merkel|Angela Merkel|安格拉·默克尔|アンゲラ・メルケル|Меркель, Ангела|Angela Merkel||Ангела Меркель|Angela Merkel",
        SX={"enwikiquote": "Angela Merkel"},
        C=[("P31", "Q5"),
           ("P27", "Q183"),
           ("P19", "Q1055"),
           ("P106", "Q82955 Q169470"),
           ("P69", "Q154804"),
           ("P40", NOVALUE),
           ("P569", date("+1954-07-17"))]),
    "Q937": dict(
        L="Albert Einstein|Albert Einstein|Albert Einstein|阿尔伯特·爱因斯坦|アルベルト・アインシュタイン|Альберт Эйнштейн|Albert Einstein|আলবার্ট আইনস্টাইন|Альберт Ейнштейн|Albert Einstein",
        D=("theoretical physicist known for the theory of relativity",
           "theoretischer Physiker, bekannt für die Relativitätstheorie",
           "physicien théoricien connu pour la théorie de la relativité"),
        A={"en": ["Einstein"]},
        S="Albert Einstein|Albert Einstein|Albert Einstein|阿尔伯特·爱因斯坦|アルベルト・アインシュタイン|Эйнштейн, Альберт|Albert Einstein|আলবার্ট আইনস্টাইন|Альберт Ейнштейн|Albert Einstein",
        SX={"simplewiki": "Albert Einstein", "enwikiquote": "Albert Einstein",
            "commonswiki": "Category:Albert Einstein"},
        C=[("P31", "Q5"),
           ("P27", "Q183 Q39"),
           ("P19", "Q3012"),
           ("P106", "Q169470"),
           ("P69", "Q11942"),
           ("P40", SOMEVALUE),
           ("P569", date("+1879-03-14"))]),
    "Q7186": dict(
        L="Marie Curie|Marie Curie|Marie Curie|玛丽·居里|マリ・キュリー|Мария Склодовская-Кюри|Marie Curie|মারি ক্যুরি|Марія Склодовська-Кюрі|Marie Curie",
        D=("physicist and chemist who pioneered research on radioactivity",
           "Physikerin und Chemikerin, Pionierin der Radioaktivitätsforschung",
           "physicienne et chimiste, pionnière de l'étude de la radioactivité"),
        A={"en": ["Maria Skłodowska-Curie", "Maria Salomea Skłodowska"]},
        S="Marie Curie|Marie Curie|Marie Curie|玛丽·居里|マリ・キュリー|Склодовская-Кюри, Мария|Marie Curie||Марія Склодовська-Кюрі|Marie Curie",
        SX={"frwikisource": "Auteur:Marie Curie", "commonswiki": "Category:Marie Curie"},
        C=[("P31", "Q5"),
           ("P27", "Q36 Q142"),
           ("P19", "Q270"),
           ("P106", "Q169470 Q593644"),
           ("P69", "Q209842"),
           ("P26", "Q37463"),
           ("P569", date("+1867-11-07"))]),
    # ---- other ---------------------------------------------------------------------------
    "Q9610": dict(  # edge case: no descriptions ("descriptions":[] as PHP writes an empty map)
        L="Bengali|Bengalisch|bengali|孟加拉语|ベンガル語|бенгальский язык|bengalí|বাংলা|бенгальська мова|tiếng Bengal",
        D=None,
        A={"en": ["Bangla", "Bengali language"], "bn": ["বাংলা ভাষা"]},
        S="Bengali language|Bengalische Sprache|Bengali|孟加拉语|ベンガル語|Бенгальский язык|Idioma bengalí|বাংলা ভাষা|Бенгальська мова|Tiếng Bengal",
        C=[("P31", "Q34770"),
           ("P17", "Q902 Q668")]),
    "Q152171": dict(
        L="Humboldt University of Berlin|Humboldt-Universität zu Berlin|université Humboldt de Berlin|柏林洪堡大学|ベルリン・フンボルト大学|Берлинский университет имени Гумбольдта|Universidad Humboldt de Berlín|||",
        D=("public university in the centre of Berlin, founded in 1809",
           "öffentliche Universität in Berlin-Mitte, gegründet 1809",
           "université publique du centre de Berlin, fondée en 1809"),
        A={"en": ["HU Berlin"], "de": ["HU Berlin", "Humboldt-Uni"]},
        S="Humboldt University of Berlin|Humboldt-Universität zu Berlin|Université Humboldt de Berlin|柏林洪堡大学|ベルリン・フンボルト大学||Universidad Humboldt de Berlín|||",
        C=[("P31", "Q3918"),
           ("P17", "Q183"),
           ("P131", "Q64"),
           ("P571", date("+1809", 9)),
           ("P625", coord(52.518, 13.3936)),
           ("P856", url("https://www.hu-berlin.de/"))]),
}

# Datatype and datavalue "type" for non-item values.
VALUE_TYPES = {"quantity", "globecoordinate", "time", "string", "monolingualtext"}


# --------------------------------------------------------------------------------------------
# builders
# --------------------------------------------------------------------------------------------
def _digest(*parts: str) -> bytes:
    return hashlib.sha1("|".join(parts).encode("utf-8")).digest()


def statement_id(eid: str, pid: str, index: int) -> str:
    return f"{eid}${str(uuid.UUID(bytes=_digest('stmt', eid, pid, str(index))[:16])).upper()}"


def lastrevid(eid: str) -> int:
    return 1_900_000_000 + int.from_bytes(_digest("rev", eid)[:4], "big") % 300_000_000


def _num(eid: str) -> int:
    return int(eid[1:])


def terms(values: dict[str, str]) -> dict:
    return {lang: {"language": lang, "value": v} for lang, v in values.items()}


def entity_ref(eid: str, old_form: bool = False) -> dict:
    etype = "item" if eid[0] == "Q" else "property"
    ref = {"entity-type": etype, "numeric-id": _num(eid)}
    if not old_form:
        ref["id"] = eid
    return ref


def snak(pid: str, value) -> dict:
    """Main snak (or qualifier snak, without hash) for one value spec."""
    datatype = PROPERTIES[pid][0]
    if value is SOMEVALUE or value is NOVALUE:
        return {"snaktype": value[0], "property": pid, "datatype": datatype}
    if isinstance(value, str):  # item id, "~Q183" = old dump form without "id"
        old = value.startswith("~")
        datavalue = {"value": entity_ref(value.lstrip("~"), old), "type": "wikibase-entityid"}
    elif value[0] == "property-ref":
        datavalue = {"value": entity_ref(value[1]), "type": "wikibase-entityid"}
    else:
        vtype, raw = value
        assert vtype in VALUE_TYPES, vtype
        datavalue = {"value": raw, "type": vtype}
    return {"snaktype": "value", "property": pid, "datavalue": datavalue, "datatype": datatype}


def build_claims(eid: str, specs: list) -> dict:
    claims: dict[str, list] = {}
    for spec in specs:
        pid, value = spec[0], spec[1]
        rank = spec[2] if len(spec) > 2 else "normal"
        qualifiers = spec[3] if len(spec) > 3 else None
        values = value.split() if isinstance(value, str) else [value]
        for v in values:
            statements = claims.setdefault(pid, [])
            st = {"mainsnak": snak(pid, v), "type": "statement"}
            if qualifiers:
                st["qualifiers"] = {}
                for qpid, qval in qualifiers.items():
                    qs = snak(qpid, qval)
                    qs = {"snaktype": qs["snaktype"], "property": qpid,
                          "hash": _digest("qual", eid, pid, str(len(statements)), qpid).hex(),
                          "datavalue": qs["datavalue"], "datatype": qs["datatype"]}
                    st["qualifiers"][qpid] = [qs]
                st["qualifiers-order"] = list(qualifiers)
            st["id"] = statement_id(eid, pid, len(statements))
            st["rank"] = rank
            statements.append(st)
    return claims


def build_item(qid: str, spec: dict) -> dict:
    labels = {lang: v for lang, v in zip(LABEL_LANGS, spec["L"].split("|"), strict=True) if v}
    labels.update(spec.get("LX", {}))
    if spec["D"] is None:
        descriptions: dict | list = []  # empty map as the PHP serialiser writes it
    else:
        descriptions = terms(dict(zip(DESC_LANGS, spec["D"], strict=True)))
        descriptions.update(terms(spec.get("DX", {})))
    aliases = {lang: [{"language": lang, "value": v} for v in vs]
               for lang, vs in spec.get("A", {}).items()}
    sites: dict[str, str] = {}
    if spec["S"]:
        sites = {s: t for s, t in zip(SITE_ORDER, spec["S"].split("|"), strict=True) if t}
    sites.update(spec.get("SX", {}))
    sitelinks = {s: {"site": s, "title": sites[s], "badges": []} for s in sorted(sites)}
    return {
        "type": "item",
        "id": qid,
        "labels": terms(labels),
        "descriptions": descriptions,
        "aliases": aliases,
        "claims": build_claims(qid, spec["C"]),
        "sitelinks": sitelinks,
        "lastrevid": lastrevid(qid),
    }


def build_property(pid: str) -> dict:
    datatype, labels, descs, en_aliases = PROPERTIES[pid]
    return {
        "type": "property",
        "datatype": datatype,
        "id": pid,
        "labels": terms(dict(zip(("en", "de", "fr", "zh"), labels.split("|"), strict=True))),
        "descriptions": terms(dict(zip(DESC_LANGS, descs, strict=True))),
        "aliases": {"en": [{"language": "en", "value": a} for a in en_aliases]} if en_aliases else {},
        "claims": build_claims(pid, PROPERTY_CLAIMS.get(pid, [])),
        "lastrevid": lastrevid(pid),
    }


def build_entities() -> list[dict]:
    items = [build_item(q, ITEMS[q]) for q in sorted(ITEMS, key=_num)]
    props = [build_property(p) for p in sorted(PROPERTIES, key=_num)]
    return items + props


def render(entities: list[dict]) -> bytes:
    lines = [json.dumps(e, ensure_ascii=False, separators=(",", ":")) for e in entities]
    body = ",\n".join(lines)
    return f"[\n{body}\n]\n".encode()


def main() -> None:
    data = render(build_entities())
    JSON_PATH.write_bytes(data)
    BZ2_PATH.write_bytes(bz2.compress(data, compresslevel=9))
    print(f"wrote {JSON_PATH.name} ({len(data)} bytes) and {BZ2_PATH.name}")


if __name__ == "__main__":
    main()
