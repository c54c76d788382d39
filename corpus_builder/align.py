"""Unsupervised word alignment of parallel sentences, on the CPU (for the distillation objective).

:func:`align_corpus` trains an aligner on the sentence pairs it is given and returns, for each
pair, the sorted ``(i, j)`` links between word ``i`` of the source and word ``j`` of the target,
0-based over :func:`tokenize_words`. Engines:

``"hmm"`` (our own, numpy only)
    IBM Model 1 (``iterations`` EM iterations, uniform start), then an HMM alignment model
    (Vogel, Ney & Tillmann 1996) initialised with Model 1's translation table, ``iterations``
    EM iterations with scaled forward-backward. Transitions depend on the jump width
    ``d = i - i'`` only (one table shared by all sentence lengths, jumps beyond
    +-``MAX_JUMP`` share the end buckets, renormalised over the ``I`` positions of each
    sentence); the first word's position has its own table. NULL follows Och & Ney (2003): each
    position ``i`` has a NULL twin state that emits with ``t(f | NULL)`` and remembers ``i`` for
    the next jump; entering NULL has the fixed probability ``NULL_PROB``. Add-``LEX_ALPHA``
    smoothing of the translation table, ``(c(e, f) + a) / (c(e) + a |V_f|)`` (Moore 2004), in
    both models keeps rare words from acting as garbage collectors (on Multi30K, AER 0.19 with
    ``a = 1e-4``, 0.10 with 0.02). ``NULL_PROB`` (0.1-0.4 tried) and ``LEX_ALPHA`` (0-0.3)
    were chosen by agreement with eflomal's alignments of the first 3,000 Multi30K train pairs
    (a stand-in gold standard), not on the hand-aligned test pairs. Each target word is then
    aligned to its most probable state under the posterior (NULL = unaligned; posterior
    decoding, not Viterbi). Both directions are trained (source ->
    target and target -> source) and symmetrised with grow-diag-final-and (Koehn et al. 2005):
    start from the intersection, repeatedly add union links that neighbour (8 directions) an
    existing link and whose source or target word is still unaligned, then add the directional
    links whose source and target words are both unaligned (forward first, then reverse).
    There is no randomness: the result depends only on the input (``seed`` is accepted for the
    common API and ignored).
``"ibm1"``
    The same, Model 1 only (a baseline).
``"eflomal"``
    The ``eflomal`` package (Östling & Tiedemann 2017; a C program run as a subprocess, Bayesian
    IBM1/HMM/fertility with Gibbs sampling), fed the same normalised words, its two directions
    symmetrised by our grow-diag-final-and. It uses its own iteration schedule (``iterations``
    is ignored) and seeds its sampler from ``/dev/urandom``, so its output is NOT reproducible
    run to run whatever ``seed`` says.
``"auto"``
    ``"hmm"``: the deterministic engine, so that a rebuilt parallel table has the same bytes.
    eflomal is more accurate (see bench/RESULTS.md) but only on request.

Words are :func:`xlkit_core.words.tokenize_words`, the project's one definition of a word (a
whitespace split, every CJK character a word of its own, punctuation kept). For the model's
statistics only, a word is lower-cased and stripped of leading and trailing punctuation (``"Bushes."`` and ``"bushes"`` are one vocabulary entry; a
word that is only punctuation keeps its characters).

Cost: vocabularies are integer ids; the translation table is a flat float array over the
(source word, target word) pairs that co-occur in some sentence pair (found with one
``np.unique`` of int64 keys), so memory is linear in ``sum(I * J)`` over the corpus. Sentence
pairs are grouped by their exact lengths ``(I, J)`` so that one EM step is a handful of numpy
operations per group and per target position. Multi30K train (29,000 pairs, about 12 words a
side, 4.2 M links), 5 + 5 iterations in both directions, takes about 10-15 s on one core and
peaks at about 360 MiB (building the pair table; about 90 bytes per link), see
``bench/bench_align.py``. For much larger corpora, call :func:`align_corpus` on chunks of
100,000 or so pairs: the statistics are then per chunk, and the memory stays bounded.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from xlkit_core.words import tokenize_words

__all__ = [
    "ENGINES",
    "align_corpus",
    "aer",
    "diagonal_alignment",
    "eflomal_available",
    "read_hand_aligned",
    "symmetrize",
    "train_directional",
]

ENGINES = ("auto", "eflomal", "hmm", "ibm1")
MAX_JUMP = 10        # jump widths |d| > MAX_JUMP share the end buckets of the jump table
NULL_PROB = 0.3      # HMM: probability of moving to the NULL state
LEX_ALPHA = 0.02     # add-alpha smoothing of t(f | e): (c(e, f) + a) / (c(e) + a * |V_target|)
JUMP_ALPHA = 1.0     # add-alpha smoothing of the jump counts
T_FLOOR = 1e-12      # translation probabilities never drop below this (no all-zero rows)

Alignment = list[tuple[int, int]]

# ---------------------------------------------------------------------------------------------
# words

def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch)[0] == "P"


def _model_key(word: str) -> str:
    """The vocabulary entry of a word: lower-cased, leading/trailing punctuation stripped."""
    low = word.lower()
    a, b = 0, len(low)
    while a < b and _is_punct(low[a]):
        a += 1
    while b > a and _is_punct(low[b - 1]):
        b -= 1
    return low[a:b] if b > a else low


class _Vocab:
    def __init__(self) -> None:
        self.ids: dict[str, int] = {}       # model key -> id
        self._raw: dict[str, int] = {}      # raw word -> id (memo)

    def __len__(self) -> int:
        return len(self.ids)

    def encode(self, words: list[str]) -> np.ndarray:
        raw = self._raw
        out = np.empty(len(words), dtype=np.int64)
        for k, w in enumerate(words):
            i = raw.get(w)
            if i is None:
                key = _model_key(w)
                i = self.ids.setdefault(key, len(self.ids))
                raw[w] = i
            out[k] = i
        return out


# ---------------------------------------------------------------------------------------------
# directional models


@dataclass
class _Group:
    """All sentence pairs with exactly ``ni`` (I) source and ``nj`` (J) target words."""

    ni: int
    nj: int
    sents: np.ndarray      # (n,) sentence numbers
    T: np.ndarray          # (n, J) target word ids
    pidx: np.ndarray       # (n, J, I) index of (source word, target word) in the pair table
    sl: slice              # this group's range in the flat (n*J*I) link arrays
    sl0: slice             # this group's range in the flat (n*J) target-token arrays


class _Directional:
    """P(target | source): each target word is generated by one source word or by NULL."""

    def __init__(self, src: Sequence[np.ndarray], tgt: Sequence[np.ndarray], n_src: int, n_tgt: int):
        self.n_sents = len(src)
        self.n_src, self.n_tgt = n_src, n_tgt
        I_all = np.fromiter((len(s) for s in src), dtype=np.int64, count=len(src))
        J_all = np.fromiter((len(t) for t in tgt), dtype=np.int64, count=len(tgt))
        src_flat = np.concatenate([np.zeros(0, np.int64), *src])
        tgt_flat = np.concatenate([np.zeros(0, np.int64), *tgt])
        src_off = np.concatenate([[0], np.cumsum(I_all)[:-1]]) if len(src) else I_all
        tgt_off = np.concatenate([[0], np.cumsum(J_all)[:-1]]) if len(tgt) else J_all
        keep = np.flatnonzero((I_all > 0) & (J_all > 0))
        order = keep[np.lexsort((J_all[keep], I_all[keep]))]
        Is, Js = I_all[order], J_all[order]
        bounds = np.flatnonzero(np.diff(Is) | np.diff(Js)) + 1
        starts = np.concatenate([[0], bounds]).astype(np.int64)
        ends = np.concatenate([bounds, [len(order)]]).astype(np.int64)

        raw: list[tuple[int, int, np.ndarray, np.ndarray, np.ndarray]] = []
        keys = []
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
            if a >= b:
                continue
            sents = order[a:b]
            ni, nj = int(Is[a]), int(Js[a])
            S = src_flat[src_off[sents][:, None] + np.arange(ni)]
            T = tgt_flat[tgt_off[sents][:, None] + np.arange(nj)]
            keys.append((S[:, None, :] * n_tgt + T[:, :, None]).ravel())
            raw.append((ni, nj, sents, S, T))
        all_keys = np.concatenate(keys) if keys else np.zeros(0, np.int64)
        del keys
        uniq, inv = np.unique(all_keys, return_inverse=True)
        del all_keys
        inv = inv.reshape(-1).astype(np.int32 if len(uniq) < 2**31 else np.int64)
        self.pair_src = uniq // max(n_tgt, 1)
        self.n_pairs = len(uniq)
        self.pidx_all = inv
        self.groups: list[_Group] = []
        pos = pos0 = 0
        T_parts = []
        for ni, nj, sents, _S, T in raw:
            n = len(sents)
            sl = slice(pos, pos + n * nj * ni)
            sl0 = slice(pos0, pos0 + n * nj)
            self.groups.append(_Group(ni, nj, sents, T, inv[sl].reshape(n, nj, ni), sl, sl0))
            T_parts.append(T.ravel())
            pos, pos0 = sl.stop, sl0.stop
        self.n_links, self.n_tokens = pos, pos0
        self.T_all = np.concatenate(T_parts) if T_parts else np.zeros(0, np.int64)
        # parameters
        self.t = np.full(self.n_pairs, 1.0 / max(n_tgt, 1))
        self.t0 = np.full(max(n_tgt, 1), 1.0 / max(n_tgt, 1))
        self.jump = np.ones(2 * MAX_JUMP + 1)      # counts for d = -MAX_JUMP .. MAX_JUMP
        self.first = np.ones(MAX_JUMP + 1)         # counts for the first position 0 .. MAX_JUMP
        self._trans_cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    # -- M-step shared by both models
    def _update_lexicon(self, post: np.ndarray, post0: np.ndarray) -> None:
        c = np.bincount(self.pidx_all, weights=post, minlength=self.n_pairs)
        alpha = LEX_ALPHA
        tot = np.bincount(self.pair_src, weights=c, minlength=self.n_src)
        c0 = np.bincount(self.T_all, weights=post0, minlength=self.n_tgt)
        self.t = np.maximum((c + alpha) / (tot[self.pair_src] + alpha * self.n_tgt), T_FLOOR)
        self.t0 = np.maximum((c0 + alpha) / (c0.sum() + alpha * self.n_tgt), T_FLOOR)

    # -- IBM Model 1
    def ibm1_step(self) -> float:
        post = np.empty(self.n_links)
        post0 = np.empty(self.n_tokens)
        t, t0 = self.t, self.t0
        ll = 0.0
        for g in self.groups:
            P = t[g.pidx]
            P0 = t0[g.T]
            den = P.sum(axis=2) + P0
            post[g.sl] = (P / den[:, :, None]).ravel()
            post0[g.sl0] = (P0 / den).ravel()
            ll += float(np.log(den).sum()) - g.T.size * np.log(g.ni + 1)
        self._update_lexicon(post, post0)
        return ll

    def ibm1_decode(self) -> list[Alignment]:
        out: list[Alignment] = [[] for _ in range(self.n_sents)]
        for g in self.groups:
            P = self.t[g.pidx]
            best = P.argmax(axis=2)
            ok = np.take_along_axis(P, best[:, :, None], axis=2)[:, :, 0] >= self.t0[g.T]   # tie: the word
            _collect(out, g.sents, best, ok)
        return out

    # -- HMM
    def _transitions(self, ni: int) -> tuple[np.ndarray, np.ndarray]:
        """(I, I) jump matrix p(i | i', I) over real positions, and (I,) first-position probs."""
        hit = self._trans_cache.get(ni)
        if hit is not None:
            return hit
        r = np.arange(ni)
        d = np.clip(r[None, :] - r[:, None], -MAX_JUMP, MAX_JUMP) + MAX_JUMP
        A = self.jump[d]
        A /= A.sum(axis=1, keepdims=True)
        f = self.first[np.minimum(r, MAX_JUMP)]
        f = f / f.sum()
        self._trans_cache[ni] = (A, f)
        return A, f

    def _forward_backward(self, g: _Group, counts: bool = False) -> tuple[np.ndarray, np.ndarray, float, np.ndarray | None]:
        """Scaled forward-backward over one group.

        Returns the posteriors ``(n, J, I)`` of the real states and of the NULL states, the
        log-likelihood of the group and, with ``counts``, the ``(I, I)`` expected numbers of
        transitions ``i' -> i`` into real states (summed over sentences and positions).
        """
        ni, nj = g.ni, g.nj
        n = len(g.sents)
        p0 = NULL_PROB
        A, f = self._transitions(ni)
        E = self.t[g.pidx]                       # (n, J, I)
        E0 = self.t0[g.T]                        # (n, J)
        ar = np.empty((n, nj, ni))
        an = np.empty((n, nj, ni))
        sc = np.empty((n, nj))
        Aq = (1.0 - p0) * A
        x = (1.0 - p0) * f[None, :] * E[:, 0]
        y = np.broadcast_to((p0 / ni) * E0[:, 0, None], (n, ni))
        c = x.sum(axis=1) + y.sum(axis=1)
        ar[:, 0] = x / c[:, None]
        an[:, 0] = y / c[:, None]
        sc[:, 0] = c
        for j in range(1, nj):
            s = ar[:, j - 1] + an[:, j - 1]
            x = (s @ Aq) * E[:, j]
            y = (p0 * E0[:, j, None]) * s
            c = x.sum(axis=1) + y.sum(axis=1)
            ar[:, j] = x / c[:, None]
            an[:, j] = y / c[:, None]
            sc[:, j] = c
        b = np.empty((n, nj, ni))
        b[:, nj - 1] = 1.0
        AqT = Aq.T
        for j in range(nj - 1, 0, -1):
            w = E[:, j] * b[:, j]
            b[:, j - 1] = (w @ AqT + (p0 * E0[:, j, None]) * b[:, j]) / sc[:, j, None]
        gr = ar * b
        gn = an * b
        z = gr.sum(axis=2) + gn.sum(axis=2)
        gr /= z[:, :, None]
        gn /= z[:, :, None]
        ll = float(np.log(sc).sum())
        M = None
        if counts and nj > 1:
            # xi_j(i', i) = (ar + an)[j-1, i'] * Aq[i', i] * E[j, i] * b[j, i] / sc[j]
            s = (ar[:, :-1] + an[:, :-1]).reshape(-1, ni)
            w = ((E[:, 1:] * b[:, 1:]) / sc[:, 1:, None]).reshape(-1, ni)
            M = (s.T @ w) * Aq
        return gr, gn, ll, M

    def hmm_step(self) -> float:
        post = np.empty(self.n_links)
        post0 = np.empty(self.n_tokens)
        jump = np.zeros(2 * MAX_JUMP + 1)
        first = np.zeros(MAX_JUMP + 1)
        ll = 0.0
        for g in self.groups:
            gr, gn, gll, M = self._forward_backward(g, counts=True)
            ll += gll
            post[g.sl] = gr.ravel()
            post0[g.sl0] = gn.sum(axis=2).ravel()
            r = np.arange(g.ni)
            first += np.bincount(np.minimum(r, MAX_JUMP), weights=gr[:, 0].sum(axis=0), minlength=MAX_JUMP + 1)
            if M is not None:
                d = np.clip(r[None, :] - r[:, None], -MAX_JUMP, MAX_JUMP) + MAX_JUMP
                jump += np.bincount(d.ravel(), weights=M.ravel(), minlength=2 * MAX_JUMP + 1)
        self._update_lexicon(post, post0)
        self.jump = jump + JUMP_ALPHA
        self.first = first + JUMP_ALPHA
        self._trans_cache.clear()
        return ll

    def hmm_decode(self) -> list[Alignment]:
        out: list[Alignment] = [[] for _ in range(self.n_sents)]
        for g in self.groups:
            gr, gn, _, _ = self._forward_backward(g)
            best = gr.argmax(axis=2)
            ok = np.take_along_axis(gr, best[:, :, None], axis=2)[:, :, 0] > gn.sum(axis=2)
            _collect(out, g.sents, best, ok)
        return out


def _collect(out: list[Alignment], sents: np.ndarray, best: np.ndarray, ok: np.ndarray) -> None:
    """Store links (source i, target j) per sentence from (n, J) argmax positions and masks."""
    for k, sent in enumerate(sents.tolist()):
        row, m = best[k].tolist(), ok[k].tolist()
        out[sent] = [(i, j) for j, (i, keep) in enumerate(zip(row, m, strict=True)) if keep]


def _encode_pairs(src: Sequence[str], tgt: Sequence[str]):
    if len(src) != len(tgt):
        raise ValueError(f"src has {len(src)} sentences but tgt has {len(tgt)}")
    vs, vt = _Vocab(), _Vocab()
    s_ids = [vs.encode(tokenize_words(s)) for s in src]
    t_ids = [vt.encode(tokenize_words(t)) for t in tgt]
    return s_ids, t_ids, vs, vt


def train_directional(
    src: Sequence[str], tgt: Sequence[str], *, iterations: int = 5, model: str = "hmm",
    hmm_iterations: int | None = None,
) -> tuple[list[Alignment], list[Alignment]]:
    """Train both directions with the numpy engine; return (forward, reverse) links as (i, j).

    ``forward`` is P(target | source): every target word ``j`` has at most one link.
    ``reverse`` is P(source | target), its links turned round to (source i, target j).
    ``model`` is ``"ibm1"`` or ``"hmm"`` (IBM1 for ``iterations``, then the HMM for
    ``hmm_iterations``, by default also ``iterations``).
    """
    if model not in ("ibm1", "hmm"):
        raise ValueError(f"model must be 'ibm1' or 'hmm', not {model!r}")
    s_ids, t_ids, vs, vt = _encode_pairs(src, tgt)
    hmm_it = iterations if hmm_iterations is None else hmm_iterations
    results = []
    for a, b, na, nb in ((s_ids, t_ids, len(vs), len(vt)), (t_ids, s_ids, len(vt), len(vs))):
        m = _Directional(a, b, na, nb)
        for _ in range(iterations):
            m.ibm1_step()
        if model == "ibm1":
            results.append(m.ibm1_decode())
        else:
            for _ in range(hmm_it):
                m.hmm_step()
            results.append(m.hmm_decode())
        del m
    fwd, rev = results
    rev = [sorted((i, j) for j, i in links) for links in rev]
    return [sorted(x) for x in fwd], rev


# ---------------------------------------------------------------------------------------------
# symmetrisation

_NEIGHBOURS = ((-1, 0), (0, -1), (1, 0), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1))


