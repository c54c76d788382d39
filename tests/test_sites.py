import pytest

from xlkit_core.langs import parse_langs, site_to_lang


@pytest.mark.parametrize("site, expected", [
    ("dewiki", ("de", None)),
    ("zh_yuewiki", ("zh-yue", None)),
    ("be_x_oldwiki", ("be-x-old", None)),
    ("zh_classicalwiki", ("zh-classical", None)),
    ("simplewiki", ("simple", None)),
    ("alswiki", ("als", None)),
    ("commonswiki", (None, "special_site")),
    ("specieswiki", (None, "special_site")),
    ("metawiki", (None, "special_site")),
    ("wikidatawiki", (None, "special_site")),
    ("enwikiquote", (None, "sister_project")),
    ("frwikisource", (None, "sister_project")),
    ("dewikivoyage", (None, "sister_project")),
    ("enwiktionary", (None, "sister_project")),
    ("enwikibooks", (None, "sister_project")),
    ("wiki", (None, "unknown_site")),
    ("EN_wiki", (None, "unknown_site")),
])
def test_site_to_lang(site, expected):
    assert site_to_lang(site) == expected


def test_parse_langs():
    assert parse_langs(None) is None
    assert parse_langs("") is None
    assert parse_langs("en, de,zh-yue,en") == ("en", "de", "zh-yue")
    for bad in ("EN", "en;de", "english", "de_CH", ","):
        with pytest.raises(ValueError, match="LANGS"):
            parse_langs(bad)
