#!/usr/bin/env python3
"""Build the small embedded Wikipedia sample used by ``make demo``.

Plain Python 3.11 standard library, no dependencies. Run from anywhere:

    python3 samples/wikipedia/make_sample.py

It writes, next to this script, for each of en, de, fr, zh and ja:

* ``<lang>wiki-sample.xml``     -- a MediaWiki XML export (schema 0.11), laid out like the
  ``pages-articles`` dumps: ``<mediawiki>``, ``<siteinfo>`` with the wiki's localized
  namespace names, then one ``<page>`` per page with a single ``<revision>``;
* ``<lang>wiki-sample.xml.bz2`` -- bz2 (level 9) of exactly those bytes.

The output is deterministic: running the script twice gives identical bytes. Page and revision
ids are made up; ``<sha1>`` is the real MediaWiki value (base-36 SHA-1 of the text).

Every article text was written for this project in its own words; the facts in it are common
knowledge. Article titles are the sitelink titles of items in ``samples/wikidata``, so that
links resolve to QIDs through the knowledge graph. A few edge cases are built in on purpose;
README.md lists them with the pages that carry them, and ``check_sample.py`` verifies the files.
"""

from __future__ import annotations

import bz2
import hashlib
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent

TIMESTAMP = "2024-01-15T12:00:00Z"
GENERATOR = "MediaWiki 1.41.0"
SCHEMA = "0.11"


@dataclass(frozen=True)
class Page:
    title: str
    ns: int
    text: str
    redirect: str | None = None  # target title of <redirect title="..."/> (no fragment)
    comment: str | None = None


# --------------------------------------------------------------------------------------------
# site information: dbname, sitename, base URL (the main page) and namespace names
# --------------------------------------------------------------------------------------------
NAMESPACES = {
    "en": {
        -2: "Media", -1: "Special", 0: "", 1: "Talk", 2: "User", 3: "User talk",
        4: "Wikipedia", 5: "Wikipedia talk", 6: "File", 7: "File talk", 8: "MediaWiki",
        9: "MediaWiki talk", 10: "Template", 11: "Template talk", 12: "Help", 13: "Help talk",
        14: "Category", 15: "Category talk", 100: "Portal", 101: "Portal talk", 118: "Draft",
        119: "Draft talk", 710: "TimedText", 711: "TimedText talk", 828: "Module",
        829: "Module talk",
    },
    "de": {
        -2: "Medium", -1: "Spezial", 0: "", 1: "Diskussion", 2: "Benutzer",
        3: "Benutzer Diskussion", 4: "Wikipedia", 5: "Wikipedia Diskussion", 6: "Datei",
        7: "Datei Diskussion", 8: "MediaWiki", 9: "MediaWiki Diskussion", 10: "Vorlage",
        11: "Vorlage Diskussion", 12: "Hilfe", 13: "Hilfe Diskussion", 14: "Kategorie",
        15: "Kategorie Diskussion", 100: "Portal", 101: "Portal Diskussion", 710: "TimedText",
        711: "TimedText talk", 828: "Modul", 829: "Modul Diskussion",
    },
    "fr": {
        -2: "Média", -1: "Spécial", 0: "", 1: "Discussion", 2: "Utilisateur",
        3: "Discussion utilisateur", 4: "Wikipédia", 5: "Discussion Wikipédia", 6: "Fichier",
        7: "Discussion fichier", 8: "MediaWiki", 9: "Discussion MediaWiki", 10: "Modèle",
        11: "Discussion modèle", 12: "Aide", 13: "Discussion aide", 14: "Catégorie",
        15: "Discussion catégorie", 100: "Portail", 101: "Discussion Portail", 102: "Projet",
        103: "Discussion Projet", 104: "Référence", 105: "Discussion Référence",
        710: "TimedText", 711: "TimedText talk", 828: "Module", 829: "Discussion module",
    },
    "zh": {
        -2: "Media", -1: "Special", 0: "", 1: "Talk", 2: "User", 3: "User talk",
        4: "Wikipedia", 5: "Wikipedia talk", 6: "File", 7: "File talk", 8: "MediaWiki",
        9: "MediaWiki talk", 10: "Template", 11: "Template talk", 12: "Help", 13: "Help talk",
        14: "Category", 15: "Category talk", 100: "Portal", 101: "Portal talk",
        102: "WikiProject", 103: "WikiProject talk", 118: "Draft", 119: "Draft talk",
        710: "TimedText", 711: "TimedText talk", 828: "Module", 829: "Module talk",
    },
    "ja": {
        -2: "メディア", -1: "特別", 0: "", 1: "ノート", 2: "利用者", 3: "利用者‐会話",
        4: "Wikipedia", 5: "Wikipedia‐ノート", 6: "ファイル", 7: "ファイル‐ノート",
        8: "MediaWiki", 9: "MediaWiki‐ノート", 10: "Template", 11: "Template‐ノート",
        12: "Help", 13: "Help‐ノート", 14: "Category", 15: "Category‐ノート", 100: "Portal",
        101: "Portal‐ノート", 102: "プロジェクト", 103: "プロジェクト‐ノート",
        828: "モジュール", 829: "モジュール‐ノート",
    },
}

SITEINFO = {
    "en": ("Wikipedia", "https://en.wikipedia.org/wiki/Main_Page"),
    "de": ("Wikipedia", "https://de.wikipedia.org/wiki/Wikipedia:Hauptseite"),
    "fr": ("Wikipédia", "https://fr.wikipedia.org/wiki/Wikip%C3%A9dia:Accueil_principal"),
    "zh": ("Wikipedia", "https://zh.wikipedia.org/wiki/Wikipedia:%E9%A6%96%E9%A1%B5"),
    "ja": ("Wikipedia",
           "https://ja.wikipedia.org/wiki/%E3%83%A1%E3%82%A4%E3%83%B3%E3%83%9A%E3%83%BC%E3%82%B8"),
}

