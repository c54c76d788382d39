"""MediaWiki title rules: normalising a link target and telling what kind of page it names.

``normalize_title`` follows ``MediaWikiTitleCodec::splitTitleString``:

1. HTML character references are decoded (``&amp;``, ``&nbsp;``, ``&#91;``, ``&#x5B;``), then the
   text is put in Unicode NFC, and the bidi marks U+200E, U+200F and U+202A..U+202E are removed.
2. Everything from the first ``#`` on (the section fragment) is dropped.
3. Underscores and runs of whitespace (ASCII, NBSP, U+1680, U+180E, U+2000..U+200A, U+2028,
   U+2029, U+202F, U+205F, U+3000) become one space; the ends are stripped.
4. One leading ``:`` is removed (``[[:Category:X]]`` links to the category page itself).
5. A namespace prefix is recognised case-insensitively (``category: foo`` → ``Category:Foo``),
   replaced by the namespace's local name (an alias such as ``Image`` becomes ``File``), and the
   rest of the title is treated like a title of its own.
6. The first letter is upper-cased when the wiki is ``first-letter`` (every Wikipedia).
   MediaWiki upper-cases with the *simple* (one-character) Unicode mapping and Wikimedia pins
   the characters whose full mapping has several characters, so: ``c.upper()`` when that is
   one character, else ``c.title()`` when that is one character (``ᾀ`` → ``ᾈ``), else ``c`` is
   kept (``ß`` stays ``ß``, ``ŉ`` stays ``ŉ``). On tr and az, ``i`` becomes ``İ``.

Percent-encoding is *not* decoded: ``A%20B`` stays as it is.

``Namespaces`` answers, for a link target, whether it names an article (``main``), a file, a
category, a page in another namespace, another language's Wikipedia or another wiki. It is built
from a dump's siteinfo plus built-in tables, because the sample minidumps carry an *English*
siteinfo header even for non-English wikis: the localized File and Category names of the wiki's
language are therefore always known from the built-in table, whatever the header says.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from collections.abc import Iterable, Mapping

__all__ = [
    "ENGLISH_NAMESPACES",
    "INTERWIKI_PREFIXES",
    "MEDIA_EXTENSIONS",
    "LOCALIZED_NAMESPACES",
    "WIKIPEDIA_LANGS",
    "Namespaces",
    "decode_entities",
    "normalize_title",
]

# ---------------------------------------------------------------------------------------------
# Built-in tables
# ---------------------------------------------------------------------------------------------

#: Canonical English names, valid on every wiki (MediaWiki's ``NamespaceInfo::CANONICAL_NAMES``
#: plus the extension namespaces of the Wikipedias).
ENGLISH_NAMESPACES: dict[int, str] = {
    -2: "Media", -1: "Special", 1: "Talk", 2: "User", 3: "User talk", 4: "Project",
    5: "Project talk", 6: "File", 7: "File talk", 8: "MediaWiki", 9: "MediaWiki talk",
    10: "Template", 11: "Template talk", 12: "Help", 13: "Help talk", 14: "Category",
    15: "Category talk", 100: "Portal", 101: "Portal talk", 108: "Book", 109: "Book talk",
    118: "Draft", 119: "Draft talk", 446: "Education Program", 447: "Education Program talk",
    710: "TimedText", 711: "TimedText talk", 828: "Module", 829: "Module talk",
    2300: "Gadget", 2301: "Gadget talk", 2302: "Gadget definition", 2303: "Gadget definition talk",
    2600: "Topic",
}

#: English aliases accepted everywhere (``Image`` is the old name of ``File``).
ENGLISH_ALIASES: dict[str, int] = {
    "Image": 6, "Image talk": 7, "Wikipedia": 4, "Wikipedia talk": 5, "WP": 4, "WT": 5,
}

#: The names an enwiki header gives: a header equal to this on another wiki is the
#: English-header quirk of the sample minidumps, not a localized header.
_ENWIKI_HEADER: dict[int, str] = {**ENGLISH_NAMESPACES, 4: "Wikipedia", 5: "Wikipedia talk"}

_FILE, _CATEGORY = 6, 14

#: Localized namespace names per Wikipedia language: ``{lang: {ns: (local name, *aliases)}}``.
#: The first name is the one MediaWiki writes; the others are accepted aliases. File (6) and
#: Category (14) are given for every language of the sample minidumps and the large Wikipedias;
#: Special, User, Project, Template, Help and Portal for the large ones.
LOCALIZED_NAMESPACES: dict[str, dict[int, tuple[str, ...]]] = {
    "af": {6: ("Lêer", "Beeld"), 14: ("Kategorie",)},
    "als": {6: ("Datei", "Bild"), 14: ("Kategorie",)},
    "an": {6: ("Imachen", "Imagen", "Archivo"), 14: ("Categoría",)},
    "ar": {-1: ("خاص",), 2: ("مستخدم",), 4: ("ويكيبيديا",), 6: ("ملف", "صورة"), 10: ("قالب",),
           12: ("مساعدة",), 14: ("تصنيف",), 100: ("بوابة",)},
    "arz": {6: ("ملف", "صورة"), 14: ("تصنيف",)},
    "az": {6: ("Fayl", "Şəkil"), 14: ("Kateqoriya",)},
    "azb": {6: ("فایل", "شکیل"), 14: ("بؤلمه",)},
    "bar": {6: ("Datei", "Bild"), 14: ("Kategorie",)},
    "be": {6: ("Файл", "Выява"), 14: ("Катэгорыя",)},
    "bg": {-1: ("Специални",), 2: ("Потребител",), 4: ("Уикипедия",), 6: ("Файл", "Картинка"),
           10: ("Шаблон",), 12: ("Помощ",), 14: ("Категория",), 100: ("Портал",)},
    "bn": {-1: ("বিশেষ",), 2: ("ব্যবহারকারী",), 4: ("উইকিপিডিয়া",), 6: ("চিত্র", "ফাইল"),
           10: ("টেমপ্লেট",), 12: ("সাহায্য",), 14: ("বিষয়শ্রেণী",), 100: ("প্রবেশদ্বার",)},
    "br": {6: ("Restr", "Skeudenn"), 14: ("Rummad",)},
    "bs": {6: ("Datoteka", "Slika"), 14: ("Kategorija",)},
    "ca": {6: ("Fitxer", "Imatge"), 14: ("Categoria",)},
    "ce": {6: ("Файл", "Сурт"), 14: ("Категори",)},
    "ceb": {6: ("Payl", "Hulagway"), 14: ("Kategoriya",)},
    "cs": {-1: ("Speciální",), 2: ("Wikipedista",), 4: ("Wikipedie",), 6: ("Soubor", "Obrázek"),
           10: ("Šablona",), 12: ("Nápověda",), 14: ("Kategorie",), 100: ("Portál",)},
    "cv": {6: ("Ӳкерчĕк", "Файл"), 14: ("Категори",)},
    "da": {6: ("Fil", "Billede"), 14: ("Kategori",)},
    "de": {-1: ("Spezial",), 2: ("Benutzer", "Benutzerin"), 4: ("Wikipedia",),
           6: ("Datei", "Bild"), 10: ("Vorlage",), 12: ("Hilfe",), 14: ("Kategorie",),
           100: ("Portal",)},
    "el": {6: ("Αρχείο", "Εικόνα"), 14: ("Κατηγορία",)},
    "eo": {6: ("Dosiero", "Bildo"), 14: ("Kategorio",)},
    "es": {-1: ("Especial",), 2: ("Usuario", "Usuaria"), 4: ("Wikipedia",),
           6: ("Archivo", "Imagen"), 10: ("Plantilla",), 12: ("Ayuda",), 14: ("Categoría",),
           100: ("Portal",), 104: ("Anexo",)},
    "et": {6: ("Fail", "Pilt"), 14: ("Kategooria",)},
    "eu": {6: ("Fitxategi", "Irudi"), 14: ("Kategoria",)},
    "fa": {-1: ("ویژه",), 2: ("کاربر",), 4: ("ویکی‌پدیا",), 6: ("پرونده", "تصویر"), 10: ("الگو",),
           12: ("راهنما",), 14: ("رده",), 100: ("درگاه",)},
    "fi": {-1: ("Toiminnot",), 2: ("Käyttäjä",), 4: ("Wikipedia",), 6: ("Tiedosto", "Kuva"),
           10: ("Malline",), 12: ("Ohje",), 14: ("Luokka",), 100: ("Teemasivu",)},
    "fo": {6: ("Mynd",), 14: ("Bólkur",)},
    "fr": {-1: ("Spécial",), 2: ("Utilisateur", "Utilisatrice"), 4: ("Wikipédia",),
           6: ("Fichier", "Image"), 10: ("Modèle",), 12: ("Aide",), 14: ("Catégorie",),
           100: ("Portail",)},
    "ga": {6: ("Comhad", "Íomhá"), 14: ("Catagóir",)},
    "gd": {6: ("Faidhle", "Dealbh"), 14: ("Roinn-seòrsa",)},
    "gl": {6: ("Ficheiro", "Imaxe"), 14: ("Categoría",)},
    "he": {-1: ("מיוחד",), 2: ("משתמש", "משתמשת"), 4: ("ויקיפדיה",), 6: ("קובץ", "תמונה"),
           10: ("תבנית",), 12: ("עזרה",), 14: ("קטגוריה",), 100: ("פורטל",)},
    "hi": {-1: ("विशेष",), 2: ("सदस्य",), 4: ("विकिपीडिया",), 6: ("चित्र", "फ़ाइल"), 10: ("साँचा",),
           12: ("सहायता",), 14: ("श्रेणी",), 100: ("प्रवेशद्वार",)},
    "hr": {6: ("Datoteka", "Slika"), 14: ("Kategorija",)},
    "hsb": {6: ("Dataja", "Wobraz"), 14: ("Kategorija",)},
    "ht": {6: ("Fichye", "Imaj"), 14: ("Kategori",)},
    "hu": {-1: ("Speciális",), 2: ("Szerkesztő",), 4: ("Wikipédia",), 6: ("Fájl", "Kép"),
           10: ("Sablon",), 12: ("Segítség",), 14: ("Kategória",), 100: ("Portál",)},
    "hy": {6: ("Պատկեր", "Նիշք"), 14: ("Կատեգորիա",)},
    "ia": {6: ("File", "Imagine"), 14: ("Categoria",)},
    "id": {-1: ("Istimewa",), 2: ("Pengguna",), 4: ("Wikipedia",), 6: ("Berkas", "Gambar"),
           10: ("Templat",), 12: ("Bantuan",), 14: ("Kategori",), 100: ("Portal",)},
    "io": {6: ("Arkivo", "Imajo"), 14: ("Kategorio",)},
    "is": {6: ("Mynd",), 14: ("Flokkur",)},
    "it": {-1: ("Speciale",), 2: ("Utente",), 4: ("Wikipedia",), 6: ("File", "Immagine"),
           10: ("Template",), 12: ("Aiuto",), 14: ("Categoria",), 100: ("Portale",)},
    "ja": {-1: ("特別",), 2: ("利用者",), 4: ("Wikipedia",), 6: ("ファイル", "画像"),
           10: ("Template",), 12: ("Help",), 14: ("カテゴリ",), 100: ("Portal",)},
    "jv": {6: ("Barkas", "Gambar"), 14: ("Kategori",)},
    "ka": {6: ("ფაილი", "სურათი"), 14: ("კატეგორია",)},
    "kk": {6: ("Сурет", "Файл"), 14: ("Санат",)},
    "kn": {6: ("ಚಿತ್ರ",), 14: ("ವರ್ಗ",)},
    "ko": {-1: ("특수",), 2: ("사용자",), 4: ("위키백과",), 6: ("파일", "그림"), 10: ("틀",),
           12: ("도움말",), 14: ("분류",), 100: ("포털",)},
    "ky": {6: ("Файл", "Сүрөт"), 14: ("Категория",)},
    "la": {6: ("Fasciculus", "Imago"), 14: ("Categoria",), 100: ("Porta",)},
    "li": {6: ("Plaetje", "Aafbeilding", "Bestand"), 14: ("Categorie",)},
    "lmo": {6: ("Archivi", "Imagen"), 14: ("Categuria", "Categoria")},
    "lt": {6: ("Vaizdas",), 14: ("Kategorija",)},
    "lv": {6: ("Attēls", "Fails"), 14: ("Kategorija",)},
    "mg": {6: ("Rakitra", "Sary"), 14: ("Sokajy",)},
    "ml": {6: ("പ്രമാണം", "ചിത്രം"), 14: ("വർഗ്ഗം",)},
    "mn": {6: ("Файл", "Зураг"), 14: ("Ангилал",)},
    "mrj": {6: ("Файл", "Изображение"), 14: ("Категори",)},
    "ms": {6: ("Fail", "Imej", "Gambar"), 14: ("Kategori",)},
    "mzn": {6: ("پرونده",), 14: ("رج",)},
    "nap": {6: ("Fiùra",), 14: ("Categurìa", "Categoria")},
    "ne": {6: ("चित्र",), 14: ("श्रेणी",)},
    "new": {6: ("किपा",), 14: ("पुचः",)},
    "nl": {-1: ("Speciaal",), 2: ("Gebruiker",), 4: ("Wikipedia",), 6: ("Bestand", "Afbeelding"),
           10: ("Sjabloon",), 12: ("Help",), 14: ("Categorie",), 100: ("Portaal",)},
    "nn": {6: ("Fil", "Bilete"), 14: ("Kategori",)},
    "no": {-1: ("Spesial",), 2: ("Bruker",), 6: ("Fil", "Bilde"), 10: ("Mal",), 14: ("Kategori",)},
    "or": {6: ("ଫାଇଲ", "ଚିତ୍ର"), 14: ("ଶ୍ରେଣୀ",)},
    "os": {6: ("Файл", "Ныв"), 14: ("Категори",)},
    "pl": {-1: ("Specjalna",), 2: ("Wikipedysta", "Wikipedystka"), 4: ("Wikipedia",),
           6: ("Plik", "Grafika"), 10: ("Szablon",), 12: ("Pomoc",), 14: ("Kategoria",),
           100: ("Portal",)},
    "pms": {6: ("Figura",), 14: ("Categorìa",)},
    "pt": {-1: ("Especial",), 2: ("Usuário", "Utilizador", "Usuária"), 4: ("Wikipédia",),
           6: ("Ficheiro", "Arquivo", "Imagem"), 10: ("Predefinição",), 12: ("Ajuda",),
           14: ("Categoria",), 100: ("Portal",), 102: ("Anexo",)},
    "qu": {6: ("Rikcha",), 14: ("Katiguriya",)},
    "ro": {6: ("Fișier", "Imagine"), 14: ("Categorie",)},
    "ru": {-1: ("Служебная",), 2: ("Участник", "Участница"), 4: ("Википедия", "ВП"),
           6: ("Файл", "Изображение"), 10: ("Шаблон",), 12: ("Справка",),
           14: ("Категория", "К"), 100: ("Портал",)},
    "sa": {6: ("चित्रम्",), 14: ("वर्गः",)},
    "sah": {6: ("Билэ", "Ойуу"), 14: ("Категория",)},
    "sh": {6: ("Datoteka", "Slika"), 14: ("Kategorija",)},
    "sk": {6: ("Súbor", "Obrázok"), 14: ("Kategória",)},
    "sl": {6: ("Slika", "Datoteka"), 14: ("Kategorija",)},
    "sq": {6: ("Skeda", "Figura"), 14: ("Kategoria",)},
    "sr": {6: ("Датотека", "Слика", "Datoteka", "Slika"), 14: ("Категорија", "Kategorija")},
    "sv": {-1: ("Special",), 2: ("Användare",), 4: ("Wikipedia",), 6: ("Fil", "Bild"),
           10: ("Mall",), 12: ("Hjälp",), 14: ("Kategori",), 100: ("Portal",)},
    "ta": {6: ("படிமம்", "கோப்பு"), 14: ("பகுப்பு",)},
    "te": {6: ("దస్త్రం", "ఫైలు"), 14: ("వర్గం",)},
    "th": {-1: ("พิเศษ",), 2: ("ผู้ใช้",), 4: ("วิกิพีเดีย",), 6: ("ไฟล์", "ภาพ"), 10: ("แม่แบบ",),
           12: ("วิธีใช้",), 14: ("หมวดหมู่",), 100: ("สถานีย่อย",)},
    "tl": {6: ("Talaksan", "Larawan"), 14: ("Kategorya",)},
    "tr": {-1: ("Özel",), 2: ("Kullanıcı",), 4: ("Vikipedi",), 6: ("Dosya", "Resim"),
           10: ("Şablon",), 12: ("Yardım",), 14: ("Kategori",), 100: ("Portal",)},
    "tt": {6: ("Файл", "Рәсем"), 14: ("Төркем", "Категория")},
    "uk": {-1: ("Спеціальна",), 2: ("Користувач",), 4: ("Вікіпедія",), 6: ("Файл", "Зображення"),
           10: ("Шаблон",), 12: ("Довідка",), 14: ("Категорія",), 100: ("Портал",)},
    "ur": {6: ("فائل", "تصویر"), 14: ("زمرہ",)},
    "uz": {6: ("Fayl", "Tasvir"), 14: ("Turkum",)},
    "vec": {6: ("File", "Imàjine"), 14: ("Categoria",)},
    "vi": {-1: ("Đặc biệt",), 2: ("Thành viên",), 4: ("Wikipedia",), 6: ("Tập tin", "Hình"),
           10: ("Bản mẫu",), 12: ("Trợ giúp",), 14: ("Thể loại",), 100: ("Chủ đề",)},
    "vo": {6: ("Ragiv", "Magod"), 14: ("Klad",)},
    "war": {6: ("Fayl",), 14: ("Kaarangay",)},
    "yo": {6: ("Fáìlì", "Àwòrán"), 14: ("Ẹ̀ka",)},
    "zh": {6: ("File", "文件", "檔案", "档案", "图像", "圖像", "图片", "圖片"),
           10: ("Template", "模板", "样板", "樣板"), 12: ("Help", "帮助", "幫助"),
           14: ("Category", "分类", "分類"), 100: ("Portal", "主题", "主題")},
}

#: Every Wikipedia language code (the subdomains of wikipedia.org, closed wikis included) and
#: the aliases MediaWiki's interwiki map accepts for them (``nb``, ``zh-yue``...).
WIKIPEDIA_LANGS: frozenset[str] = frozenset("""
aa ab ace ady af ak als alt am ami an ang ann anp ar arc ary arz as ast atj av avk awa ay az azb
ba ban bar bat-smg bbc bcl bdr be be-tarask be-x-old bew bg bh bi bjn blk bm bn bo bpy br bs btm
bug bxr ca cbk-zam cdo ce ceb ch cho chr chy ckb co cr crh cs csb cu cv cy da dag de dga din diq
dk dsb dtp dty dv dz ee el eml en eo es et eu ext fa fat ff fi fiu-vro fj fo fon fr frp frr fur
fy ga gag gan gcr gd gl glk gn gom gor got gpe gsw gu guc gur guw gv ha hak haw he hi hif ho hr
hsb ht hu hy hyw hz ia iba id ie ig igl ii ik ilo inh io is it iu ja jam jbo jv ka kaa kab kbd
kbp kcg kg kge ki kj kk kl km kn knc ko koi kr krc ks ksh ku kus kv kw ky la lad lb lbe lez lfn
lg li lij lld lmo ln lo lrc lt ltg lv lzh mad mai map-bms mdf mg mh mhr mi min mk ml mn mni mnw
mo mos mr mrj ms mt mus mwl my myv mzn na nah nan nap nb nds nds-nl ne new ng nia nl nn no nov
nqo nr nrm nso nup nv ny oc olo om or os pa pag pam pap pcd pcm pdc pfl pi pih pl pms pnb pnt
ps pt pwn qu rm rmy rn ro roa-rup roa-tara rsk ru rue rup rw sa sah sat sc scn sco sd se sg sgs
sh shi shn shy si simple sk skr sl sm smn sn so sq sr srn ss st stq su sv sw syl szl szy ta tay
tcy tdd te tet tg th ti tig tk tl tly tn to tok tpi tr trv ts tt tum tw ty tyv udm ug uk ur uz
ve vec vep vi vls vo vro wa war wo wuu xal xh xmf yi yo yue za zea zgh zh zh-classical
zh-min-nan zh-yue zu
""".split())

#: Interwiki prefixes of the Wikimedia interwiki map that are not language codes.
INTERWIKI_PREFIXES: frozenset[str] = frozenset("""
wikt wiktionary commons c s wikisource oldwikisource q wikiquote b wikibooks n wikinews v
wikiversity voy wikivoyage species wikispecies d wikidata m meta metawiki mw mediawikiwiki w
wikipedia wmf foundation wikimedia incubator outreach outreachwiki phab phabricator toolforge
toollabs tools wikitech translatewiki gerrit bugzilla mediazilla nost nostalgia testwiki test2wiki
labs strategy quality betawikiversity sulutil wg arxiv doi rfc google imdbname imdbtitle
imdbcompany wikia fandom iarchive oeis gutenberg sourceforge wikihow wikiapiary scholar
""".split())

_TITLE_SPACE = re.compile(r"[\s_\u00a0\u1680\u180e\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+")
_BIDI = re.compile(r"[\u200e\u200f\u202a-\u202e]")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_DOTTED_I_LANGS = frozenset({"tr", "az"})
CLASSIFY_CACHE = 200_000      # link targets remembered per wiki (then forgotten, all at once)
#: Extensions of media files: ``[[X:name.jpg|...]]`` with an unknown prefix X is taken as a file.
MEDIA_EXTENSIONS = frozenset(
    "jpg jpeg jpe png gif svg tif tiff webp xcf ogg oga ogv opus webm mp3 wav flac mid midi pdf djvu "
    "stl".split())


def decode_entities(text: str) -> str:
    """Decode HTML character references that end in ``;`` (MediaWiki needs the semicolon)."""
    if "&" not in text:
        return text
    return _ENTITY.sub(lambda m: html.unescape(m.group()), text)


def _clean(raw: str) -> tuple[str, bool]:
    """Steps 1-4 of the module docstring; also says whether a leading ``:`` was removed."""
    text = unicodedata.normalize("NFC", decode_entities(raw))
    if not text.isascii():
        text = _BIDI.sub("", text)
    text = _TITLE_SPACE.sub(" ", text.partition("#")[0]).strip()
    if text.startswith(":"):
        return text[1:].lstrip(), True
    return text, False


def _ucfirst(text: str, lang: str) -> str:
    if not text:
        return text
    first = text[0]
    if first == "i" and lang in _DOTTED_I_LANGS:
        upper = "İ"
    else:
        upper = first.upper()
        if len(upper) != 1:
            upper = first.title() if len(first.title()) == 1 else first
    return upper + text[1:]


def _key(name: str) -> str:
    """Lookup key of a namespace or interwiki prefix: spaces normalised, case folded."""
    return _TITLE_SPACE.sub(" ", unicodedata.normalize("NFC", name)).strip().casefold()


class Namespaces:
    """The namespace, interlanguage and interwiki prefixes of one wiki.

    ``lang`` is the Wikipedia language code. ``siteinfo`` maps namespace keys to their names as
    in the dump's ``<siteinfo>`` (key 0, the main namespace, is ignored); ``aliases`` maps extra
    names to keys. The names accepted for a namespace are the English canonical names, the
    header's names, the built-in localized names of ``lang`` and the aliases. The name written
    back by :meth:`normalize` is the header's name, except where the header says what an enwiki
    header says and a built-in localized name exists (the English-header quirk): then the
    localized name; for namespaces in neither, the enwiki name (``Wikipedia`` for the project).
    ``first_letter_case`` defaults to ``True`` (``<case>first-letter</case>``).
    """

    def __init__(self, lang: str = "en", siteinfo: Mapping[int, str] | None = None,
                 aliases: Mapping[str, int] | None = None, *, first_letter_case: bool = True) -> None:
        self.lang = lang
        self.first_letter_case = first_letter_case
        local = LOCALIZED_NAMESPACES.get(lang, {})
        header = {int(k): v for k, v in (siteinfo or {}).items() if int(k) != 0 and v}
        self.names: dict[int, str] = dict(_ENWIKI_HEADER)
        for ns, names in local.items():
            self.names[ns] = names[0]
        for ns, name in header.items():
            if ns not in local or name != _ENWIKI_HEADER.get(ns):
                self.names[ns] = name
        self._ids: dict[str, int] = {}
        sources: list[Iterable[tuple[str, int]]] = [
            ((n, ns) for ns, n in ENGLISH_NAMESPACES.items()), ENGLISH_ALIASES.items(),
            ((n, ns) for ns, names in local.items() for n in names),
            ((n, ns) for ns, n in header.items()), (aliases or {}).items(),
            ((n, ns) for ns, n in self.names.items()),
        ]
        for source in sources:
            for name, ns in source:
                self._ids[_key(name)] = int(ns)
        self._classified: dict[str, tuple[str, str | None]] = {}

    def __repr__(self) -> str:
        return f"Namespaces(lang={self.lang!r}, {len(self._ids)} names)"

    def normalize(self, raw: str, *, first_letter_case: bool | None = None) -> str:
        """:func:`normalize_title` with this wiki's namespace names and language."""
        upper = self.first_letter_case if first_letter_case is None else first_letter_case
        text, _ = _clean(raw)
        prefix, sep, rest = text.partition(":")
        ns = self._ids.get(_key(prefix)) if sep else None
        if ns is not None and ns != 0:
            rest = rest.strip()
            rest = _ucfirst(rest, self.lang) if upper else rest
            return f"{self.names[ns]}:{rest}"
        return _ucfirst(text, self.lang) if upper else text

    def classify(self, target: str) -> tuple[str, str | None]:
        """What a link target names (see :meth:`_classify`); remembered, as a page links to the
        same targets again and again, and so do the pages of a wiki."""
        known = self._classified.get(target)
        if known is None:
            if len(self._classified) >= CLASSIFY_CACHE:
                self._classified.clear()
            known = self._classified[target] = self._classify(target)
        return known

    def _classify(self, target: str) -> tuple[str, str | None]:
        """What a link target names.

        Returns one of ``("main", title)`` (an article; ``title`` normalised, ``""`` for a link
        to a section of the same page), ``("file", None)``, ``("category", None)``,
        ``("interlanguage", lang)``, ``("interwiki", prefix)`` or ``("namespace", name)``.
        A leading colon makes a File or Category target a plain link to the description or
        category page: ``("namespace", "File")``. ``Media:`` links (inline links to a file that
        show their text) are ``("namespace", "Media")``. An unknown prefix before a name with a
        media extension (``[[Datei:x.jpg]]`` on a wiki whose table lacks ``Datei``) is taken as
        a file, as wikitextparser and wikiextractor do. A prefix equal to the wiki's own
        language (``[[en:Foo]]`` on enwiki) is dropped, as MediaWiki does for local interwikis.
        """
        text, colon = _clean(target)
        prefix, sep, rest = text.partition(":")
        if sep:
            key = _key(prefix)
            ns = self._ids.get(key)
            if ns is not None and ns != 0:
                if ns == _FILE and not colon:
                    return ("file", None)
                if ns == _CATEGORY and not colon:
                    return ("category", None)
                return ("namespace", self.names[ns])
            if key in WIKIPEDIA_LANGS:
                if key == self.lang.casefold():
                    return self.classify(":" + rest)
                return ("interlanguage", key)
            if key in INTERWIKI_PREFIXES:
                return ("interwiki", key)
            if not colon and rest.rpartition(".")[2].lower() in MEDIA_EXTENSIONS:
                return ("file", None)
        return ("main", _ucfirst(text, self.lang) if self.first_letter_case else text)


@functools.cache
def _english() -> Namespaces:
    return Namespaces("en")


def normalize_title(raw: str, *, first_letter_case: bool = True,
                    namespaces: Namespaces | None = None) -> str:
    """Normalise a page title or link target by MediaWiki's rules (see the module docstring).

    Namespace prefixes are those of ``namespaces``, by default the English canonical names and
    aliases only, so ``"star wars: episode"`` stays in the main namespace.
    """
    return (namespaces or _english()).normalize(raw, first_letter_case=first_letter_case)
