"""Word alignment: words, exact small cases, the HMM against brute force, symmetrisation, AER, Multi30K."""

from __future__ import annotations

import gzip
import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ROOT, SHARED_DATA, require
from corpus_builder import align as A
from corpus_builder.align import (
    aer,
    align_corpus,
    diagonal_alignment,
    read_hand_aligned,
    symmetrize,
    train_directional,
)
from xlkit_core.words import tokenize_words

HAND = ROOT / "corpus_builder" / "data" / "handaligned-en-de.tsv"
MULTI30K = SHARED_DATA / "multi30k" / "task1-raw"

# --------------------------------------------------------------------------------------------
# words


@pytest.mark.parametrize("text, words", [
    ("Two young, White males are outside.", ["Two", "young,", "White", "males", "are", "outside."]),
    ("  a\tb\n c  ", ["a", "b", "c"]),
    ("", []),
    ("我爱北京", ["我", "爱", "北", "京"]),
    ("我爱GPU的速度。", ["我", "爱", "GPU", "的", "速", "度", "。"]),
    ("東京へ行きます", ["東", "京", "へ", "行", "き", "ま", "す"]),
    ("カタカナ　テスト", ["カ", "タ", "カ", "ナ", "テ", "ス", "ト"]),      # ideographic space
    ("ＡＢＣ abc", ["Ａ", "Ｂ", "Ｃ", "abc"]),                             # full-width forms
    ("สวัสดีครับ ผมชื่อสมชาย", ["สวัสดีครับ", "ผมชื่อสมชาย"]),              # Thai: spaces only
    ("한국어 문장입니다.", ["한국어", "문장입니다."]),                       # Hangul: not split
    ("Berlin（柏林）ist", ["Berlin", "（", "柏", "林", "）", "ist"]),
])
def test_tokenize_words(text, words):
    assert tokenize_words(text) == words


@given(st.text(alphabet=st.sampled_from("ab c\t\n我爱。x.,"), max_size=30))
@settings(max_examples=200, deadline=None)
def test_tokenize_words_keeps_every_non_space_character(text):
    words = tokenize_words(text)
    assert "".join(words) == "".join(text.split())
    assert all(w and not any(ch.isspace() for ch in w) for w in words)


def test_model_key_lowercases_and_strips_punctuation():
    assert A._model_key("Bushes.") == "bushes"
    assert A._model_key("„Haus“,") == "haus"
    assert A._model_key("o'clock") == "o'clock"
    assert A._model_key("...") == "..."
    assert A._model_key("Straße") == "straße"


# --------------------------------------------------------------------------------------------
# exact small cases

TOY_DE = ["das Haus", "das Buch", "ein Buch", "ein Haus", "das Haus", "das Buch", "ein Buch",
          "das Auto", "ein Auto"]
TOY_EN = ["the house", "the book", "a book", "a house", "the house", "the book", "a book",
          "the car", "a car"]


@pytest.mark.parametrize("engine", ["hmm", "ibm1"])
def test_forced_by_cooccurrence(engine):
    out = align_corpus(TOY_DE, TOY_EN, engine=engine)
    assert out == [[(0, 0), (1, 1)]] * len(TOY_DE)


def test_forced_by_cooccurrence_with_reordering_and_case():
    de = ["Das Haus ist klein .", "klein ist das Buch", "das Buch ist groß", "groß ist das Haus",
          "das Auto ist klein", "ein Buch", "ein Haus", "ein Auto ist groß"] * 2
    en = ["the house is small .", "the book is small", "the book is big", "the house is big",
          "the car is small", "a book", "a house", "a car is big"] * 2
    out = align_corpus(de, en, engine="hmm")
    assert out[0] == [(0, 0), (1, 1), (2, 2), (3, 3), (4, 4)]
    # "klein ist das Buch" ~ "the book is small": klein-small, das-the, Buch-book crossed; the
    # toy corpus is too small to keep "ist"-"is" from NULL, but nothing is linked wrongly
    assert {(0, 3), (2, 0), (3, 1)} <= set(out[1]) <= {(0, 3), (1, 2), (2, 0), (3, 1)}
    assert out[3] == out[1]