# First page id and first revision id of each file (made up, distinct per wiki).
ID_BASE = {"en": (1001, 5_100_001), "de": (2001, 5_200_001), "fr": (3001, 5_300_001),
           "zh": (4001, 5_400_001), "ja": (5001, 5_500_001)}

# --------------------------------------------------------------------------------------------
# English
# --------------------------------------------------------------------------------------------
EN = [
    Page("Berlin", 0, """
{{Short description|Capital and largest city of Germany}}
{{Infobox settlement
| name = Berlin
| settlement_type = [[Capital city|Capital]] of [[Germany]]
| area_total_km2 = 891.8
| population_total = {{formatnum:3850000}}
}}
'''Berlin''' ([[Help:IPA/Standard German|pronunciation]]: {{IPA|de|bɛʁˈliːn}}) is the capital and largest city of [[germany]]. It lies on the rivers Spree and Havel and covers {{convert|891.8|km2}}.<ref name="stat">Statistical Office for Berlin-Brandenburg, ''Population report'', 2023.</ref> About 3.8 million people live in the city.<ref name="stat" />

[[File:Brandenburger Tor abends.jpg|thumb|upright=1.2|The Brandenburg Gate in [[Berlin]], the capital of [[Germany]]]]

== History ==
From 1961 to 1989 the Berlin Wall divided the city, and since 1990 Berlin has been the capital of the reunified [[Federal Republic of Germany]]. [[Albert_Einstein|Einstein]] taught at the [[Humboldt University of Berlin]] until 1933.

== Culture ==
The fictional [[Sample Street Festival]] also takes place here, in the city whose [[#History|history]] is outlined above.{{Citation needed|date=January 2024}}

== References ==
<references />

== External links ==
* [https://www.berlin.de/ Official website]

[[Category:Capitals in Europe]]
[[Category:Cities in Germany|Berlin]]
[[fr:Berlin]]
""", comment="sample article"),
    Page("Germany", 0, """
{{Short description|Country in Central Europe}}
'''Germany''', officially the '''Federal Republic of Germany''' ({{lang|de|Bundesrepublik Deutschland}}), is a country in Central [[Europe]]. Its capital and largest city is [[Berlin]], and about 84 million people live in the country.<ref name="destatis">Federal Statistical Office of Germany, 2023.</ref>

== Geography ==
Germany borders nine countries, among them [[France]] in the south-west.<ref name="destatis" /> The [[Rhine]] flows north through the west of the country towards the North Sea.

== History ==
<!-- Keep this section short; the details belong in a separate article. -->
After the Second World War the country was divided, and it was reunified on 3 October 1990. [[Angela Merkel]] was ''Chancellor'' from 2005 to 2021.

== References ==
{{Reflist}}

[[Category:Countries in Europe]]
[[ja:ドイツ]]
""", comment="sample article"),
    Page("Federal Republic of Germany", 0, """
#REDIRECT [[Germany]]

{{Redirect category shell|
{{R from long name}}
}}
""", redirect="Germany"),
    Page("Paris", 0, """
{{Infobox settlement
| name = Paris
| country = [[France]]
| river = [[Seine]]
}}
'''Paris''' is the capital and largest city of [[France]]. It lies on the [[Seine]] in the north of the country, and about 2.1 million people live in the city itself.<ref>INSEE, population estimate, 2021.</ref>

[[Image:Tour Eiffel vue du Trocadéro.jpg|thumb|The Eiffel Tower in [[Paris]]]]

== Geography ==
The city is divided into twenty districts called ''arrondissements''. Other European capitals, such as [[ Berlin ]], are listed in [[:Category:Capitals in Europe|a category]].

== Science ==
[[Marie Curie]] did her research on radioactivity in Paris, work for which she received two Nobel Prizes.

[[Category:Capitals in Europe]]
""", comment="sample article"),
    Page("France", 0, """
'''France''' is a country in Western [[Europe]] with overseas regions on several continents. Its capital is [[Paris]], and about 68 million people live in the country.<ref>INSEE, 2024.</ref>

== Geography ==
In the north-east, the [[Rhine]] forms part of the border with [[Germany#Geography|Germany]]. Other large cities include Marseille and [[Lyon]].

[[Category:Countries in Europe]]
""", comment="sample article"),
    Page("Tokyo", 0, """
{{Infobox settlement
| name = Tokyo
| native_name = {{lang|ja|東京都}}
| country = [[Japan]]
}}
'''Tokyo''' is the capital of [[Japan]] and the centre of the largest metropolitan area in the world, with about 37 million people. Until 1868 the city was called ''Edo''.

== History ==
In 1868 Edo was renamed Tokyo, which means "eastern capital", and the emperor moved there from [[Kyoto]]. It hosted the Summer Olympics in 1964 and in 2021.<ref>International Olympic Committee, 2021.</ref>

== Sister cities ==
Tokyo has friendship agreements with [[Beijing]] (1979) and [[Paris]] (1982). It is the largest [[Japan]]ese city.

[[Category:Capitals in Asia]]
""", comment="sample article"),
    Page("Japan", 0, """
'''Japan''' ({{lang|ja|日本}}, ''Nippon'' or ''Nihon'') is an island country in East [[Asia]]. Its capital is [[Tokyo]], and about 124 million people live there.

== Geography ==
The four largest islands are Honshu, Hokkaido, Kyushu and Shikoku. The old imperial capital [[Kyoto]] and the city of [[Osaka]] both lie on Honshu.

[[Category:Countries in Asia]]
[[zh:日本]]
""", comment="sample article"),
    Page("Beijing", 0, """
'''Beijing''', formerly romanized as ''Peking'', is the capital of the [[People's Republic of China]]. About 21 million people live in the municipality.<ref name="nbs">National Bureau of Statistics of China, 2023.</ref>

== History ==
The Forbidden City was the palace of the emperors of the Ming and Qing dynasties. Beijing hosted the Summer Olympics in 2008 and the Winter Olympics in 2022, the first city to host both.

[[Category:Capitals in Asia]]
""", comment="sample article"),
    Page("China", 0, """
'''China''', officially the '''People's Republic of China''' (PRC), is a country in East [[Asia]]. With about 1.4 billion inhabitants it is one of the two most populous countries in the world, and its capital is [[Beijing]].

== Geography ==
The [[Yangtze]] is the longest river in Asia. It flows into the East China Sea at [[Shanghai]], one of the largest cities of the country.

[[Category:Countries in Asia]]
""", comment="sample article"),
    Page("People's Republic of China", 0, """
#REDIRECT [[China]]
""", redirect="China"),
    Page("Albert Einstein", 0, """
{{Infobox scientist
| name = Albert Einstein
| birth_date = {{birth date|1879|3|14}}
| fields = [[Physicist|Physics]]
}}
'''Albert Einstein''' (14 March 1879 – 18 April 1955) was a German-born theoretical [[physicist]] who developed the theory of relativity. He received the Nobel Prize in Physics for 1921.<ref name="nobel">The Nobel Prize in Physics 1921, nobelprize.org.</ref>

== Life ==
Einstein was born in Ulm and lived in [[Berlin]] from 1914 to 1933. After 1933 he stayed in the United States and worked in Princeton until his death.<ref name="nobel"/>

[[Category:Theoretical physicists]]
""", comment="sample article"),
    Page("Marie Curie", 0, """
'''Marie Curie''' (born '''Maria Skłodowska'''; 7 November 1867 – 4 July 1934) was a [[Physicist|physicist]] and [[chemist]] who studied radioactivity. She was the first person to win two Nobel Prizes, in physics (1903) and in chemistry (1911).

== Life ==
She was born in [[Warsaw]] and moved to [[Paris]] in 1891 to study at the Sorbonne. Together with Pierre Curie she discovered the elements polonium and radium.

[[Category:Nobel laureates in Physics]]
[[Category:Nobel laureates in Chemistry]]
""", comment="sample article"),
    Page("Category:Capitals in Europe", 14, """
Cities that are the capital of a country in [[Europe]], such as [[Berlin]] and [[Paris]].

[[Category:Capitals|Europe]]
[[Category:Cities in Europe]]
""", comment="category page"),
    Page("Rhine", 0, """
__NOTOC__
The '''Rhine''' is one of the major rivers of [[Europe]], about {{convert|1230|km|mi}} long. It rises in the Swiss Alps and flows into the North Sea in the Netherlands.<ref name="icpr">International Commission for the Protection of the Rhine, 2020.</ref>

== Course ==
Between Basel and Karlsruhe the river forms the border between [[France]] and [[Germany]].<ref name="icpr" /> A list of its tributaries is still missing ([[Nonexistent Sample Article]]).

[[Category:Rivers of Germany]]
""", comment="sample article"),
    Page("Sample Street Festival", 0, """
The '''Sample Street Festival''' is a made-up yearly street festival in [[Berlin]], [[Germany]]. It exists only in the xlkit test data, so no Wikidata item links to this article.

== Guest cities ==
Each year the festival invites a guest city, as the table shows.

{| class="wikitable"
|+ Guest cities
! Year !! City !! Country
|-
| 2022 || [[Paris]] || [[France]]
|-
| 2023 || [[Tokyo]] || [[Japan]]
|-
| 2024 || [[Beijing]] || [[China]]
|}

The festival's motto is printed as <nowiki>[[Everyone welcome]]</nowiki> on its posters.<!-- [[Commented Out Link]] -->

[[Category:Festivals in Berlin]]
""", comment="sample article without a Wikidata item"),
]

