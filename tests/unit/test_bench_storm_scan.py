"""The deadline storm's scan polling (``bench.bench_storm._scanned``, ``make stack`` with a
scanner): a poll answered other than 200 is an error of the storm, reported with the others,
while the applicant goes on polling until its document is scanned."""

import asyncio
import uuid

import httpx
import pytest

from bench import bench_storm
from bench.bench_storm import Applicant, Outcome, errors_of


def test_a_scan_poll_answered_other_than_200_is_counted_as_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bench_storm, "SCAN_POLL_SECONDS", 0.0)
    document_id = str(uuid.uuid4())
    answers = [
        httpx.Response(503, json={"type": "service-unavailable"}, headers={"Retry-After": "1"}),
        httpx.Response(200, json={"id": document_id, "status": "pending_scan"}),
        httpx.Response(500, json={"type": "internal-error"}),
        httpx.Response(200, json={"id": document_id, "status": "clean"}),
    ]
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        return answers.pop(0)

    applicant = Applicant(uuid.uuid4(), {"Authorization": "Bearer x"})
    outcome = Outcome()

    async def main() -> str:
        transport = httpx.MockTransport(answer)
        async with httpx.AsyncClient(transport=transport, base_url="http://storm") as client:
            return await bench_storm._scanned(
                client, applicant, {"id": document_id, "status": "pending_scan"}, outcome
            )

    assert asyncio.run(main()) == "clean"
    assert asked == [f"/api/v1/documents/{document_id}"] * 4
    assert outcome.errors == []  # the applicant went on
    assert [e.split(":")[0] for e in outcome.poll_errors] == [
        f"scan poll of {document_id} 503",
        f"scan poll of {document_id} 500",
    ]
    stopped = Outcome(errors=["submit 409: round-closed"])
    assert errors_of([outcome, stopped]) == [*outcome.poll_errors, "submit 409: round-closed"]