def test_output_shape_indices_and_empty_pairs():
    src = ["das Haus", "", "ein Buch ist da", "x", "ein Haus"]
    tgt = ["the house", "the", "", "y z", "a house ."]
    out = align_corpus(src, tgt, engine="hmm")
    assert len(out) == len(src)
    assert out[1] == [] and out[2] == []
    for s, t, links in zip(src, tgt, out, strict=True):
        ns, nt = len(tokenize_words(s)), len(tokenize_words(t))
        assert links == sorted(set(links))
        assert all(0 <= i < ns and 0 <= j < nt for i, j in links)
    assert align_corpus([], [], engine="hmm") == []


@pytest.mark.parametrize("engine", ["hmm", "ibm1"])
@pytest.mark.filterwarnings("error")
def test_degenerate_corpora(engine):
    assert align_corpus([""], [""], engine=engine) == [[]]
    assert align_corpus([""], ["a"], engine=engine) == [[]]
    assert align_corpus(["x"], ["a"], engine=engine) == [[(0, 0)]]
    out = align_corpus(["x"] * 3, ["a b c d"] * 3, engine=engine)
    assert out[0] == out[2] and out[0] and set(out[0]) <= {(0, 0), (0, 1), (0, 2), (0, 3)}


def test_indices_are_over_cjk_characters():
    zh = ["房子", "书", "房子 书", "书 房子"] * 3
    en = ["house", "book", "house book", "book house"] * 3
    out = align_corpus(en, zh, engine="hmm")
    assert out[0] == [(0, 0), (0, 1)]
    assert out[1] == [(0, 0)]
    assert {(0, 0), (1, 2)} <= set(out[2]) <= {(0, 0), (0, 1), (1, 2)}
    assert out[3] == [(0, 0), (1, 1), (1, 2)]


def test_deterministic_and_seed_free():
    de, en = TOY_DE * 3 + ["das Auto ist rot", "rot ist das Haus"], TOY_EN * 3 + ["the car is red", "the house is red"]
    a = align_corpus(de, en, engine="hmm", seed=0)
    b = align_corpus(de, en, engine="hmm", seed=0)
    c = align_corpus(de, en, engine="hmm", seed=123)
    assert a == b == c


def test_directional_links_are_functions():
    f, r = train_directional(TOY_DE + ["das Haus das Buch"], TOY_EN + ["the house"])
    for links in f:       # every target word at most once
        assert len({j for _, j in links}) == len(links)
    for links in r:       # every source word at most once
        assert len({i for i, _ in links}) == len(links)


def test_bad_arguments():
    with pytest.raises(ValueError):
        align_corpus(["a"], ["b", "c"], engine="hmm")
    with pytest.raises(ValueError):
        align_corpus(["a"], ["b"], engine="giza")
    with pytest.raises(ValueError):
        align_corpus(["a"], ["b"], engine="hmm", iterations=0)


def test_eflomal_engine_when_importable():
    if not A.eflomal_available():
        with pytest.raises(ImportError):
            align_corpus(TOY_DE, TOY_EN, engine="eflomal")
        return
    out = align_corpus(TOY_DE * 5 + ["", "das"], TOY_EN * 5 + ["x", ""], engine="eflomal")
    assert out[-2:] == [[], []]
    assert sum(links == [(0, 0), (1, 1)] for links in out[:-2]) >= 0.9 * len(TOY_DE) * 5


# --------------------------------------------------------------------------------------------
# the HMM against brute-force enumeration of all state sequences


def _brute_force(m, g, k):
    """Posteriors over (position, is_null) and expected jump / first-position counts for sentence k."""
    ni, nj, p0 = g.ni, g.nj, A.NULL_PROB
    trans, first = m._transitions(ni)
    E = m.t[g.pidx[k]]
    post = np.zeros((nj, ni, 2))
    jumps = np.zeros(2 * A.MAX_JUMP + 1)
    firsts = np.zeros(A.MAX_JUMP + 1)
    total = 0.0
    for seq in itertools.product(range(2 * ni), repeat=nj):
        p, prev, js = 1.0, None, []
        for j, s in enumerate(seq):
            pos, null = s % ni, s >= ni
            if j == 0:
                p *= p0 / ni if null else (1 - p0) * first[pos]
            elif null:
                p *= p0 if pos == prev else 0.0
            else:
                p *= (1 - p0) * trans[prev, pos]
                js.append(pos - prev)
            p *= m.t0[g.T[k, j]] if null else E[j, pos]
            prev = pos
        total += p
        for j, s in enumerate(seq):
            post[j, s % ni, int(s >= ni)] += p
        for d in js:
            jumps[d + A.MAX_JUMP] += p
        if seq[0] < ni:
            firsts[seq[0]] += p
    return post / total, jumps / total, firsts / total, np.log(total)


