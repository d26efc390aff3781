"""Benchmark: text affinity (``reviewers.text_affinity``), its quality and its scale.

Synthetic but realistic texts: each of 40 topics has its own vocabulary of 300 words; general
words (600, shared by every topic) make up most of every text. A proposal (title, summary,
4 keywords, a 400-word document) and a reviewer (5 expertise keywords, a 150-word statement,
two publication abstracts) draw from one topic each. Keywords come from the topic's whole
vocabulary, so keyword lists of the same topic barely overlap.

* quality: 2,000 proposals x 400 reviewers x 3 per proposal, planned optimally
  (``reviewers.planner``) on text affinity and, as the baseline in the same run, on today's
  keyword overlap. The figure is the share of assignments whose reviewer's topic is the
  proposal's (higher is better; target: at least 0.9).
* scale: text affinity for 20,000 proposals x 15,000 reviewers (target: under 5 minutes), in
  its own subprocess for its peak memory; the baseline is keyword overlap on the same instance.
  It uses every core (``workers=os.cpu_count()``: the scoring blocks are shared out between
  processes; vectorizing the texts stays on one). Its details give the wall seconds, this
  process's CPU seconds, its worker processes' CPU seconds and the load average.

``python -m bench.bench_affinity`` prints the figures; ``python -m bench`` collects them.
"""

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any

from bench.support import load_average
from reviewers.matching import expertise_affinity
from reviewers.planner import ReviewerCapacity, plan_assignments
from reviewers.text_affinity import ApplicationText, ProfileText, text_affinity

TOPICS = 40
TOPIC_WORDS = 300
GENERAL_WORDS = 600
TOPIC_SHARE = 0.25


@dataclass(frozen=True, slots=True)
class Corpus:
    applications: dict[uuid.UUID, ApplicationText]
    reviewers: dict[uuid.UUID, ProfileText]
    app_topic: dict[uuid.UUID, int]
    rev_topic: dict[uuid.UUID, int]


def _word(rng: random.Random, n: int) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return "".join(rng.choice(letters) for _ in range(n))


def _vocabularies(rng: random.Random) -> tuple[list[list[str]], list[str]]:
    seen: set[str] = set()

    def fresh() -> str:
        while True:
            word = _word(rng, rng.randint(5, 10))
            if word not in seen:
                seen.add(word)
                return word

    topics = [[fresh() for _ in range(TOPIC_WORDS)] for _ in range(TOPICS)]
    general = [fresh() for _ in range(GENERAL_WORDS)]
    return topics, general


def _text(rng: random.Random, topic: list[str], general: list[str], words: int) -> str:
    return " ".join(
        rng.choice(topic) if rng.random() < TOPIC_SHARE else rng.choice(general)
        for _ in range(words)
    )


def build(applications: int, reviewers: int, seed: int = 20_261_207) -> Corpus:
    rng = random.Random(seed)
    topics, general = _vocabularies(rng)
    apps: dict[uuid.UUID, ApplicationText] = {}
    revs: dict[uuid.UUID, ProfileText] = {}
    app_topic: dict[uuid.UUID, int] = {}
    rev_topic: dict[uuid.UUID, int] = {}
    for i in range(applications):
        t = i % TOPICS
        app_id = uuid.UUID(int=rng.getrandbits(128))
        apps[app_id] = ApplicationText(
            title=_text(rng, topics[t], general, 10),
            summary=_text(rng, topics[t], general, 60),
            keywords=tuple(rng.sample(topics[t], 4)),
            documents=(_text(rng, topics[t], general, 400),),
        )
        app_topic[app_id] = t
    for i in range(reviewers):
        t = i % TOPICS
        rev_id = uuid.UUID(int=rng.getrandbits(128))
        revs[rev_id] = ProfileText(
            expertise=tuple(rng.sample(topics[t], 5)),
            statement=_text(rng, topics[t], general, 150),
            publications=(
                _text(rng, topics[t], general, 120),
                _text(rng, topics[t], general, 120),
            ),
        )
        rev_topic[rev_id] = t
    return Corpus(apps, revs, app_topic, rev_topic)


def _keyword(corpus: Corpus) -> dict[tuple[uuid.UUID, uuid.UUID], float]:
    return expertise_affinity(
        application_keywords={a: t.keywords for a, t in corpus.applications.items()},
        reviewer_expertise={r: p.expertise for r, p in corpus.reviewers.items()},
    )