# --------------------------------------------------------------------------------------------
# German
# --------------------------------------------------------------------------------------------
DE = [
    Page("Berlin", 0, """
{{Infobox Bundesland
| Name = Berlin
| Staat = [[Deutschland]]
| Fläche = 891,8
}}
'''Berlin''' ist die Hauptstadt und mit rund 3,8 Millionen Einwohnern die größte Stadt [[Deutschland]]s. Die Stadt liegt an der Spree und ist zugleich ein eigenes Land der [[BRD|Bundesrepublik]].<ref name="amt">Amt für Statistik Berlin-Brandenburg, 2023.</ref>

[[Datei:Brandenburger Tor abends.jpg|mini|Das Brandenburger Tor in [[Berlin]], der Hauptstadt von [[Deutschland]]]]

== Geschichte ==
Von 1961 bis 1989 teilte die Berliner Mauer die Stadt. Die 1810 eröffnete [[Berlin]]er Universität heißt heute [[Humboldt-Universität zu Berlin]]; dort lehrte auch [[Albert_Einstein|Einstein]].

== Weblinks ==
* [https://www.berlin.de/ Offizielle Website]

== Einzelnachweise ==
<references />

[[Kategorie:Hauptstadt in Europa]]
[[Kategorie:Ort in Berlin|!]]
[[en:Berlin]]
""", comment="Beispielartikel"),
    Page("Deutschland", 0, """
{{Infobox Staat
| DEUTSCHER-NAME = Bundesrepublik Deutschland
| HAUPTSTADT = [[Berlin]]
}}
'''Deutschland''' ([[Hilfe:Aussprache|Aussprache]]), amtlich ''Bundesrepublik Deutschland'', ist ein Bundesstaat in [[Europa|Mitteleuropa]] mit 16 Ländern. Hauptstadt ist [[berlin]], weitere große Städte sind [[Hamburg]] und [[München]].<ref>Statistisches Bundesamt, 2023.</ref> Zu den neun Nachbarländern ([[#Geographie|siehe unten]]) gehören [[Frankreich]], [[Österreich]] und [[Polen]].

== Geographie ==
Im Westen fließt der [[Rhein]] nach Norden, im Süden entspringt die [[Donau]] im Schwarzwald.

{| class="wikitable"
|+ Größte Städte
! Stadt !! Einwohner (Mio.)
|-
| [[Berlin]] || 3,8
|-
| [[Hamburg]] || 1,9
|-
| [[München]] || 1,5
|}

== Geschichte ==
<!-- Abschnitt bitte kurz halten. -->
Am 3. Oktober 1990 wurde Deutschland wiedervereinigt. Von 2005 bis 2021 war [[Angela Merkel]] Bundeskanzlerin.

[[Kategorie:Staat in Europa]]
[[fr:Allemagne]]
""", comment="Beispielartikel"),
    Page("BRD", 0, """
#WEITERLEITUNG [[Deutschland]]
""", redirect="Deutschland"),
    Page("Hamburg", 0, """
'''Hamburg''' (amtlich ''Freie und Hansestadt Hamburg'') ist mit rund 1,9 Millionen Einwohnern die zweitgrößte Stadt [[Deutschland]]s. Die Stadt liegt an der Elbe und hat einen der größten Häfen [[Europa]]s.

== Persönlichkeiten ==
Die spätere Bundeskanzlerin [[Angela Merkel]] wurde 1954 in Hamburg geboren.

[[Kategorie:Ort in Hamburg]]
""", comment="Beispielartikel"),
    Page("Freie und Hansestadt Hamburg", 0, """
#WEITERLEITUNG [[Hamburg]]
""", redirect="Hamburg"),
    Page("München", 0, """
{{Infobox Gemeinde in Deutschland
| Name = München
| Bundesland = Bayern
}}
'''München''' ist die Landeshauptstadt des Freistaates Bayern und mit etwa 1,5 Millionen Einwohnern die drittgrößte Stadt Deutschlands. Sie liegt an der Isar nördlich der Alpen.

== Kultur ==
Bekannt ist die Stadt für das Oktoberfest, das seit 1810 gefeiert wird. Wie [[Hamburg]] und [[Berlin]] ist München eine Millionenstadt in [[Deutschland]].

[[Kategorie:Ort in Bayern]]
""", comment="Beispielartikel"),
    Page("Paris", 0, """
'''Paris''' ({{lang|fr|Paris}}) ist die Hauptstadt [[Frankreich]]s. In der Stadt selbst leben rund 2,1 Millionen Menschen, im Großraum über zwölf Millionen.<ref>INSEE, 2021.</ref>

[[File:Tour Eiffel vue du Trocadéro.jpg|mini|Der Eiffelturm in [[Paris]]]]

== Geographie ==
Die Stadt liegt an der [[Seine]] und ist in 20 ''Arrondissements'' gegliedert.

== Wissenschaft ==
Die Physikerin [[Marie Curie]] forschte in Paris über Radioaktivität.

[[Kategorie:Hauptstadt in Europa]]
""", comment="Beispielartikel"),
    Page("Frankreich", 0, """
'''Frankreich''' (amtlich ''Französische Republik'') ist ein Staat in Westeuropa. Hauptstadt ist [[Paris]]; rund 68 Millionen Menschen leben im Land.<ref>INSEE, 2024.</ref>

== Nachbarn ==
Im Nordosten grenzt Frankreich an [[Deutschland#Geographie|Deutschland]]; zwischen Basel und Karlsruhe bildet der [[Rhein]] die Grenze. Weitere große Städte sind Marseille und [[Lyon]].

[[Kategorie:Staat in Europa]]
""", comment="Beispielartikel"),
    Page("Rhein", 0, """
__NOTOC__
Der '''Rhein''' ist ein Fluss in [[Europa]] und etwa 1230 Kilometer lang. Er entspringt in den Schweizer Alpen und mündet in den Niederlanden in die Nordsee.<ref name="iksr">Internationale Kommission zum Schutz des Rheins, 2020.</ref>

== Verlauf ==
Zwischen Basel und Karlsruhe bildet der Fluss die Grenze zwischen [[Frankreich]] und [[Deutschland]].<ref name="iksr" /> Eine Liste der Nebenflüsse fehlt noch ([[Nicht vorhandener Beispielartikel]]).

[[Kategorie:Fluss in Europa]]
""", comment="Beispielartikel"),
    Page("Kategorie:Hauptstadt in Europa", 14, """
Hauptstädte europäischer Staaten, etwa [[Berlin]] und [[Paris]].

[[Kategorie:Hauptstadt|Europa]]
""", comment="Kategorieseite"),
    Page("Donau", 0, """
Die '''Donau''' ist mit rund 2850 Kilometern nach der Wolga der zweitlängste Fluss [[Europa]]s. Sie entspringt im Schwarzwald in [[Deutschland]] und mündet in das Schwarze Meer.

== Verlauf ==
Die Donau fließt durch vier Hauptstädte, darunter [[Wien]] und Budapest. Anders als der [[rhein]] fließt sie vor allem nach Osten.

[[Kategorie:Fluss in Europa]]
""", comment="Beispielartikel"),
    Page("Albert Einstein", 0, """
'''Albert Einstein''' (* 14. März 1879 in Ulm; † 18. April 1955 in Princeton) war ein [[Physiker|theoretischer Physiker]]. Er entwickelte die Relativitätstheorie und erhielt den Nobelpreis für Physik des Jahres 1921.<ref>Nobelstiftung, nobelprize.org.</ref>

== Berliner Jahre ==
Von 1914 bis 1933 lebte Einstein in [[Berlin]] und lehrte an der [[Humboldt-Universität_zu_Berlin|Berliner Universität]]. Von einer Reise in die Vereinigten Staaten kehrte er 1933 nicht nach [[Deutschland]] zurück.

[[Kategorie:Physiker (20. Jahrhundert)]]
""", comment="Beispielartikel"),
    Page("Angela Merkel", 0, """
'''Angela Dorothea Merkel''' (* 17. Juli 1954 in [[Freie und Hansestadt Hamburg|Hamburg]]) ist eine deutsche [[Politiker]]in. Von 2005 bis 2021 war sie Bundeskanzlerin der [[BRD|Bundesrepublik Deutschland]].

== Leben ==
Merkel wuchs in der DDR auf und wurde 1986 in Ost-[[Berlin]] promoviert. Sie war die erste Frau im Amt des Bundeskanzlers.

[[Kategorie:Bundeskanzler (Deutschland)]]
""", comment="Beispielartikel"),
    Page("Humboldt-Universität zu Berlin", 0, """
Die '''Humboldt-Universität zu Berlin''' ist die älteste Universität [[Berlin]]s. Sie wurde 1809 auf Anregung von Wilhelm von Humboldt gegründet und nahm 1810 den Lehrbetrieb auf.

== Bekannte Lehrende ==
Zu den bekannten Lehrenden gehörte der Physiker [[Albert Einstein]].

[[Kategorie:Universität in Berlin]]
""", comment="Beispielartikel"),
]