def symmetrize(fwd: Sequence[tuple[int, int]], rev: Sequence[tuple[int, int]],
               method: str = "grow-diag-final-and") -> Alignment:
    """Combine two directional alignments of one sentence pair (both as (source, target) links).

    ``method``: ``"intersection"``, ``"union"``, ``"grow-diag"`` or ``"grow-diag-final-and"``.
    """
    f, r = set(fwd), set(rev)
    if method == "intersection":
        return sorted(f & r)
    if method == "union":
        return sorted(f | r)
    if method not in ("grow-diag", "grow-diag-final-and"):
        raise ValueError(f"unknown symmetrisation {method!r}")
    a = f & r
    union = f | r
    src_al = {i for i, _ in a}
    tgt_al = {j for _, j in a}
    grown = True
    while grown:
        grown = False
        for i, j in sorted(a):
            for di, dj in _NEIGHBOURS:
                p = (i + di, j + dj)
                if p in union and p not in a and (p[0] not in src_al or p[1] not in tgt_al):
                    a.add(p)
                    src_al.add(p[0])
                    tgt_al.add(p[1])
                    grown = True
    if method == "grow-diag-final-and":
        for links in (f, r):
            for i, j in sorted(links):
                if i not in src_al and j not in tgt_al:
                    a.add((i, j))
                    src_al.add(i)
                    tgt_al.add(j)
    return sorted(a)