def test_forward_backward_matches_brute_force():
    src = [np.array([0, 1, 2]), np.array([1, 0]), np.array([2])]
    tgt = [np.array([0, 1, 2]), np.array([2, 0, 1]), np.array([1, 1])]
    m = A._Directional(src, tgt, 3, 3)
    rng = np.random.default_rng(7)
    m.t = rng.random(m.n_pairs) + 0.05
    m.t0 = rng.random(3) + 0.05
    m.jump = rng.random(2 * A.MAX_JUMP + 1) + 0.1
    m.first = rng.random(A.MAX_JUMP + 1) + 0.1
    jumps = np.zeros(2 * A.MAX_JUMP + 1)
    firsts = np.zeros(A.MAX_JUMP + 1)
    for g in m.groups:
        gr, gn, ll, _ = m._forward_backward(g)
        expected_ll = 0.0
        for k in range(len(g.sents)):
            post, jk, fk, lk = _brute_force(m, g, k)
            np.testing.assert_allclose(gr[k], post[:, :, 0], atol=1e-12)
            np.testing.assert_allclose(gn[k], post[:, :, 1], atol=1e-12)
            jumps += jk
            firsts += fk
            expected_ll += lk
        assert ll == pytest.approx(expected_ll, abs=1e-10)
    m.hmm_step()       # the M-step's jump tables are the expected counts plus JUMP_ALPHA
    np.testing.assert_allclose(m.jump - A.JUMP_ALPHA, jumps, atol=1e-12)
    np.testing.assert_allclose(m.first - A.JUMP_ALPHA, firsts, atol=1e-12)


def test_em_likelihood_increases():
    de = TOY_DE * 2 + ["das Haus ist rot", "rot ist das Auto", "ein Buch ist rot"]
    en = TOY_EN * 2 + ["the house is red", "the car is red", "a book is red"]
    s, t, vs, vt = A._encode_pairs(de, en)
    A.LEX_ALPHA, saved = 0.0, A.LEX_ALPHA      # plain maximum likelihood: EM is monotone
    try:
        m = A._Directional(s, t, len(vs), len(vt))
        lls = [m.ibm1_step() for _ in range(5)]
        hlls = [m.hmm_step() for _ in range(5)]
    finally:
        A.LEX_ALPHA = saved
    assert all(b >= a - 1e-9 for a, b in itertools.pairwise(lls))
    assert all(b >= a - 1e-9 for a, b in itertools.pairwise(hlls))


# --------------------------------------------------------------------------------------------
# symmetrisation and AER


def test_symmetrize_grow_diag_final_and():
    fwd = [(0, 0), (1, 1), (2, 1), (3, 3)]
    rev = [(0, 0), (1, 1), (2, 2), (4, 3)]
    assert symmetrize(fwd, rev, "intersection") == [(0, 0), (1, 1)]
    assert symmetrize(fwd, rev, "union") == [(0, 0), (1, 1), (2, 1), (2, 2), (3, 3), (4, 3)]
    # grow-diag: (2,1) and (2,2) neighbour (1,1) with source word 2 unaligned -> (2,1) first
    # (sorted neighbour order), then (2,2) still has target word 2 unaligned; (3,3) neighbours
    # (2,2) with both 3s unaligned; (4,3) neighbours (3,3) with source 4 unaligned.
    assert symmetrize(fwd, rev, "grow-diag") == [(0, 0), (1, 1), (2, 1), (2, 2), (3, 3), (4, 3)]
    # final-and adds a directional link only when both of its words are unaligned
    assert symmetrize([(0, 0), (5, 5)], [(0, 0), (3, 4)]) == [(0, 0), (3, 4), (5, 5)]
    assert symmetrize([(0, 0), (5, 5)], [(0, 0), (5, 4)]) == [(0, 0), (5, 5)]
    assert symmetrize([(0, 0), (5, 5)], [(0, 0), (5, 4)], "grow-diag") == [(0, 0)]
    with pytest.raises(ValueError):
        symmetrize([], [], "grow")


links = st.sets(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=12)


