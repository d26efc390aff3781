"""The entry point: from the rules, the candidates and their reviews to the ranked, explained and
stability-checked result (the package docstring gives the rules)."""

from collections.abc import Iterable

from reviewers.decision.ranking import assemble, evaluate, rank_order, shortlist_count
from reviewers.decision.stability import leave_one_out
from reviewers.decision.types import Candidate, ReviewInput, ShortlistResult, ShortlistRules
from reviewers.decision.validation import prepare


def compute_shortlist(
    *,
    rules: ShortlistRules,
    candidates: Iterable[Candidate],
    reviews: Iterable[ReviewInput],
) -> ShortlistResult:
    """Apply the round's published rules (see the package docstring). Raises
    ``ScoringInputError`` listing every problem when the inputs are inconsistent."""
    prep = prepare(rules, list(candidates), list(reviews))
    evaluations = [
        evaluate(prep, app, prep.app_reviews[app]) for app in range(len(prep.application_ids))
    ]
    order = rank_order(evaluations)
    n_shortlisted = shortlist_count(prep.size, len(order))
    shortlisted = [False] * len(evaluations)
    for app in order[:n_shortlisted]:
        shortlisted[app] = True
    stable = leave_one_out(prep, evaluations, order, shortlisted)
    return assemble(prep, evaluations, order, shortlisted, stable)
