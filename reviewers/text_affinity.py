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
memory stays bounded by the block, not by applications x reviewers.
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

DEFAULT_TOP_K: Final = 50
EVIDENCE_TERMS: Final = 5
MAX_TERMS: Final = 128
_BLOCK: Final = 2_000

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


def _vectorizer(max_df: float, total: int) -> TfidfVectorizer:
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
) -> list[ScoredPair]:
    """Each application's best ``top_k`` reviewers by TF-IDF cosine, score > 0 only, best first
    per application (ties by reviewer id), applications in id order. Deterministic: the result
    depends on the texts, not on the mappings' order."""
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
    revs_t = sparse.csc_matrix(revs.T)
    weights = np.zeros(len(terms), dtype=np.float32)  # one application's vector, dense
    out: list[ScoredPair] = []
    for start in range(0, len(app_ids), _BLOCK):
        scores = sparse.csr_matrix(apps[start : start + _BLOCK] @ revs_t)
        for row in range(scores.shape[0]):
            lo, hi = scores.indptr[row], scores.indptr[row + 1]
            if lo == hi:
                continue
            cols = scores.indices[lo:hi]
            vals = scores.data[lo:hi]
            keep = _best(cols, vals, top_k)
            a = start + row
            a_lo, a_hi = apps.indptr[a], apps.indptr[a + 1]
            weights[apps.indices[a_lo:a_hi]] = apps.data[a_lo:a_hi]
            chosen = cols[keep]
            evidence = _evidence(revs[chosen], weights, terms, evidence_terms)
            weights[apps.indices[a_lo:a_hi]] = 0.0
            out.extend(
                ScoredPair(
                    application_id=app_ids[a],
                    reviewer_id=rev_ids[int(c)],
                    score=round(float(v), 6),
                    evidence=e,
                )
                for c, v, e in zip(chosen.tolist(), vals[keep].tolist(), evidence, strict=True)
            )
    return out


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
    reviewers: sparse.csr_matrix,
    weights: npt.NDArray[np.float32],
    terms: npt.NDArray[np.str_],
    count: int,
) -> list[tuple[str, ...]]:
    """Per reviewer row: the terms contributing most to its cosine with the application whose
    vector is ``weights``, largest first (ties by term)."""
    k = reviewers.shape[0]
    products = reviewers.data * weights[reviewers.indices]
    rows = np.repeat(np.arange(k), np.diff(reviewers.indptr))
    hits = np.flatnonzero(products > 0)
    order = hits[np.lexsort((reviewers.indices[hits], -products[hits], rows[hits]))]
    ranked_rows = rows[order]
    rank = np.arange(len(order)) - np.searchsorted(ranked_rows, ranked_rows)
    chosen = order[rank < count]
    words = terms[reviewers.indices[chosen]].tolist()
    bounds = np.searchsorted(rows[chosen], np.arange(k + 1)).tolist()
    return [tuple(words[bounds[i] : bounds[i + 1]]) for i in range(k)]


def keyword_evidence(application_keywords: Sequence[str], expertise: Sequence[str]) -> list[str]:
    """The keywords an application shares with a reviewer's expertise (case-insensitive)."""
    wanted = {w.strip().lower() for w in expertise if w.strip()}
    return sorted({w.strip().lower() for w in application_keywords if w.strip().lower() in wanted})