@given(links, links)
@settings(max_examples=200, deadline=None)
def test_symmetrize_between_intersection_and_union(f, r):
    for method in ("grow-diag", "grow-diag-final-and"):
        out = set(symmetrize(f, r, method))
        assert f & r <= out <= f | r
    assert set(symmetrize(f, r, "grow-diag")) <= set(symmetrize(f, r))


def test_aer():
    s = [{(0, 0), (1, 1)}]
    p = [{(0, 0), (1, 1), (1, 2)}]
    assert aer([[(0, 0), (1, 1)]], s, p) == 0.0
    assert aer([[(0, 0), (1, 1), (1, 2)]], s, p) == 0.0           # possible links cost nothing
    assert aer([[(0, 0)]], s, p) == pytest.approx(1 - 2 / 3)
    assert aer([[(0, 1)]], s, p) == 1.0
    assert aer([[(0, 0), (0, 1)]], s, p) == pytest.approx(1 - 2 / 4)
    assert aer([[]], [set()], [set()]) == 0.0


def test_diagonal_alignment():
    assert diagonal_alignment(3, 3) == [(0, 0), (1, 1), (2, 2)]
    assert diagonal_alignment(2, 4) == [(0, 0), (0, 1), (1, 2), (1, 3)]
    assert diagonal_alignment(0, 4) == []


def test_hand_aligned_file():
    rows = read_hand_aligned(HAND)
    assert len(rows) == 20
    assert HAND.read_text(encoding="utf-8").startswith("#")
    for en, de, sure, possible in rows:
        assert sure and sure <= possible
        ne, nd = len(tokenize_words(en)), len(tokenize_words(de))
        assert all(0 <= i < ne and 0 <= j < nd for i, j in possible)
        assert tokenize_words(en) == en.split() and tokenize_words(de) == de.split()
        assert not any(ch in w for w in de.split() + en.split() for ch in ".!?" if len(w) > 1)


def test_read_hand_aligned_rejects_bad_links(tmp_path: Path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("# x\nthe house\tdas Haus\t0-0 1-2\t\n", encoding="utf-8")
    with pytest.raises(ValueError, match="out of range"):
        read_hand_aligned(bad)


# --------------------------------------------------------------------------------------------
# real data: Multi30K de-en, first 3,000 pairs + the hand-aligned pairs, AER on the latter

AER_MAX_HMM = 0.25       # measured 0.149 (numpy HMM, grow-diag-final-and)
AER_MAX_IBM1 = 0.33      # measured 0.237
AER_MAX_EFLOMAL = 0.20   # measured 0.075-0.078 (eflomal is not deterministic)


@pytest.fixture(scope="module")
def multi30k_subset():
    base = require(MULTI30K)
    with gzip.open(require(base / "train.en.gz"), "rt", encoding="utf-8") as fh:
        en = [next(fh).rstrip("\n") for _ in range(3000)]
    with gzip.open(require(base / "train.de.gz"), "rt", encoding="utf-8") as fh:
        de = [next(fh).rstrip("\n") for _ in range(3000)]
    rows = read_hand_aligned(HAND)
    return (en + [r[0] for r in rows], de + [r[1] for r in rows],
            [r[2] for r in rows], [r[3] for r in rows])


def test_multi30k_aer(multi30k_subset):
    en, de, sure, possible = multi30k_subset
    n = len(sure)
    diag = aer([diagonal_alignment(len(e.split()), len(d.split())) for e, d in zip(en[-n:], de[-n:], strict=True)],
               sure, possible)
    hmm = aer(align_corpus(en, de, engine="hmm")[-n:], sure, possible)
    ibm1 = aer(align_corpus(en, de, engine="ibm1")[-n:], sure, possible)
    assert hmm < AER_MAX_HMM, hmm
    assert ibm1 < AER_MAX_IBM1, ibm1
    assert diag > 0.4 and diag > hmm + 0.15 and diag > ibm1, (diag, hmm, ibm1)
    assert hmm < ibm1


def test_multi30k_aer_eflomal(multi30k_subset):
    if not A.eflomal_available():
        pytest.skip("eflomal is not installed (optional engine)")
    en, de, sure, possible = multi30k_subset
    n = len(sure)
    assert aer(align_corpus(en, de, engine="eflomal")[-n:], sure, possible) < AER_MAX_EFLOMAL
