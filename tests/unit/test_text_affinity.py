"""Text affinity (pure): topic-separated texts with disjoint keyword lists, where keyword
overlap sees nothing and TF-IDF routes every proposal to a reviewer of its topic."""

import random
import uuid

from models.reviewers import PreferenceLevel
from reviewers.matching import expertise_affinity
from reviewers.planner import ReviewerCapacity, plan_assignments
from reviewers.preferences import with_preferences
from reviewers.text_affinity import ApplicationText, ProfileText, text_affinity

TOPICS = {
    "marine": "coral reef ocean seagrass plankton salinity tides estuary fisheries kelp",
    "quantum": "qubit entanglement superconducting decoherence photon lattice cryogenic gate",
    "genome": "crispr genome sequencing allele protein transcription mutation enzyme cell",
    "climate": "carbon emissions aerosol glacier drought monsoon albedo permafrost forecast",
}
GENERAL = "project research results team partners impact novel approach work plan budget"


def _text(rng: random.Random, topic: str, words: int) -> str:
    vocabulary = TOPICS[topic].split()
    general = GENERAL.split()
    return " ".join(
        rng.choice(vocabulary) if rng.random() < 0.4 else rng.choice(general) for _ in range(words)
    )


def _instance(
    seed: int,
) -> tuple[
    dict[uuid.UUID, ApplicationText],
    dict[uuid.UUID, ProfileText],
    dict[uuid.UUID, str],
    dict[uuid.UUID, str],
]:
    rng = random.Random(seed)
    topics = sorted(TOPICS)
    apps: dict[uuid.UUID, ApplicationText] = {}
    revs: dict[uuid.UUID, ProfileText] = {}
    app_topic: dict[uuid.UUID, str] = {}
    rev_topic: dict[uuid.UUID, str] = {}
    for i in range(24):
        topic = topics[i % len(topics)]
        app_id = uuid.UUID(int=rng.getrandbits(128))
        # Keyword lists: proposal-specific labels that no reviewer lists.
        apps[app_id] = ApplicationText(
            title=f"Proposal {i}",
            summary=_text(rng, topic, 40),
            keywords=(f"label-{i}", "national call"),
            documents=(_text(rng, topic, 400),),
        )
        app_topic[app_id] = topic
    for i in range(8):
        topic = topics[i % len(topics)]
        rev_id = uuid.UUID(int=rng.getrandbits(128))
        revs[rev_id] = ProfileText(
            expertise=(f"field-{i}",),
            statement=_text(rng, topic, 60),
            publications=(_text(rng, topic, 80),),
        )
        rev_topic[rev_id] = topic
    return apps, revs, app_topic, rev_topic


def test_text_affinity_assigns_each_proposal_to_a_reviewer_of_its_topic() -> None:
    apps, revs, app_topic, rev_topic = _instance(7)
    keyword = expertise_affinity(
        application_keywords={a: t.keywords for a, t in apps.items()},
        reviewer_expertise={r: p.expertise for r, p in revs.items()},
    )
    assert keyword == {}  # keyword overlap cannot tell anyone apart
    pairs = text_affinity(applications=apps, reviewers=revs, top_k=4)
    plan = plan_assignments(
        applications=list(apps),
        reviewers=[ReviewerCapacity(r, 6) for r in revs],
        per_application=2,
        conflicts=[],
        affinity={(p.application_id, p.reviewer_id): p.score for p in pairs},
    )
    assert len(plan.assignments) == 48
    assert all(rev_topic[x.reviewer_id] == app_topic[x.application_id] for x in plan.assignments)
    # Every kept pair says which words matched, and they are words of the shared topic.
    for pair in pairs:
        if rev_topic[pair.reviewer_id] == app_topic[pair.application_id]:
            topic_words = set(TOPICS[app_topic[pair.application_id]].split())
            assert pair.evidence
            assert topic_words & set(" ".join(pair.evidence).split())


def test_sparse_deterministic_and_best_first() -> None:
    apps, revs, _, _ = _instance(11)
    pairs = text_affinity(applications=apps, reviewers=revs, top_k=3)
    again = text_affinity(
        applications=dict(reversed(list(apps.items()))),
        reviewers=dict(reversed(list(revs.items()))),
        top_k=3,
    )
    assert pairs == again
    per_app: dict[uuid.UUID, list[float]] = {}
    for pair in pairs:
        per_app.setdefault(pair.application_id, []).append(pair.score)
        assert 0 < pair.score <= 1.0 + 1e-6
    assert all(len(scores) <= 3 for scores in per_app.values())
    assert all(scores == sorted(scores, reverse=True) for scores in per_app.values())


def test_empty_inputs_give_nothing() -> None:
    assert text_affinity(applications={}, reviewers={}) == []
    app, rev = uuid.uuid4(), uuid.uuid4()
    assert (
        text_affinity(
            applications={app: ApplicationText(title="the")},
            reviewers={rev: ProfileText(expertise=())},
        )
        == []
    )


def test_preferences_weigh_eager_up_and_not_willing_below_any_plan() -> None:
    a, b, r = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    affinity = {(a, r): 0.8, (b, r): 0.2}
    objective = with_preferences(
        affinity,
        {(a, r): PreferenceLevel.not_willing, (b, r): PreferenceLevel.eager},
        demand=10,
    )
    assert objective[(b, r)] > 0.8 + 0.2
    # A not_willing pair costs more than the whole affinity and bonuses of any plan of 10.
    assert objective[(a, r)] < -10 * (0.8 + 2 * 0.8)
    assert with_preferences(affinity, {}, demand=10) == affinity
