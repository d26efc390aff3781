"""Text affinity: how well a reviewer fits an application, judged from what both wrote. Pure.

The method is TF-IDF with cosine similarity (scikit-learn's ``TfidfVectorizer`` over sparse
matrices), the baseline retrieval method of reviewer matching systems such as OpenReview's
expertise API and the Toronto Paper Matching System:

- one vocabulary and one inverse document frequency over both sides (applications and reviewer
  profiles), English stop words left out, words (no n-grams), sublinear term frequency, and
  terms found in more than ``max_df`` of all texts dropped (general words such as "research"
  carry no topic);
- each text is a unit vector; a pair's score is the cosine of its two vectors, in [0, 1];
- only each application's ``top_k`` best reviewers are kept (the planner counts a missing pair
  as 0), with the evidence: the terms contributing most to the pair's score.

The product of the application and reviewer matrices is taken in blocks of applications, so
memory stays bounded by the block, not by applications x reviewers. With ``workers > 1`` and
more than one block per worker, the blocks are shared out between this process and
``workers - 1`` others (spawned: safe beside threads), since scipy's sparse product and the
per-row ranking hold the GIL; the result is the same.
"""

import multiprocessing
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt
from scipy import sparse

DEFAULT_TOP_K: Final = 50
EVIDENCE_TERMS: Final = 5
MAX_TERMS: Final = 128
_BLOCK: Final = 2_000

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import TfidfVectorizer

IndexArray = npt.NDArray[np.intp]


@dataclass(frozen=True, slots=True)
class ScoredPair:
    application_id: uuid.UUID
    reviewer_id: uuid.UUID
    score: float
    evidence: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ProfileText:
    """A reviewer's text as affinity reads it."""

    expertise: Sequence[str]
    statement: str = ""
    publications: Sequence[str] = ()

    def joined(self) -> str:
        return "\n".join([" ; ".join(self.expertise), self.statement, *self.publications])


@dataclass(frozen=True, slots=True)
class ApplicationText:
    """An application's text as affinity reads it: title, summary, keywords, documents."""

    title: str
    summary: str = ""
    keywords: Sequence[str] = ()
    documents: Sequence[str] = ()

    def joined(self) -> str:
        return "\n".join([self.title, self.summary, " ; ".join(self.keywords), *self.documents])


def _vectorizer(max_df: float, total: int) -> "TfidfVectorizer":
    # Imported here: the worker processes that score blocks never load scikit-learn.
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        lowercase=True,
        stop_words="english",
        ngram_range=(1, 1),
        sublinear_tf=True,
        # A term must appear in two texts to relate anything; in a tiny corpus every term is
        # kept. Terms in more than max_df of all texts are general words, not topics.
        min_df=2 if total >= 4 else 1,
        max_df=max_df if total >= 10 else 1.0,
        token_pattern=r"(?u)\b[^\W\d_][\w-]*[^\W_]\b",  # noqa: S106 - a regex
        dtype=np.float32,
    )


def text_affinity(
    *,
    applications: Mapping[uuid.UUID, ApplicationText],
    reviewers: Mapping[uuid.UUID, ProfileText],
    top_k: int = DEFAULT_TOP_K,
    evidence_terms: int = EVIDENCE_TERMS,
    max_df: float = 0.5,
    max_terms: int = MAX_TERMS,
    workers: int = 1,
) -> list[ScoredPair]:
    """Each application's best ``top_k`` reviewers by TF-IDF cosine, score > 0 only, best first
    per application (ties by reviewer id), applications in id order. Deterministic: the result
    depends on the texts, not on the mappings' order (nor on ``workers``)."""
    app_ids = sorted(applications)
    rev_ids = sorted(reviewers)
    if not app_ids or not rev_ids or top_k <= 0:
        return []
    texts = [applications[a].joined() for a in app_ids] + [reviewers[r].joined() for r in rev_ids]
    vectorizer = _vectorizer(max_df, len(texts))
    try:
        matrix = vectorizer.fit_transform(texts)
    except ValueError:  # no term survives (empty texts, only stop words)
        return []
    terms: npt.NDArray[np.str_] = vectorizer.get_feature_names_out()
    matrix = _strongest(sparse.csr_matrix(matrix), max_terms)
    apps = sparse.csr_matrix(matrix[: len(app_ids)])
    revs = sparse.csr_matrix(matrix[len(app_ids) :])
    blocks = [
        (start, min(start + _BLOCK, len(app_ids))) for start in range(0, len(app_ids), _BLOCK)
    ]
    # A worker process costs its start (imports, the reviewers' matrix): worth it from two blocks
    # each.
    workers = workers if len(blocks) >= 2 * workers else 1
    shares = [blocks[i::workers] for i in range(max(1, workers))]
    if len(shares) == 1:
        scored = [_score_blocks(apps, revs, shares[0], top_k, evidence_terms)]
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(len(shares) - 1, mp_context=context) as pool:
            others = [
                pool.submit(_score_blocks, apps, revs, share, top_k, evidence_terms)
                for share in shares[1:]
            ]
            scored = [_score_blocks(apps, revs, shares[0], top_k, evidence_terms)]
            scored += [other.result() for other in others]
    found = {block[0]: part for share in scored for block, part in zip(*share, strict=True)}
    out: list[ScoredPair] = []
    words = terms.tolist()
    for start, _ in blocks:
        rows, cols, vals, evidence = found[start]
        out.extend(
            ScoredPair(
                application_id=app_ids[a],
                reviewer_id=rev_ids[c],
                score=round(v, 6),
                evidence=tuple(words[t] for t in e if t >= 0),
            )
            for a, c, v, e in zip(
                rows.tolist(), cols.tolist(), vals.tolist(), evidence.tolist(), strict=True
            )
        )
    return out