# ---------------------------------------------------------------------------------------------
# eflomal


def eflomal_available() -> bool:
    try:
        import eflomal  # noqa: F401
    except ImportError:
        return False
    return True


def _eflomal_directional(src: Sequence[str], tgt: Sequence[str]) -> tuple[list[Alignment], list[Alignment]]:
    try:
        import eflomal
    except ImportError as e:
        raise ImportError("engine='eflomal' needs the eflomal package (pip install eflomal); "
                          "engine='hmm' needs nothing but numpy") from e

    s_words = [[_model_key(w) for w in tokenize_words(s)] for s in src]
    t_words = [[_model_key(w) for w in tokenize_words(t)] for t in tgt]
    keep = [k for k in range(len(src)) if s_words[k] and t_words[k]]
    fwd: list[Alignment] = [[] for _ in src]
    rev: list[Alignment] = [[] for _ in src]
    if not keep:
        return fwd, rev
    with tempfile.TemporaryDirectory(prefix="xlkit-eflomal-") as tmp:
        ff, rf = os.path.join(tmp, "fwd"), os.path.join(tmp, "rev")
        aligner = eflomal.Aligner()
        try:
            aligner.align([" ".join(s_words[k]) + "\n" for k in keep],
                          [" ".join(t_words[k]) + "\n" for k in keep],
                          links_filename_fwd=ff, links_filename_rev=rf, quiet=True)
        except subprocess.CalledProcessError as e:
            raise RuntimeError(f"eflomal failed: {e}") from e
        for path, out in ((ff, fwd), (rf, rev)):
            with open(path, encoding="utf-8") as fh:
                lines = fh.read().splitlines()
            if len(lines) != len(keep):
                raise RuntimeError(f"eflomal wrote {len(lines)} alignments for {len(keep)} pairs")
            for k, line in zip(keep, lines, strict=True):
                out[k] = sorted(tuple(map(int, x.split("-"))) for x in line.split())
    return fwd, rev


