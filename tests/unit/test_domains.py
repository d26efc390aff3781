"""Email domain rules: what an organization may claim, and which claims an owner's address
proves at once (the Public Suffix List from the ``publicsuffixlist`` package, webmail apart)."""

import socket
from typing import Any

import pytest
from publicsuffixlist import PublicSuffixList

from submissions.domains import (
    WEBMAIL_DOMAINS,
    email_domain,
    is_public_suffix,
    unclaimable_reason,
    verified_by_email,
    verified_by_owners,
)


@pytest.mark.parametrize(
    "domain",
    ["com", "co.kr", "ac.kr", "seoul.kr", "co.uk", "kobe.jp", "github.io", "s3.amazonaws.com"],
)
def test_public_suffixes_may_not_be_claimed(domain: str) -> None:
    assert is_public_suffix(domain)
    assert unclaimable_reason(domain) is not None
    assert "public suffix" in (unclaimable_reason(domain) or "")


@pytest.mark.parametrize("domain", ["gmail.com", "naver.com", "daum.net", "mail.yahoo.com"])
def test_webmail_domains_and_their_subdomains_may_not_be_claimed(domain: str) -> None:
    assert not is_public_suffix(domain)
    assert "webmail" in (unclaimable_reason(domain) or "")


@pytest.mark.parametrize(
    "domain", ["kaist.ac.kr", "lab.kaist.ac.kr", "example.com", "amazonaws.com", "acme.example"]
)
def test_an_organization_may_claim_a_registrable_domain_or_a_subdomain(domain: str) -> None:
    assert unclaimable_reason(domain) is None


def test_a_single_label_or_unknown_top_level_name_is_a_public_suffix() -> None:
    assert unclaimable_reason("example") is not None
    assert unclaimable_reason("") is not None


@pytest.mark.parametrize(
    ("claim", "proved"),
    [
        ("lab.kaist.ac.kr", True),
        ("kaist.ac.kr", True),
        ("LAB.Kaist.ac.kr.", True),
        ("ac.kr", False),  # the public suffix itself
        ("kr", False),
        ("cs.lab.kaist.ac.kr", False),  # below the address: not proven
        ("bio.kaist.ac.kr", False),  # a sibling
        ("snu.ac.kr", False),
        ("ab.kaist.ac.kr", False),  # a look-alike label, not a parent
    ],
)
def test_an_owner_address_proves_its_domain_and_parents_below_the_public_suffix(
    claim: str, proved: bool
) -> None:
    assert verified_by_email(claim, "alice@lab.kaist.ac.kr") is proved


def test_nothing_above_the_registrable_domain_is_proven_even_if_not_a_public_suffix() -> None:
    """s3.amazonaws.com is a public suffix: an address under it proves its own registrable
    domain, never amazonaws.com, the parent above that suffix."""
    assert verified_by_email("x.s3.amazonaws.com", "bob@x.s3.amazonaws.com")
    assert not verified_by_email("amazonaws.com", "bob@x.s3.amazonaws.com")


def test_a_webmail_address_proves_nothing() -> None:
    assert not verified_by_email("gmail.com", "mallory@gmail.com")
    assert not verified_by_email("kaist.ac.kr", "mallory@gmail.com")
    assert verified_by_owners(["kaist.ac.kr", "gmail.com"], ["mallory@gmail.com"]) == []


def test_claims_keep_their_order_and_any_owner_may_prove_one() -> None:
    owners = ["ceo@hanbit-ai.example.kr", "cto@lab.kaist.ac.kr"]
    claims = ["kaist.ac.kr", "other.org", "hanbit-ai.example.kr"]
    assert verified_by_owners(claims, owners) == ["kaist.ac.kr", "hanbit-ai.example.kr"]


def test_email_domain() -> None:
    assert email_domain("Ana@Sub.Example.COM.") == "sub.example.com"
    assert email_domain("no-at-sign") == ""
    assert {"gmail.com", "outlook.com", "naver.com", "daum.net"} <= WEBMAIL_DOMAINS


def test_the_list_ships_with_the_package_and_loads_without_a_network(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the Public Suffix List must not be fetched")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    psl = PublicSuffixList()
    assert psl.is_public("co.kr")
    assert psl.privatesuffix("lab.kaist.ac.kr") == "kaist.ac.kr"