_Scored = tuple[IndexArray, IndexArray, npt.NDArray[np.float64], IndexArray]
"""Application rows, reviewer columns, scores and evidence (term indices, -1 padded)."""


def _score_blocks(
    apps: sparse.csr_matrix,
    revs: sparse.csr_matrix,
    blocks: list[tuple[int, int]],
    top_k: int,
    evidence_terms: int,
) -> tuple[list[tuple[int, int]], list[_Scored]]:
    """Each block's application rows scored against every reviewer (also run in a worker
    process: module-level, arguments and result picklable)."""
    revs_t = sparse.csc_matrix(revs.T)
    weights = np.zeros(apps.shape[1], dtype=np.float32)  # one application's vector, dense
    parts: list[_Scored] = []
    for start, end in blocks:
        scores = sparse.csr_matrix(apps[start:end] @ revs_t)
        rows: list[IndexArray] = []
        cols: list[IndexArray] = []
        vals: list[npt.NDArray[np.float64]] = []
        evidence: list[IndexArray] = []
        for row in range(scores.shape[0]):
            lo, hi = scores.indptr[row], scores.indptr[row + 1]
            if lo == hi:
                continue
            keep = _best(scores.indices[lo:hi], scores.data[lo:hi], top_k)
            chosen = scores.indices[lo:hi][keep].astype(np.intp)
            a = start + row
            a_lo, a_hi = apps.indptr[a], apps.indptr[a + 1]
            weights[apps.indices[a_lo:a_hi]] = apps.data[a_lo:a_hi]
            evidence.append(_evidence(revs[chosen], weights, evidence_terms))
            weights[apps.indices[a_lo:a_hi]] = 0.0
            rows.append(np.full(len(chosen), a, dtype=np.intp))
            cols.append(chosen)
            vals.append(scores.data[lo:hi][keep].astype(np.float64))
        parts.append(
            (
                np.concatenate([np.zeros(0, np.intp), *rows]),
                np.concatenate([np.zeros(0, np.intp), *cols]),
                np.concatenate([np.zeros(0, np.float64), *vals]),
                np.concatenate([np.zeros((0, evidence_terms), np.intp), *evidence]),
            )
        )
    return blocks, parts


def _best(cols: npt.NDArray[np.int32], vals: npt.NDArray[np.float32], k: int) -> IndexArray:
    """Positions of the ``k`` largest positive values, best first, ties by column (reviewer id
    order)."""
    positive = np.flatnonzero(vals > 0)
    if len(positive) > 4 * k:  # only the candidates can be among the best k
        cut = np.partition(vals[positive], len(positive) - k)[len(positive) - k]
        positive = positive[vals[positive] >= cut]
    order = np.lexsort((cols[positive], -vals[positive]))
    return positive[order[:k]]


def _strongest(matrix: sparse.csr_matrix, keep: int) -> sparse.csr_matrix:
    """Each row cut to its ``keep`` largest weights (ties by term), not renormalized: a pair's
    score is then the part of its cosine carried by both texts' most distinctive terms. Words
    common to many texts (low IDF) fall out, so the matrix product costs what the topics share,
    not what every text shares."""
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    order = np.lexsort((matrix.indices, -matrix.data, rows))
    rank = np.arange(len(order)) - matrix.indptr[rows[order]]
    chosen = np.sort(order[rank < keep])  # back in row order
    counts = np.bincount(rows[chosen], minlength=matrix.shape[0])
    indptr = np.concatenate(([0], np.cumsum(counts)))
    return sparse.csr_matrix(
        (matrix.data[chosen], matrix.indices[chosen], indptr), shape=matrix.shape
    )


def _evidence(
    reviewers: sparse.csr_matrix, weights: npt.NDArray[np.float32], count: int
) -> IndexArray:
    """Per reviewer row: the terms (indices, -1 padded to ``count``) contributing most to its
    cosine with the application whose vector is ``weights``, largest first (ties by term)."""
    k = reviewers.shape[0]
    products = reviewers.data * weights[reviewers.indices]
    rows = np.repeat(np.arange(k), np.diff(reviewers.indptr))
    hits = np.flatnonzero(products > 0)
    order = hits[np.lexsort((reviewers.indices[hits], -products[hits], rows[hits]))]
    ranked_rows = rows[order]
    rank = np.arange(len(order)) - np.searchsorted(ranked_rows, ranked_rows)
    keep = rank < count
    chosen = order[keep]
    table = np.full((k, count), -1, dtype=np.intp)
    table[rows[chosen], rank[keep]] = reviewers.indices[chosen]
    return table


def keyword_evidence(application_keywords: Sequence[str], expertise: Sequence[str]) -> list[str]:
    """The keywords an application shares with a reviewer's expertise (case-insensitive)."""
    wanted = {w.strip().lower() for w in expertise if w.strip()}
    return sorted({w.strip().lower() for w in application_keywords if w.strip().lower() in wanted})