def _share(corpus: Corpus, affinity: dict[tuple[uuid.UUID, uuid.UUID], float]) -> float:
    plan = plan_assignments(
        applications=list(corpus.applications),
        reviewers=[ReviewerCapacity(r, 15) for r in corpus.reviewers],
        per_application=3,
        conflicts=[],
        affinity=affinity,
    )
    matched = sum(
        1
        for x in plan.assignments
        if corpus.rev_topic[x.reviewer_id] == corpus.app_topic[x.application_id]
    )
    return matched / len(plan.assignments)


def quality() -> dict[str, Any]:
    corpus = build(2_000, 400)
    keyword = _keyword(corpus)
    started = time.perf_counter()
    text = {
        (p.application_id, p.reviewer_id): p.score
        for p in text_affinity(applications=corpus.applications, reviewers=corpus.reviewers)
    }
    text_seconds = time.perf_counter() - started
    pairs_with_overlap = sum(
        1 for a in corpus.applications if any((a, r) in keyword for r in corpus.reviewers)
    )
    return {
        "text_share": _share(corpus, text),
        "keyword_share": _share(corpus, keyword),
        "keyword_pairs": len(keyword),
        "applications_with_any_keyword_overlap": pairs_with_overlap,
        "text_pairs": len(text),
        "text_seconds": text_seconds,
        "load_average": load_average(),
    }


def _children_cpu_seconds() -> float:
    """CPU seconds of this process's ended worker processes (the text affinity's pool)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def scale(applications: int = 20_000, reviewers: int = 15_000) -> dict[str, Any]:
    corpus = build(applications, reviewers)
    rss_input = _max_rss_mb()
    started = time.perf_counter()
    keyword = _keyword(corpus)
    keyword_seconds = time.perf_counter() - started
    started, cpu = time.perf_counter(), time.process_time()
    workers = os.cpu_count() or 1
    pairs = text_affinity(
        applications=corpus.applications, reviewers=corpus.reviewers, workers=workers
    )
    text_seconds = time.perf_counter() - started
    text_cpu_seconds = time.process_time() - cpu
    return {
        "applications": applications,
        "reviewers": reviewers,
        "text_seconds": text_seconds,
        "text_cpu_seconds": text_cpu_seconds,
        "text_workers": workers,
        "text_worker_cpu_seconds": _children_cpu_seconds(),
        "text_pairs": len(pairs),
        "keyword_seconds": keyword_seconds,
        "keyword_pairs": len(keyword),
        "rss_input_mb": rss_input,
        "rss_peak_mb": _max_rss_mb(),
        "load_average": load_average(),
    }


def _in_subprocess(what: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.bench_affinity", "--one", what],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def run() -> list[dict[str, Any]]:
    q = _in_subprocess("quality")
    print(json.dumps(q), flush=True)
    s = _in_subprocess("scale")
    print(json.dumps(s), flush=True)
    return [
        {
            "name": "affinity quality: topic-match share, text (2000x400x3)",
            "value": q["text_share"],
            "unit": "",
            "baseline": q["keyword_share"],
            "ratio": q["text_share"] / max(q["keyword_share"], 1e-9),
            "target": 0.9,
            "higher_is_better": True,
            "details": q,
        },
        {
            "name": f"text affinity {s['applications']}x{s['reviewers']}",
            "value": s["text_seconds"],
            "unit": "s",
            "baseline": s["keyword_seconds"],
            "ratio": s["text_seconds"] / max(s["keyword_seconds"], 1e-9),
            "target": 300.0,
            "details": s,
        },
        {
            "name": f"text affinity {s['applications']}x{s['reviewers']} peak RSS",
            "value": s["rss_peak_mb"],
            "unit": "MB",
            "baseline": s["rss_input_mb"],
            "ratio": s["rss_peak_mb"] / s["rss_input_mb"],
        },
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", choices=["quality", "scale", "scale-small"])
    args = parser.parse_args()
    if args.one == "quality":
        print(json.dumps(quality()))
        return 0
    if args.one == "scale":
        print(json.dumps(scale()))
        return 0
    if args.one == "scale-small":
        print(json.dumps(scale(2_000, 1_500)))
        return 0
    for f in run():
        print(
            f"{f['name']:<60} {f['value']:>10.3f} {f['unit']:<3} baseline {f['baseline']:>10.3f}"
            f"  ratio {f['ratio']:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
