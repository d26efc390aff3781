"""Email domains: which ones an organization may claim, which claims count at once, and the
names every part of the portal compares them by.

Two lists decide what a domain says about who a person works for. The Public Suffix List (the
``publicsuffixlist`` package, which ships the list: nothing is fetched at run time) names the
suffixes under which anyone may register a name (``com``, ``co.kr``, ``ac.kr``, ``github.io``):
claiming one would claim everybody under it. ``WEBMAIL_DOMAINS`` names the public webmail
providers, whose addresses anyone can get. Neither is ever an organization's domain.

Pure functions over plain strings; conflict detection (``reviewers.conflict_detection``) uses
the same names and the same webmail list.
"""

from collections.abc import Iterable, Iterator
from functools import cache
from typing import Final

from publicsuffixlist import PublicSuffixList

WEBMAIL_DOMAINS: Final[frozenset[str]] = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "yahoo.com",
        "icloud.com",
        "me.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.de",
        "gmx.net",
        "mail.ru",
        "yandex.ru",
        "naver.com",
        "daum.net",
        "hanmail.net",
        "kakao.com",
        "qq.com",
        "163.com",
        "126.com",
    }
)
"""Public webmail providers: sharing one says nothing about who a person works for. Not a
stand-in for the Public Suffix List (which does not list them): the two are checked apart."""


@cache
def _public_suffix_list() -> PublicSuffixList:
    """The list shipped with the package (ICANN and private sections, as browsers use it),
    parsed once per process (about 50 ms). Unknown top-level names count as public suffixes."""
    return PublicSuffixList()


def normalize_domain(domain: str) -> str:
    """Lower-case ASCII (IDNA) form of a domain, without surrounding dots, ``@`` or spaces.

    Returns "" for anything that cannot name an organization: empty, single-label, or not
    encodable.
    """
    name = domain.strip().lstrip("@").strip(".").lower()
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            return ""
    if "." not in name or ".." in name:
        return ""
    return name


def email_domain(email: str) -> str:
    """The normalized domain of an email address ("" when it has none)."""
    return normalize_domain(email.rpartition("@")[2]) if "@" in email else ""


def parent_domains(domain: str) -> Iterator[str]:
    """The domain and each parent domain, label by label: a.b.c -> a.b.c, b.c, c."""
    labels = domain.split(".")
    for start in range(len(labels)):
        yield ".".join(labels[start:])


def is_webmail(domain: str) -> bool:
    """True when the (normalized) domain is a public webmail domain or a subdomain of one."""
    return any(suffix in WEBMAIL_DOMAINS for suffix in parent_domains(domain))


def is_public_suffix(domain: str) -> bool:
    """True when the (normalized) domain is a public suffix, such as ``com`` or ``co.kr``."""
    return _public_suffix_list().is_public(domain)


def unclaimable_reason(domain: str) -> str | None:
    """Why an organization may not claim this domain, or None when it may."""
    name = normalize_domain(domain)
    if not name or is_public_suffix(name):
        return "a public suffix (anyone may register names under it), not an organization's domain"
    if is_webmail(name):
        return "a public webmail domain, not an organization's domain"
    return None


def verified_by_email(claim: str, email: str) -> bool:
    """True when an owner with this email address proves the claim at once: the claim equals
    the address's domain, or is a parent of it below its public suffix (``alice@lab.kaist.ac.kr``
    proves ``lab.kaist.ac.kr`` and ``kaist.ac.kr``, never ``ac.kr``). Webmail proves nothing."""
    name, own = normalize_domain(claim), email_domain(email)
    if not name or not own or unclaimable_reason(name) is not None:
        return False
    registrable = _public_suffix_list().privatesuffix(own)
    if registrable is None:
        return False
    if not (own == name or own.endswith("." + name)):
        return False
    return name == registrable or name.endswith("." + registrable)


def verified_by_owners(claims: Iterable[str], owner_emails: Iterable[str]) -> list[str]:
    """The claims (in their order) that one of these owners' email addresses proves."""
    emails = list(owner_emails)
    return [c for c in claims if any(verified_by_email(c, e) for e in emails)]
