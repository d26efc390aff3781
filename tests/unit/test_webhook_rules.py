"""Webhook rules on plain values: which URLs may be targets (after DNS), the backoff."""

from collections.abc import Sequence
from datetime import timedelta

import pytest

from models.errors import Unprocessable
from notifications.webhooks import UrlPolicy, backoff, check_url


def resolver(*addresses: str) -> UrlPolicy:
    def resolve(_host: str) -> Sequence[str]:
        return addresses

    return UrlPolicy(resolve=resolve)


PUBLIC = resolver("93.184.216.34")


def test_a_public_https_url_passes() -> None:
    assert check_url("https://hooks.example.com/shortlist", PUBLIC) == ["93.184.216.34"]


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/x",  # not https
        "ftp://hooks.example.com/x",
        "https://user:pass@hooks.example.com/x",  # credentials
        "https:///nohost",
        "https://hooks.example.com:99999/x",  # bad port
        "https://hooks.example.com/x#frag",
        "javascript:alert(1)",
    ],
)
def test_malformed_or_plain_urls_are_refused(url: str) -> None:
    with pytest.raises(Unprocessable) as refused:
        check_url(url, PUBLIC)
    assert refused.value.type == "webhook-url-refused"


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.1.2.3",
        "10.0.0.8",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata (link-local)
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "::ffff:169.254.169.254",
        "224.0.0.1",
    ],
)
def test_a_host_resolving_to_a_non_public_address_is_refused(address: str) -> None:
    # Also when only one of its addresses is (DNS answering both).
    with pytest.raises(Unprocessable) as refused:
        check_url("https://innocent.example.com/hook", resolver("93.184.216.34", address))
    assert "non-public" in refused.value.detail
    allowed = UrlPolicy(resolve=resolver(address).resolve, allow_private=True)
    assert check_url("https://innocent.example.com/hook", allowed) == [address]


def test_http_only_to_loopback_while_the_portal_is_loopback() -> None:
    local = UrlPolicy(resolve=resolver("127.0.0.1").resolve, allow_private=True)
    with pytest.raises(Unprocessable):
        check_url("http://127.0.0.1:9000/hook", local)
    dev = UrlPolicy(
        resolve=resolver("127.0.0.1").resolve, allow_private=True, allow_http_loopback=True
    )
    assert check_url("http://127.0.0.1:9000/hook", dev) == ["127.0.0.1"]
    with pytest.raises(Unprocessable):
        check_url("http://hooks.example.com/hook", dev)


def test_an_unresolvable_host_is_refused() -> None:
    def fails(_host: str) -> Sequence[str]:
        raise OSError("no such host")

    with pytest.raises(Unprocessable):
        check_url("https://nowhere.invalid/", UrlPolicy(resolve=fails))


def test_backoff_doubles_up_to_an_hour() -> None:
    assert [backoff(n).total_seconds() for n in range(1, 6)] == [5, 10, 20, 40, 80]
    assert backoff(40) == timedelta(hours=1)
    # The waits sum past 24 hours well before 60 attempts: retried for at least a day.
    assert sum((backoff(n) for n in range(1, 60)), timedelta()) > timedelta(hours=26)