# --------------------------------------------------------------------------------------------
# French
# --------------------------------------------------------------------------------------------
FR = [
    Page("Paris", 0, """
{{Infobox Commune de France
| nom = Paris
| région = Île-de-France
}}
'''Paris''' est la capitale de la [[France]] et sa plus grande ville. Environ 2,1 millions d'habitants vivent dans la commune, qui couvre {{unité|105.4|km|2}}.<ref name="insee">Institut national de la statistique et des études économiques (INSEE), 2021.</ref>

[[Fichier:Tour Eiffel vue du Trocadéro.jpg|vignette|La tour Eiffel à [[Paris]], sur la rive gauche de la [[Seine]]]]

== Géographie ==
La ville est traversée par la [[Seine]] et divisée en vingt arrondissements.<ref name="insee" /> On la surnomme parfois la ''[[Ville Lumière]]''.

== Sciences ==
[[Marie Curie]] y a mené ses recherches sur la radioactivité.

{{Palette Capitales européennes}}
[[Catégorie:Capitale en Europe]]
[[en:Paris]]
""", comment="article d'exemple"),
    Page("France", 0, """
La '''France''' ([[Aide:Alphabet phonétique international|prononciation]]), en forme longue la '''[[République française]]''', est un pays d'[[Europe]] de l'Ouest. Sa capitale est [[Paris]] et environ 68 millions de personnes y vivent.<ref>INSEE, 2024.</ref>

== Géographie ==
Au nord-est, le [[Rhin]] forme une partie de la frontière avec l'[[Allemagne#Géographie|Allemagne]]. Les autres grandes villes sont Marseille et [[Lyon]].

[[Catégorie:Pays d'Europe]]
""", comment="article d'exemple"),
    Page("République française", 0, """
#REDIRECTION [[France]]
""", redirect="France"),
    Page("Lyon", 0, """
'''Lyon''' est une ville du sud-est de la [[France]], au confluent du Rhône et de la Saône. C'est la troisième commune du pays par sa population, après [[Paris]] et Marseille.

== Économie ==
La ville est connue pour sa gastronomie et, depuis le {{s|XVI}}, pour l'industrie de la soie.

[[Catégorie:Commune du Rhône]]
""", comment="article d'exemple"),
    Page("Seine", 0, """
La '''Seine''' est un fleuve du nord de la [[France]], long d'environ {{unité|777|km}}. Elle prend sa source sur le plateau de Langres et se jette dans la Manche près du Havre.

== Traversée de Paris ==
Les [[Paris]]iens se promènent sur ses quais, inscrits au patrimoine mondial de l'UNESCO en 1991.<ref>UNESCO, « Paris, rives de la Seine », 1991.</ref>

[[Catégorie:Fleuve en Europe]]
""", comment="article d'exemple"),
    Page("Ville Lumière", 0, """
#REDIRECTION [[Paris#Géographie]]
""", redirect="Paris"),
    Page("Berlin", 0, """
'''Berlin''' ({{lang|de|Berlin}}) est la capitale et la plus grande ville de l'[[Allemagne]]. Elle compte environ 3,8 millions d'habitants.

[[Fichier:Brandenburger Tor abends.jpg|vignette|La porte de Brandebourg à [[Berlin]]]]

== Histoire ==
De 1961 à 1989, le mur de Berlin a divisé la ville. [[Albert_Einstein|Einstein]] y a enseigné à l'[[Université Humboldt de Berlin|université]] jusqu'en 1933.

[[Catégorie:Capitale en Europe]]
[[de:Berlin]]
""", comment="article d'exemple"),
    Page("Allemagne", 0, """
L''''Allemagne''', en forme longue la ''République fédérale d'Allemagne'', est un pays d'[[Europe]] centrale. Sa capitale est [[Berlin]] et environ 84 millions de personnes y vivent.

== Géographie ==
Le [[Rhin]] traverse l'ouest du pays, et le Danube y prend sa source.

{| class="wikitable"
! Ville !! Habitants (millions)
|-
| [[Berlin]] || 3,8
|-
| [[Hambourg]] || 1,9
|-
| [[Munich]] || 1,5
|}

[[Catégorie:Pays d'Europe]]
""", comment="article d'exemple"),
    Page("Modèle:Palette Capitales européennes", 10, """
{{Palette
| titre = Capitales européennes
| contenu = [[Paris]] • [[Berlin]] • [[Madrid]] • [[Vienne]]
}}<noinclude>[[Catégorie:Modèle de palette]]</noinclude>
""", comment="modèle"),
    Page("Marie Curie", 0, """
'''Marie Curie''', née '''Maria Salomea Skłodowska''' le 7 novembre 1867 à [[Varsovie]] et morte le 4 juillet 1934, est une [[Physicien|physicienne]] et [[chimiste]] d'origine polonaise. Elle est la première personne à recevoir deux prix Nobel, en physique (1903) et en chimie (1911).<ref name="nobel">Fondation Nobel, nobelprize.org.</ref>

== Carrière ==
Arrivée à [[Paris]] en 1891, elle étudie à la Sorbonne. Avec Pierre Curie, elle découvre le polonium et le radium en 1898.<ref name="nobel" />

[[Catégorie:Lauréat du prix Nobel de physique]]
""", comment="article d'exemple"),
    Page("Albert Einstein", 0, """
'''Albert Einstein''' (1879-1955) est un [[Physicien|physicien]] théoricien né en [[Allemagne]]. Il est connu pour la théorie de la relativité et reçoit le prix Nobel de physique de 1921.

== Vie ==
De 1914 à 1933, il vit à [[Berlin]]. Il s'installe ensuite aux États-Unis, à Princeton, où il meurt en 1955.

[[Catégorie:Physicien allemand]]
""", comment="article d'exemple"),
    Page("Rhin", 0, """
__NOTOC__
Le '''Rhin''' est un fleuve d'[[Europe]] long d'environ {{unité|1230|km}}. Il naît dans les Alpes suisses et se jette dans la mer du Nord aux Pays-Bas.

== Frontière ==
Entre Bâle et Lauterbourg, il sert de frontière entre la [[france]] et l'[[Allemagne]].<!-- vérifier les limites exactes --> Un [[Article d'exemple inexistant|article sur ses affluents]] reste à écrire.

[[Catégorie:Fleuve en Europe]]
""", comment="article d'exemple"),
    Page("Europe", 0, """
L''''Europe''' est un continent de l'hémisphère nord, à l'ouest de l'[[Asie]]. Parmi ses pays les plus peuplés figurent la Russie, l'[[Allemagne]] et la [[France]].

== Fleuves ==
Ses grands fleuves comprennent le Danube, le [[Rhin]] et la [[Seine]].

[[Catégorie:Continent]]
""", comment="article d'exemple"),
]

