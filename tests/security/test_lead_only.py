"""Attack: a member organization of a consortium tries to change the lead's application.

Only the lead organization's members change an application (its fields, its documents, submit,
reopen, withdraw); a member organization reads it and gets 403 ``not-lead-member`` for the rest,
with nothing changed. Each write path is tried by the member organization's owner and by its plain
member, after the organization has confirmed (a full consortium member, not a mere listing).
"""

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.factories import ok
from tests.security.bids import API, Bids, Person, open_round
from tests.security.scenario import CSV


class Consortium:
    def __init__(self, bids: Bids) -> None:
        self.bids = bids
        self.lead = bids.organization("Lead Co")
        self.partner = bids.organization("Partner Lab")
        self.application = bids.bid(self.lead, members=[self.partner])["id"]
        ok(bids.confirm(self.application, self.partner))
        self.document = ok(bids.upload(self.application, self.lead.member), 201)

    def state(self) -> tuple[Any, Any]:
        """What an attack must leave as it was: the application and its documents."""
        reader = self.lead.owner
        application = ok(self.bids.get(f"/applications/{self.application}", reader))
        documents = ok(self.bids.get(f"/applications/{self.application}/documents", reader))
        return application, documents["items"]


@pytest.fixture
def consortium(app: FastAPI, client: TestClient) -> Consortium:
    return Consortium(open_round(app, client))


def _patch(c: Consortium, who: Person) -> Any:
    etag = c.bids.client.get(f"{API}/applications/{c.application}", headers=who.headers).headers[
        "etag"
    ]
    return c.bids.client.patch(
        f"{API}/applications/{c.application}",
        json={"title": "Hijacked", "summary": "ours now"},
        headers={**who.headers, "If-Match": etag},
    )


def _upload(c: Consortium, who: Person) -> Any:
    """A new version of the lead's document: it would become the current one."""
    return c.bids.upload(c.application, who, body=CSV + b"Hijack,1\n")


def _delete(c: Consortium, who: Person) -> Any:
    return c.bids.client.delete(f"{API}/documents/{c.document['id']}", headers=who.headers)


def _submit(c: Consortium, who: Person) -> Any:
    return c.bids.submit(c.application, who)


def _reopen(c: Consortium, who: Person) -> Any:
    return c.bids.client.post(f"{API}/applications/{c.application}/reopen", headers=who.headers)


def _withdraw(c: Consortium, who: Person) -> Any:
    return c.bids.client.post(f"{API}/applications/{c.application}/withdraw", headers=who.headers)


Attack = Callable[[Consortium, Person], Any]
ATTACKS: dict[str, tuple[Attack, bool]] = {
    # name: (the attack, whether the lead has submitted first so that the action is possible)
    "patch": (_patch, False),
    "upload": (_upload, False),
    "delete": (_delete, False),
    "submit": (_submit, False),
    "reopen": (_reopen, True),
    "withdraw": (_withdraw, True),
}


@pytest.mark.parametrize("who", ["owner", "member"])
@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_a_member_organization_changes_nothing_of_the_leads_application(
    consortium: Consortium, attack: str, who: str
) -> None:
    c = consortium
    run, submitted_first = ATTACKS[attack]
    if submitted_first:
        ok(c.bids.submit(c.application, c.lead.owner))
    attacker: Person = getattr(c.partner, who)
    # The attacker's organization takes part: they read the application and its documents.
    ok(c.bids.get(f"/applications/{c.application}", attacker))
    assert c.bids.get(f"/documents/{c.document['id']}/content", attacker).content == CSV
    before = c.state()

    response = run(c, attacker)

    assert response.status_code == 403, response.text
    assert response.json()["type"] == "not-lead-member"
    assert c.state() == before


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_a_plain_member_of_the_lead_organization_may(consortium: Consortium, attack: str) -> None:
    """The control: the same calls by a member of the lead organization pass the guard."""
    c = consortium
    run, submitted_first = ATTACKS[attack]
    if submitted_first:
        ok(c.bids.submit(c.application, c.lead.owner))
    response = run(c, c.lead.member)
    assert response.status_code in (200, 201, 204), response.text


def test_a_listed_organization_that_has_not_confirmed_changes_nothing_either(
    app: FastAPI, client: TestClient
) -> None:
    bids = open_round(app, client)
    lead, listed = bids.organization("Lead Co"), bids.organization("Listed Lab")
    application = bids.bid(lead, members=[listed])["id"]
    response = bids.upload(application, listed.owner)
    assert response.status_code == 403, response.text
    assert response.json()["type"] == "not-lead-member"
    assert ok(bids.get(f"/applications/{application}/documents", lead.owner))["items"] == []
