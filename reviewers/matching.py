"""Affinity between reviewers and applications: expertise keywords shared with an
application's keywords. Pure, and sparse: only pairs that share a keyword are listed."""

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping


def expertise_affinity(
    *,
    application_keywords: Mapping[uuid.UUID, Iterable[str]],
    reviewer_expertise: Mapping[uuid.UUID, Iterable[str]],
) -> dict[tuple[uuid.UUID, uuid.UUID], float]:
    """{(application_id, reviewer_id): number of shared keywords}, case-insensitive; pairs
    sharing none are absent (affinity 0). Runs through an inverted index, in time proportional
    to the matches rather than to applications x reviewers."""
    by_word: dict[str, list[uuid.UUID]] = defaultdict(list)
    for reviewer_id, words in reviewer_expertise.items():
        for word in {w.strip().lower() for w in words if w.strip()}:
            by_word[word].append(reviewer_id)
    affinity: dict[tuple[uuid.UUID, uuid.UUID], float] = {}
    for application_id, words in application_keywords.items():
        counts: dict[uuid.UUID, int] = defaultdict(int)
        for word in {w.strip().lower() for w in words if w.strip()}:
            for reviewer_id in by_word.get(word, ()):
                counts[reviewer_id] += 1
        for reviewer_id, count in counts.items():
            affinity[(application_id, reviewer_id)] = float(count)
    return affinity