# ---------------------------------------------------------------------------------------------
# public entry point


def align_corpus(src: list[str], tgt: list[str], *, iterations: int = 5, seed: int = 0,
                 engine: str = "auto") -> list[list[tuple[int, int]]]:
    """Word alignments for each sentence pair, over whitespace-separated words (0-based indices), sorted.

    engine: "auto" (the deterministic numpy HMM), "eflomal", "hmm" (numpy IBM1+HMM);
    also "ibm1" (numpy IBM1 only, a baseline). Indices are over :func:`tokenize_words`;
    a pair with an empty side gets ``[]``. The numpy engines are deterministic (``seed`` is
    unused); eflomal is not (see the module docstring).
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, not {engine!r}")
    if iterations < 1:
        raise ValueError("iterations must be >= 1")
    if len(src) != len(tgt):
        raise ValueError(f"src has {len(src)} sentences but tgt has {len(tgt)}")
    if engine == "auto":
        engine = "hmm"
    if engine == "eflomal":
        fwd, rev = _eflomal_directional(src, tgt)
    else:
        fwd, rev = train_directional(src, tgt, iterations=iterations, model=engine)
    return [symmetrize(f, r) for f, r in zip(fwd, rev, strict=True)]


# ---------------------------------------------------------------------------------------------
# evaluation


def diagonal_alignment(n_src: int, n_tgt: int) -> Alignment:
    """Baseline: each word linked to the nearest position on the diagonal, in both directions."""
    if n_src == 0 or n_tgt == 0:
        return []
    links = {(min(n_src - 1, int((j + 0.5) * n_src / n_tgt)), j) for j in range(n_tgt)}
    links |= {(i, min(n_tgt - 1, int((i + 0.5) * n_tgt / n_src))) for i in range(n_src)}
    return sorted(links)


def _parse_links(field: str) -> set[tuple[int, int]]:
    out = set()
    for x in field.split():
        i, j = x.split("-")
        out.add((int(i), int(j)))
    return out


def read_hand_aligned(path: str | os.PathLike) -> list[tuple[str, str, set[tuple[int, int]], set[tuple[int, int]]]]:
    """Rows ``(en, de, sure, possible)`` of a hand-aligned TSV; ``possible`` includes ``sure``.

    Lines starting with ``#`` and blank lines are skipped; columns are en, de, sure links and
    possible-only links (``"i-j ..."``, en index - de index).
    """
    rows = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.split("\t")
            if len(cols) < 3 or len(cols) > 4:
                raise ValueError(f"{path}:{lineno}: expected 3 or 4 tab-separated columns")
            en, de, sure = cols[0], cols[1], _parse_links(cols[2])
            possible = sure | (_parse_links(cols[3]) if len(cols) == 4 else set())
            ne, nd = len(tokenize_words(en)), len(tokenize_words(de))
            for i, j in possible:
                if not (0 <= i < ne and 0 <= j < nd):
                    raise ValueError(f"{path}:{lineno}: link {i}-{j} out of range ({ne} x {nd} words)")
            rows.append((en, de, sure, possible))
    return rows


def aer(hyp: Sequence[Sequence[tuple[int, int]]], sure: Sequence[set[tuple[int, int]]],
        possible: Sequence[set[tuple[int, int]]]) -> float:
    """Alignment error rate (Och & Ney 2003) over a corpus: 1 - (|A&S| + |A&P|) / (|A| + |S|)."""
    a_s = a_p = n_a = n_s = 0
    for h, s, p in zip(hyp, sure, possible, strict=True):
        hs = set(h)
        pp = p | s
        a_s += len(hs & s)
        a_p += len(hs & pp)
        n_a += len(hs)
        n_s += len(s)
    if n_a + n_s == 0:
        return 0.0
    return 1.0 - (a_s + a_p) / (n_a + n_s)
