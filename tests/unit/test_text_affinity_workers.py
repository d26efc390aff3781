"""Text affinity shared out between processes gives the same pairs, scores and evidence."""

from unittest import mock

from bench.bench_affinity import build
from reviewers import text_affinity as module
from reviewers.text_affinity import text_affinity


def test_two_workers_give_the_same_result_as_one() -> None:
    corpus = build(240, 60)
    with mock.patch.object(module, "_BLOCK", 50):  # five blocks: shared out between two
        alone = text_affinity(applications=corpus.applications, reviewers=corpus.reviewers)
        shared = text_affinity(
            applications=corpus.applications, reviewers=corpus.reviewers, workers=2
        )
    assert len(alone) > 240
    assert any(pair.evidence for pair in alone)
    assert shared == alone