# --------------------------------------------------------------------------------------------
# Chinese (Simplified): sentences end with 。, no spaces between words
# --------------------------------------------------------------------------------------------
ZH = [
    Page("柏林", 0, """
{{Infobox German location
|name=柏林
|country=[[德国]]
}}
'''柏林'''（{{lang|de|Berlin}}，[[Help:国际音标|发音]]）是[[德国]]的首都和最大城市，人口约380万。<ref name="stat">柏林-勃兰登堡统计局，2023年。</ref>城市位于施普雷河畔，面积约891.8平方公里。<ref name="stat" />

[[File:Brandenburger Tor abends.jpg|thumb|[[柏林]]的勃兰登堡门]]

== 历史 ==
1961年至1989年间，柏林墙把城市分为东西两部分。1990年两德统一后，柏林成为[[德意志联邦共和国]]的首都。[[阿尔伯特·爱因斯坦|爱因斯坦]]曾在[[柏林洪堡大学]]任教。

[[Category:欧洲首都]]
[[en:Berlin]]
""", comment="示例条目"),
    Page("德国", 0, """
'''德国'''，全称'''德意志联邦共和国'''，是位于[[欧洲]]中部的联邦制国家，由16个州组成。首都是[[柏林]]，人口约8400万。<ref>德国联邦统计局，2023年。</ref>

== 地理 ==
[[莱茵河]]流经德国西部，[[多瑙河]]发源于西南部的黑森林。德国与[[法国]]、[[波兰]]等九个国家接壤。

{| class="wikitable"
! 城市 !! 人口（百万）
|-
| [[ 柏林 ]] || 3.8
|-
| [[汉堡]] || 1.9
|-
| [[慕尼黑]] || 1.5
|}
<!-- 编者注：人口为约数。 -->

[[Category:欧洲国家]]
""", comment="示例条目"),
    Page("德意志联邦共和国", 0, """
#重定向 [[德国]]
""", redirect="德国"),
    Page("巴黎", 0, """
'''巴黎'''是[[法国]]的首都和最大城市，位于塞纳河畔。市区人口约210万。<ref>法国国家统计与经济研究所，2021年。</ref>

[[File:Tour Eiffel vue du Trocadéro.jpg|thumb|[[巴黎]]的埃菲尔铁塔]]

== 地理 ==
巴黎市区分为20个区，[[塞纳河]]自东向西穿城而过。埃菲尔铁塔建于1889年，是城市的象征。

[[Category:欧洲首都]]
""", comment="示例条目"),
    Page("法国", 0, """
'''法国'''，全称法兰西共和国，是位于[[欧洲]]西部的国家。首都是[[巴黎]]，人口约6800万。

== 地理 ==
法国东北部与[[德国#地理|德国]]接壤，[[莱茵河]]的一段构成两国边界。法国第二大城市是马赛。

[[Category:欧洲国家]]
""", comment="示例条目"),
    Page("北京市", 0, """
'''北京市'''，简称“京”，是[[中华人民共和国]]的首都，人口约2100万。<ref name="nbs">国家统计局，2023年。</ref>北京位于华北平原北部。

== 历史 ==
紫禁城是明清两代的皇宫。北京于2008年举办夏季奥运会，2022年又举办冬季奥运会，是第一个同时举办过两者的城市。

[[Category:亚洲首都]]
""", comment="示例条目"),
    Page("北京", 0, """
#重定向 [[北京市]]
""", redirect="北京市"),
    Page("上海市", 0, """
'''上海市'''位于[[长江]]入海口，是[[中华人民共和国|中国]]最大的城市之一，人口约2500万。上海港是世界上最繁忙的港口之一。

== 历史 ==
1843年开埠后，上海迅速发展为远东的商业中心。<ref>上海市地方志办公室，2020年。</ref>

[[Category:中国城市]]
""", comment="示例条目"),
    Page("中华人民共和国", 0, """
'''中华人民共和国'''，简称'''中国'''，是位于[[亚洲]]东部的国家，成立于1949年。全国人口约14亿，首都是[[北京]]。

== 地理 ==
[[长江]]是亚洲最长的河流，最终在[[上海市|上海]]注入东海。上海是中国最大的城市之一。

[[Category:亚洲国家]]
""", comment="示例条目"),
    Page("Category:欧洲首都", 14, """
欧洲国家的首都，例如[[柏林]]和[[巴黎]]。

[[Category:首都|欧洲]]
""", comment="分类页面"),
    Page("长江", 0, """
__NOTOC__
'''长江'''全长约6300公里，是[[亚洲]]最长、世界第三长的河流。它发源于青藏高原，自西向东流经[[中华人民共和国|中国]]，在[[上海市]]注入东海。

== 水利 ==
三峡大坝位于湖北省宜昌市，是世界上装机容量最大的水电站。<ref>中国长江三峡集团，2020年。</ref>关于长江支流的条目[[不存在的示例条目]]尚未写成。

[[Category:中国河流]]
""", comment="示例条目"),
    Page("阿尔伯特·爱因斯坦", 0, """
'''阿尔伯特·爱因斯坦'''（{{lang|de|Albert Einstein}}，1879年3月14日—1955年4月18日）是出生于[[德国]]的理论[[物理学家]]，以相对论闻名。他获得了1921年度诺贝尔物理学奖。<ref>诺贝尔基金会。</ref>

== 生平 ==
1914年至1933年，爱因斯坦在[[柏林]]工作。1933年后他移居美国，在普林斯顿度过晚年。

[[Category:理论物理学家]]
""", comment="示例条目"),
    Page("亚洲", 0, """
'''亚洲'''是世界上面积最大、人口最多的大洲，西接[[欧洲]]。[[中华人民共和国]]和印度是亚洲人口最多的两个国家。

== 城市 ==
亚洲的大城市包括[[北京市]]、[[上海市]]和[[东京都]]。<ref>联合国人口司，2022年。</ref>亚洲共有四十多个国家。

[[Category:大洲]]
""", comment="示例条目"),
]

