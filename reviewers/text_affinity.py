"""Text affinity: how well a reviewer fits an application, judged from what both wrote. Pure.

The method is TF-IDF with cosine similarity (scikit-learn's ``TfidfVectorizer`` over sparse
matrices), the baseline retrieval method of reviewer matching systems such as OpenReview's
expertise API and the Toronto Paper Matching System:

- one vocabulary and one inverse document frequency over both sides (applications and reviewer
  profiles), English stop words left out, unigrams and bigrams, sublinear term frequency, and
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
_BLOCK: Final = 2_000


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
        ngram_range=(1, 2),
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
    apps = sparse.csr_matrix(matrix[: len(app_ids)])
    revs = sparse.csr_matrix(matrix[len(app_ids) :])
    revs_t = sparse.csc_matrix(revs.T)
    out: list[ScoredPair] = []
    for start in range(0, len(app_ids), _BLOCK):
        block = apps[start : start + _BLOCK]
        scores = sparse.csr_matrix(block @ revs_t)
        for row in range(block.shape[0]):
            lo, hi = scores.indptr[row], scores.indptr[row + 1]
            if lo == hi:
                continue
            cols = scores.indices[lo:hi]
            vals = scores.data[lo:hi]
            keep = _best(cols, vals, top_k)
            a = start + row
            app_row = apps[a]
            for c in keep:
                out.append(
                    ScoredPair(
                        application_id=app_ids[a],
                        reviewer_id=rev_ids[int(cols[c])],
                        score=round(float(vals[c]), 6),
                        evidence=_evidence(app_row, revs[int(cols[c])], terms, evidence_terms),
                    )
                )
    return out


def _best(cols: npt.NDArray[np.int32], vals: npt.NDArray[np.float32], k: int) -> list[int]:
    """Positions of the ``k`` largest positive values, best first, ties by column (reviewer id
    order)."""
    positive = np.flatnonzero(vals > 0)
    order = np.lexsort((cols[positive], -vals[positive]))
    return [int(i) for i in positive[order[:k]]]


def _evidence(
    app_row: sparse.csr_matrix,
    rev_row: sparse.csr_matrix,
    terms: npt.NDArray[np.str_],
    count: int,
) -> tuple[str, ...]:
    """The terms contributing most to the pair's cosine, largest first."""
    product = sparse.csr_matrix(app_row.multiply(rev_row))
    if product.nnz == 0:
        return ()
    order = np.lexsort((product.indices, -product.data))[:count]
    return tuple(str(terms[product.indices[i]]) for i in order)


def keyword_evidence(application_keywords: Sequence[str], expertise: Sequence[str]) -> list[str]:
    """The keywords an application shares with a reviewer's expertise (case-insensitive)."""
    wanted = {w.strip().lower() for w in expertise if w.strip()}
    return sorted({w.strip().lower() for w in application_keywords if w.strip().lower() in wanted})