# --------------------------------------------------------------------------------------------
# Japanese: sentences end with 。, no spaces between words
# --------------------------------------------------------------------------------------------
JA = [
    Page("東京都", 0, """
{{基礎情報 日本の都道府県
|都道府県=東京都
|国=[[日本]]
}}
'''東京都'''（とうきょうと）は、[[日本]]の事実上の首都であり、関東地方に位置する都である。人口は約1400万人で、都道府県の中で最も多い。<ref name="tokyo">東京都総務局統計部、2023年。</ref>

== 歴史 ==
江戸時代には「江戸」と呼ばれ、1868年に東京と改称された。1964年と2021年には夏季オリンピックが開催された。

== 友好都市 ==
[[北京市]]（1979年）や[[パリ]]（1982年）と友好都市の関係を結んでいる。

[[Category:日本の都道府県|とうきようと]]
""", comment="サンプル記事"),
    Page("東京", 0, """
#転送 [[東京都]]
""", redirect="東京都"),
    Page("日本", 0, """
'''日本'''（にっぽん、にほん）は、[[アジア|東アジア]]に位置する島国である。首都は[[東京]]で、人口は約1億2400万人である。<ref>総務省統計局、2024年。</ref>

== 地理 ==
主な島は本州、北海道、九州、四国の4つである。[[京都市]]と[[大阪市]]はどちらも本州にある。

{| class="wikitable"
! 自治体 !! 人口（万人）
|-
| [[東京都]] || 1400
|-
| [[大阪市]] || 280
|-
| [[京都市]] || 140
|}

[[Category:日本|*]]
""", comment="サンプル記事"),
    Page("京都市", 0, """
'''京都市'''（きょうとし）は、[[日本]]の京都府の府庁所在地で、人口は約140万人である。794年に平安京が置かれてから1869年に都が[[東京都|東京]]へ移るまで、長く日本の都であった。

== 文化 ==
市内には清水寺や金閣寺など多くの寺社があり、「古都京都の文化財」として世界遺産に登録されている。<ref>文化庁、1994年。</ref>寺社の一覧は[[存在しない記事の例|別の記事]]にまとめる予定である。

[[Category:京都府の市町村]]
""", comment="サンプル記事"),
    Page("大阪市", 0, """
'''大阪市'''（おおさかし）は、大阪府の府庁所在地であり、西日本最大の都市である。人口は約280万人で、古くから[[日本]]の商業の中心の一つとして発展した。

== 博覧会 ==
1970年に日本万国博覧会が開催され、2025年にも万国博覧会の開催が予定されている。

[[Category:大阪府の市町村]]
""", comment="サンプル記事"),
    Page("Template:ヨーロッパの首都", 10, """
{{Navbox
|name=ヨーロッパの首都
|list1=[[ベルリン]]・[[パリ]]・[[ウィーン]]・[[マドリード]]
}}<noinclude>[[Category:ナビゲーションテンプレート]]</noinclude>
""", comment="テンプレート"),
    Page("ベルリン", 0, """
'''ベルリン'''（{{lang|de|Berlin}}）は、[[ドイツ]]の首都であり、同国最大の都市である。人口は約380万人で、シュプレー川に面している。<ref>ベルリン=ブランデンブルク統計局、2023年。</ref>

[[ファイル:Brandenburger Tor abends.jpg|サムネイル|[[ベルリン]]のブランデンブルク門]]

== 歴史 ==
1961年から1989年まで、ベルリンの壁が市を東西に分断していた。1990年の再統一後、ベルリンは[[ドイツ連邦共和国]]の首都となった。[[アルベルト・アインシュタイン|アインシュタイン]]は[[ベルリン・フンボルト大学]]で教えた。

{{ヨーロッパの首都}}
[[Category:ヨーロッパの首都]]
[[de:Berlin]]
""", comment="サンプル記事"),
    Page("ドイツ", 0, """
'''ドイツ連邦共和国'''（ドイツれんぽうきょうわこく）、通称'''ドイツ'''は、[[ヨーロッパ|中央ヨーロッパ]]に位置する連邦共和制国家である。首都は[[ベルリン]]で、人口は約8400万人である。

== 地理 ==
西部を[[ライン川]]が北へ流れ、南部では[[ドナウ川]]が東へ流れる。[[フランス#地理|フランス]]など9か国と国境を接している。
<!-- 編集者注：人口は概数 -->

[[Category:ヨーロッパの国]]
""", comment="サンプル記事"),
    Page("ドイツ連邦共和国", 0, """
#転送 [[ドイツ]]
""", redirect="ドイツ"),
    Page("パリ", 0, """
'''パリ'''（{{lang|fr|Paris}}）は、[[フランス]]の首都であり、セーヌ川の両岸に広がる都市である。市内の人口は約210万人である。<ref>フランス国立統計経済研究所、2021年。</ref>

[[ファイル:Tour Eiffel vue du Trocadéro.jpg|サムネイル|[[パリ]]のエッフェル塔]]

== 科学 ==
[[マリ・キュリー]]はパリで放射能の研究を行った。エッフェル塔は1889年に完成した。

{{ヨーロッパの首都}}
[[Category:ヨーロッパの首都]]
""", comment="サンプル記事"),
    Page("フランス", 0, """
__NOTOC__
'''フランス共和国'''（[[Help:発音記号|発音]]）、通称'''フランス'''は、西ヨーロッパに位置する国である。首都は[[パリ]]で、人口は約6800万人である。

== 地理 ==
北東部で[[ドイツ]]と国境を接し、[[ライン川]]の一部が国境となっている。

[[Category:ヨーロッパの国]]
""", comment="サンプル記事"),
    Page("アルベルト・アインシュタイン", 0, """
'''アルベルト・アインシュタイン'''（{{lang|de|Albert Einstein}}、1879年3月14日～1955年4月18日）は、[[ドイツ]]生まれの理論[[物理学者]]である。相対性理論で知られ、1921年のノーベル物理学賞を受賞した。<ref>ノーベル財団。</ref>

== 生涯 ==
1914年から1933年まで[[ ベルリン ]]で活動した。その後アメリカに移り、プリンストンで亡くなった。

[[Category:理論物理学者]]
""", comment="サンプル記事"),
    Page("北京市", 0, """
'''北京市'''（ペキンし）は、[[中華人民共和国]]の首都である。人口は約2100万人である。

== 歴史 ==
紫禁城は明と清の皇帝の宮殿であった。2008年に夏季オリンピック、2022年に冬季オリンピックが開催された。

[[Category:アジアの首都]]
""", comment="サンプル記事"),
]

PAGES = {"en": EN, "de": DE, "fr": FR, "zh": ZH, "ja": JA}


# --------------------------------------------------------------------------------------------
# XML writer (the layout of MediaWiki's XmlDumpWriter)
# --------------------------------------------------------------------------------------------
def esc(s: str) -> str:
    """Escape as MediaWiki's dumps do (htmlspecialchars): & < > and "."""
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def mw_sha1(text: str) -> str:
    """MediaWiki's revision sha1: SHA-1 of the UTF-8 text in base 36, padded to 31 digits."""
    n = int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16)
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out.rjust(31, "0")


def render(lang: str) -> bytes:
    sitename, base = SITEINFO[lang]
    out = [
        f'<mediawiki xmlns="http://www.mediawiki.org/xml/export-{SCHEMA}/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xsi:schemaLocation="http://www.mediawiki.org/xml/export-{SCHEMA}/ '
        f'http://www.mediawiki.org/xml/export-{SCHEMA}.xsd" version="{SCHEMA}" xml:lang="{lang}">',
        "  <siteinfo>",
        f"    <sitename>{esc(sitename)}</sitename>",
        f"    <dbname>{lang}wiki</dbname>",
        f"    <base>{esc(base)}</base>",
        f"    <generator>{GENERATOR}</generator>",
        "    <case>first-letter</case>",
        "    <namespaces>",
    ]
    for key, name in NAMESPACES[lang].items():
        if name:
            out.append(f'      <namespace key="{key}" case="first-letter">{esc(name)}</namespace>')
        else:
            out.append(f'      <namespace key="{key}" case="first-letter" />')
    out += ["    </namespaces>", "  </siteinfo>"]

    page_id, rev_id = ID_BASE[lang]
    for i, page in enumerate(PAGES[lang]):
        text = page.text.strip("\n")
        sha1 = mw_sha1(text)
        rid = rev_id + 7 * i
        out += [
            "  <page>",
            f"    <title>{esc(page.title)}</title>",
            f"    <ns>{page.ns}</ns>",
            f"    <id>{page_id + i}</id>",
        ]
        if page.redirect is not None:
            out.append(f'    <redirect title="{esc(page.redirect)}" />')
        out += [
            "    <revision>",
            f"      <id>{rid}</id>",
            f"      <parentid>{rid - 3}</parentid>",
            f"      <timestamp>{TIMESTAMP}</timestamp>",
            "      <contributor>",
            "        <username>SampleBot</username>",
            "        <id>1</id>",
            "      </contributor>",
        ]
        if page.comment is not None:
            out.append(f"      <comment>{esc(page.comment)}</comment>")
        out += [
            f"      <origin>{rid}</origin>",
            "      <model>wikitext</model>",
            "      <format>text/x-wiki</format>",
            f'      <text bytes="{len(text.encode("utf-8"))}" sha1="{sha1}" '
            f'xml:space="preserve">{esc(text)}</text>',
            f"      <sha1>{sha1}</sha1>",
            "    </revision>",
            "  </page>",
        ]
    out.append("</mediawiki>")
    return ("\n".join(out) + "\n").encode("utf-8")


def main() -> None:
    for lang in PAGES:
        data = render(lang)
        xml_path = HERE / f"{lang}wiki-sample.xml"
        xml_path.write_bytes(data)
        (HERE / f"{lang}wiki-sample.xml.bz2").write_bytes(bz2.compress(data, compresslevel=9))
        print(f"wrote {xml_path.name} ({len(data)} bytes, {len(PAGES[lang])} pages) and .bz2")


if __name__ == "__main__":
    main()
