"""A push endpoint is a URL a web page hands to the server: in production only https on port 443
at public addresses is accepted (no server-side request forgery); development and the tests may
use this machine over http. Names are resolved by a stand-in resolver: no test uses DNS."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterable
from ipaddress import IPv4Address, IPv6Address, ip_address
from pathlib import Path
from typing import Any

import pytest
import requests
from py_vapid import Vapid02
from pywebpush import WebPushException, webpush

from dosewise.errors import InputError
from dosewise.services.push_endpoints import (
    CheckedEndpoint,
    EndpointNotResolved,
    build_pinned_session,
    check_push_endpoint,
    pinned_addresses,
    resolve_push_endpoint,
)
from push_service import PushService, make_tls_context

DNS = {
    "fcm.googleapis.com": ["142.250.180.10", "2a00:1450:4009:81f::200a"],
    "updates.push.services.mozilla.com": ["34.107.221.82"],
    "push.example.com": ["142.250.180.12"],
    "xn--bcher-kva.example": ["142.250.180.11"],
    "nat64public.example.com": ["64:ff9b::8efa:b40a"],  # 142.250.180.10 through NAT64
    "internal.example.com": ["10.0.0.5"],
    "mixed.example.com": ["142.250.180.10", "192.168.1.20"],  # one public, one private
    "metadata.example.com": ["169.254.169.254"],
    "v6private.example.com": ["fd12:3456::1"],
    "mapped.example.com": ["::ffff:127.0.0.1"],
    "nat64.example.com": ["64:ff9b::a00:1"],  # 10.0.0.1 through NAT64
    "zero.example.com": ["0.0.0.0"],
    "cgnat.example.com": ["100.64.1.1"],
    "multicast.example.com": ["224.0.0.251"],
    "linklocal6.example.com": ["fe80::1%eth0"],
    "localhost": ["127.0.0.1", "::1"],
}

Resolver = Callable[[str, int], Iterable[tuple[Any, ...]]]


def resolver(table: dict[str, list[str]], calls: list[tuple[str, int]] | None = None) -> Resolver:
    """A stand-in for socket.getaddrinfo: answers from the table, as getaddrinfo does (twice
    each address: a stream and a datagram socket), or fails like an unknown name."""

    def resolve(host: str, port: int) -> list[tuple[Any, ...]]:
        if calls is not None:
            calls.append((host, port))
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        answers = []
        for text in table[host]:
            family = socket.AF_INET6 if ":" in text else socket.AF_INET
            sockaddr = (text, port, 0, 0) if family == socket.AF_INET6 else (text, port)
            answers += [(family, kind, 0, "", sockaddr) for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM)]
        return answers

    return resolve


def no_dns(host: str, port: int) -> list[tuple[Any, ...]]:
    raise AssertionError(f"an address needs no DNS, yet {host} was looked up")


# (url, production, development): an expected URL (normalized) is accepted; any other text is a
# refusal whose message must contain it.
TABLE = [
    # what browsers' push services give
    ("https://fcm.googleapis.com/fcm/send/cX1:APA91bH", "=", "="),
    ("https://updates.push.services.mozilla.com/wpush/v2/gAAAAABk", "=", "="),
    (
        "HTTPS://FCM.googleapis.COM:443/fcm/send/x?a=1",
        "https://fcm.googleapis.com/fcm/send/x?a=1",
        "https://fcm.googleapis.com/fcm/send/x?a=1",
    ),
    ("https://push.example.com", "https://push.example.com/", "https://push.example.com/"),
    (
        "https://bücher.example/push",
        "https://xn--bcher-kva.example/push",
        "https://xn--bcher-kva.example/push",
    ),
    ("https://142.250.180.10/push", "=", "="),
    (
        "https://[2a00:1450:4009:081f:0::200a]/p",
        "https://[2a00:1450:4009:81f::200a]/p",
        "https://[2a00:1450:4009:81f::200a]/p",
    ),
    ("https://nat64public.example.com/p", "=", "="),
    # this machine: development and tests only
    ("http://127.0.0.1:8123/push/a", "must start with https://, not http://", "="),
    ("http://[::1]:8123/push/a", "must start with https://, not http://", "="),
    ("http://localhost:8123/push/a", "must start with https://, not http://", "="),
    ("http://LOCALHOST:8123/push/a", "must start with https://", "http://localhost:8123/push/a"),
    ("https://127.0.0.1/push", "127.0.0.1 is a loopback address (this machine)", "="),
    ("https://localhost/push", "localhost is this server, not a push service", "="),
    ("https://app.localhost/push", "app.localhost is this server", "app.localhost is this server"),
    ("http://127.0.0.2:8123/", "must start with https://", "or http:// on this machine"),
    ("http://fcm.googleapis.com/fcm/send/x", "must start with https://", "or http:// on this machine"),
    # the same places written another way
    ("http://2130706433/", "'2130706433' is neither a host name nor a dotted IPv4", "neither a host name"),
    ("http://0x7f.1/", "'0x7f.1' is neither a host name nor", "neither a host name"),
    ("https://127.1/", "'127.1' is neither", "neither"),
    ("https://0177.0.0.1/", "neither", "neither"),
    ("https://%31%32%37.0.0.1/", "neither", "neither"),
    ("https://１２７.０.０.１/", "127.0.0.1 is a loopback address", "https://127.0.0.1/"),
    (
        "https://[::ffff:10.0.0.1]/",
        "::ffff:a00:1 is an IPv4-mapped form of 10.0.0.1, a private address",
        "mapped",
    ),
    ("https://[::ffff:127.0.0.1]/", "IPv4-mapped form of 127.0.0.1, a loopback address", "IPv4-mapped form"),
    ("https://mapped.example.com/", "resolves to ::ffff:7f00:1, an IPv4-mapped form of 127.0.0.1", "mapped"),
    ("https://[2002:a00:1::]/", "a 6to4 form of 10.0.0.1, a private address", "6to4"),
    ("https://nat64.example.com/", "resolves to 64:ff9b::a00:1, a NAT64 form of 10.0.0.1", "NAT64 form"),
    ("https://[::a00:1]/", "an IPv4-compatible form of 10.0.0.1", "IPv4-compatible"),
    ("https://localhost./", "the host name ends in a dot: write 'localhost' without it", "ends in a dot"),
    ("https://push.example.com./", "ends in a dot: write 'push.example.com'", "ends in a dot"),
    # names that resolve where a push endpoint must not be
    (
        "https://internal.example.com/p",
        "internal.example.com resolves to 10.0.0.5, a private address",
        "private",
    ),
    (
        "https://mixed.example.com/p",
        "mixed.example.com resolves to 192.168.1.20, a private address",
        "private",
    ),
    ("https://metadata.example.com/", "resolves to 169.254.169.254, the cloud metadata address", "metadata"),
    (
        "https://169.254.169.254/latest/meta-data/",
        "169.254.169.254 is the cloud metadata address",
        "metadata",
    ),
    ("https://[fd00:ec2::254]/", "fd00:ec2::254 is the cloud metadata address", "metadata"),
    (
        "https://v6private.example.com/",
        "resolves to fd12:3456::1, a unique local address (fc00::/7)",
        "unique",
    ),
    ("https://zero.example.com/", "resolves to 0.0.0.0, the unspecified address", "unspecified"),
    ("https://0.0.0.0/", "0.0.0.0 is the unspecified address", "unspecified"),
    ("https://[::]/", ":: is the unspecified address", "unspecified"),
    ("https://cgnat.example.com/", "a shared address (carrier-grade NAT)", "shared"),
    ("https://multicast.example.com/", "224.0.0.251, a multicast address", "multicast"),
    ("https://[ff02::1]/", "ff02::1 is a multicast address", "multicast"),
    ("https://linklocal6.example.com/", "resolves to fe80::1, a link-local address", "link-local"),
    ("https://192.0.2.10/", "192.0.2.10 is a special-purpose address, not a public one", "special-purpose"),
    ("https://[fec0::1]/", "a site-local address", "site-local"),
    ("https://nowhere.example.com/", "nowhere.example.com could not be found (DNS)", "could not be found"),
    # the URL itself
    ("https://user@push.example.com/", "carries no user name or password", "no user name or password"),
    ("https://user:pw@push.example.com/", "carries no user name or password", "no user name or password"),
    ("http://user@localhost:8123/", "no user name or password", "no user name or password"),
    (
        "https://push.example.com:8443/",
        "uses port 443, the https port push services listen on, not 8443",
        "8443",
    ),
    ("https://push.example.com:99999/", "port must be a number from 1 to 65535", "from 1 to 65535"),
    ("https://push.example.com:abc/", "port must be a number", "port must be a number"),
    ("http://127.0.0.1:0/", "must start with https://", "port must be a number from 1 to 65535"),
    ("https://push.example.com/p#top", "has no '#' part", "no '#' part"),
    ("https://push.example.com/a b", "no spaces, control characters or backslashes", "no spaces"),
    ("https://push.example.com/\tp", "no spaces", "no spaces"),
    ("https://evil.example\\@push.example.com/", "backslashes", "backslashes"),
    ("https://push_1.example.com/", "'push_1.example.com' is not a valid host name", "not a valid host name"),
    ("https://-push.example.com/", "not a valid host name", "not a valid host name"),
    ("https://[fe80::1%25eth0]/", "is not an IPv6 address in brackets", "not an IPv6 address"),
    ("https://[::1]x/", "is not an IPv6 address in brackets", "not an IPv6 address"),
    ("https://[::1/", "is not a URL", "is not a URL"),
    ("ftp://push.example.com/", "must start with https://, not ftp://", "not ftp://"),
    ("javascript:alert(1)", "is not a full URL with a host", "not a full URL"),
    ("push.example.com/push", "is not a full URL with a host", "not a full URL"),
    ("https:///push", "not a full URL", "not a full URL"),
    ("https://push.example.com/" + "a" * 1975, "=", "="),
    ("https://push.example.com/" + "a" * 1976, "at most 2,000 characters (this one has 2,001)", "2,001"),
]


def expected(url: str, outcome: str) -> str:
    return url if outcome == "=" else outcome


@pytest.mark.parametrize(("url", "production", "development"), TABLE, ids=[row[0][:60] for row in TABLE])
def test_push_endpoints_in_production_and_development(url: str, production: str, development: str) -> None:
    for allow_loopback_http, outcome in (
        (False, expected(url, production)),
        (True, expected(url, development)),
    ):
        mode = "development" if allow_loopback_http else "production"
        if outcome.startswith(("https://", "http://")):
            normalized = check_push_endpoint(
                url, allow_loopback_http=allow_loopback_http, resolve=resolver(DNS)
            )
            assert normalized == outcome, mode
            assert check_push_endpoint(
                normalized, allow_loopback_http=allow_loopback_http, resolve=resolver(DNS)
            ) == (normalized), f"{mode}: the normalized URL passes as it is"
            continue
        with pytest.raises(InputError) as refusal:
            check_push_endpoint(url, allow_loopback_http=allow_loopback_http, resolve=resolver(DNS))
        assert outcome in str(refusal.value), mode
        assert refusal.value.field == "endpoint"


def test_an_international_name_is_resolved_and_sent_as_idna() -> None:
    calls: list[tuple[str, int]] = []
    url = check_push_endpoint(
        "https://Bücher.example/push", allow_loopback_http=False, resolve=resolver(DNS, calls)
    )
    assert url == "https://xn--bcher-kva.example/push"
    assert calls == [("xn--bcher-kva.example", 443)]


def test_addresses_need_no_dns() -> None:
    assert pinned_addresses("https://142.250.180.10/p", allow_loopback_http=False, resolve=no_dns) == (
        IPv4Address("142.250.180.10"),
    )
    assert pinned_addresses("http://[::1]:9/p", allow_loopback_http=True, resolve=no_dns) == (
        IPv6Address("::1"),
    )


def test_pinned_addresses_are_every_address_checked_once() -> None:
    calls: list[tuple[str, int]] = []
    addresses = pinned_addresses(
        "https://fcm.googleapis.com/x", allow_loopback_http=False, resolve=resolver(DNS, calls)
    )
    assert addresses == (ip_address("142.250.180.10"), ip_address("2a00:1450:4009:81f::200a"))
    assert calls == [("fcm.googleapis.com", 443)]
    with pytest.raises(InputError, match=r"192\.168\.1\.20, a private address"):
        pinned_addresses("https://mixed.example.com/x", allow_loopback_http=False, resolve=resolver(DNS))


def test_localhost_must_resolve_to_this_machine() -> None:
    hosts = {"localhost": ["127.0.0.1", "10.1.2.3"]}
    with pytest.raises(InputError, match=r"localhost resolves to 10\.1\.2\.3, which is not this machine"):
        check_push_endpoint("http://localhost:8000/p", allow_loopback_http=True, resolve=resolver(hosts))


def test_a_name_that_changes_its_answer_is_caught_when_checked_again() -> None:
    """DNS rebinding: public when the subscription is saved, private when the push is sent.
    The sender checks again just before it sends, and connects to what it checked."""
    answers = iter([["142.250.180.10"], ["10.0.0.5"]])

    def rebinding(host: str, port: int) -> list[tuple[Any, ...]]:
        return resolver({host: next(answers)})(host, port)

    url = check_push_endpoint("https://push.example.com/x", allow_loopback_http=False, resolve=rebinding)
    with pytest.raises(InputError, match=r"resolves to 10\.0\.0\.5, a private address"):
        resolve_push_endpoint(url, allow_loopback_http=False, resolve=rebinding)


def test_a_name_without_an_address_can_be_told_from_a_refusal() -> None:
    """A sender may retry a DNS failure later; a refused endpoint stays refused."""
    with pytest.raises(EndpointNotResolved, match=r"nowhere\.example\.com could not be found"):
        check_push_endpoint("https://nowhere.example.com/", allow_loopback_http=False, resolve=resolver(DNS))
    with pytest.raises(EndpointNotResolved, match="has no address"):
        check_push_endpoint(
            "https://push.example.com/", allow_loopback_http=False, resolve=lambda host, port: []
        )
    with pytest.raises(InputError) as refusal:
        check_push_endpoint("https://internal.example.com/", allow_loopback_http=False, resolve=resolver(DNS))
    assert not isinstance(refusal.value, EndpointNotResolved)


# --- sending to a checked address (pywebpush's requests_session) ------------------------------


@pytest.fixture(scope="module")
def vapid() -> Vapid02:
    key = Vapid02()
    key.generate_keys()
    return key


def send(session: requests.Session, subscription: dict[str, Any], vapid: Vapid02, data: str) -> Any:
    return webpush(
        subscription,
        data,
        vapid_private_key=vapid,
        vapid_claims={"sub": "mailto:ops@dosewise.example"},
        requests_session=session,
        timeout=10,
    )


def test_a_pinned_session_delivers_through_pywebpush(vapid: Vapid02) -> None:
    with PushService(endpoint_host="localhost") as push:
        subscription = push.new_subscription()
        checked = resolve_push_endpoint(
            subscription["endpoint"], allow_loopback_http=True, resolve=resolver({"localhost": ["127.0.0.1"]})
        )
        with build_pinned_session(checked) as session:
            send(session, subscription, vapid, json.dumps({"kind": "dose_reminder"}))
            send(session, subscription, vapid, json.dumps({"kind": "follow_up"}))
        deliveries = push.wait_for(2)
    assert [d.json for d in deliveries] == [{"kind": "dose_reminder"}, {"kind": "follow_up"}]
    assert deliveries[0].headers["host"] == f"localhost:{push.port}"


def test_a_pinned_session_connects_to_the_checked_address_not_to_the_name(vapid: Vapid02) -> None:
    """``push.invalid`` has no address in any DNS: the push arrives only because the session
    connects to the address that was checked (127.0.0.1) and never looks the name up."""
    with PushService(endpoint_host="push.invalid") as push:
        subscription = push.new_subscription()
        checked = CheckedEndpoint(
            url=subscription["endpoint"],
            scheme="http",
            host="push.invalid",
            port=push.port,
            addresses=(IPv4Address("127.0.0.1"),),
        )
        with build_pinned_session(checked) as session:
            send(session, subscription, vapid, "hello")
            with pytest.raises(requests.exceptions.InvalidURL, match="sends only to the checked endpoint"):
                session.post(f"http://127.0.0.1:{push.port}/push/x", timeout=10)
        [delivery] = push.wait_for(1)
    assert delivery.headers["host"] == f"push.invalid:{push.port}"
    assert [a.status for a in push.attempts] == [201]


def test_a_pinned_session_does_not_follow_a_redirect(push_service: PushService, vapid: Vapid02) -> None:
    subscription = push_service.new_subscription()
    elsewhere = subscription["endpoint"] + "?moved"  # where a redirect could send the POST
    checked = resolve_push_endpoint(subscription["endpoint"], allow_loopback_http=True, resolve=no_dns)

    push_service.fail_next(1, 307, headers={"Location": elsewhere})
    with requests.Session() as plain:  # what the pinned session prevents: the POST follows
        send(plain, subscription, vapid, "followed")
    assert [a.status for a in push_service.attempts] == [307, 201]

    push_service.fail_next(1, 307, headers={"Location": elsewhere})
    with build_pinned_session(checked) as session, pytest.raises(WebPushException) as refusal:
        send(session, subscription, vapid, "not followed")
    assert refusal.value.status_code == 307
    assert [a.status for a in push_service.attempts] == [307, 201, 307]


def test_a_pinned_session_tries_the_next_checked_address_when_one_cannot_be_reached(
    vapid: Vapid02,
) -> None:
    """``localhost`` resolves to ::1 first, but the service listens on 127.0.0.1 only."""
    with PushService(endpoint_host="localhost") as push:
        subscription = push.new_subscription()
        checked = resolve_push_endpoint(
            subscription["endpoint"],
            allow_loopback_http=True,
            resolve=resolver({"localhost": ["::1", "127.0.0.1"]}),
        )
        assert checked.addresses == (IPv6Address("::1"), IPv4Address("127.0.0.1"))
        with build_pinned_session(checked) as session:
            send(session, subscription, vapid, "through the second address")
        assert [d.payload for d in push.wait_for(1)] == [b"through the second address"]

        nowhere = CheckedEndpoint(
            url=subscription["endpoint"],
            scheme="http",
            host="localhost",
            port=push.port,
            addresses=(IPv6Address("::1"), IPv4Address("127.0.0.2")),
        )
        with build_pinned_session(nowhere) as session, pytest.raises(requests.exceptions.ConnectionError):
            session.post(subscription["endpoint"], data=b"x", timeout=5)
    assert len(push.attempts) == 1


def test_a_pinned_https_session_names_the_host_for_sni_and_the_certificate(
    tmp_path: Path, vapid: Vapid02
) -> None:
    context, certificate = make_tls_context("push.invalid", tmp_path)
    server_names: list[str | None] = []
    context.sni_callback = lambda connection, name, _context: server_names.append(name)
    with PushService(endpoint_host="push.invalid", ssl_context=context) as push:
        subscription = push.new_subscription()
        checked = CheckedEndpoint(
            url=subscription["endpoint"],
            scheme="https",
            host="push.invalid",
            port=push.port,
            addresses=(IPv4Address("127.0.0.1"),),
        )
        with build_pinned_session(checked) as session:
            session.verify = str(certificate)
            send(session, subscription, vapid, "over TLS")
        [delivery] = push.wait_for(1)
    assert delivery.payload == b"over TLS"
    assert delivery.vapid_claims["aud"] == f"https://push.invalid:{push.port}"
    assert server_names == ["push.invalid"]


def test_a_pinned_https_session_refuses_a_certificate_for_another_name(
    tmp_path: Path, vapid: Vapid02
) -> None:
    context, certificate = make_tls_context("other.invalid", tmp_path)
    with PushService(endpoint_host="push.invalid", ssl_context=context) as push:
        subscription = push.new_subscription()
        checked = CheckedEndpoint(
            url=subscription["endpoint"],
            scheme="https",
            host="push.invalid",
            port=push.port,
            addresses=(IPv4Address("127.0.0.1"),),
        )
        with build_pinned_session(checked) as session:
            session.verify = str(certificate)
            with pytest.raises(requests.exceptions.SSLError):
                send(session, subscription, vapid, "not to an impostor")
    assert push.attempts == []


def test_a_pinned_session_never_sends_again_to_another_address_once_connected() -> None:
    """A push service that drops the connection after reading the request may have taken the
    push: trying the next address would send it twice."""
    with socket.create_server(("127.0.0.1", 0)) as first:
        port = first.getsockname()[1]
        with socket.create_server(("127.0.0.2", port)) as second:
            second.settimeout(0.5)

            def drop_after_reading() -> None:
                connection, _ = first.accept()
                with connection:
                    connection.recv(65536)

            reader = threading.Thread(target=drop_after_reading)
            reader.start()
            checked = CheckedEndpoint(
                url=f"http://localhost:{port}/push/a",
                scheme="http",
                host="localhost",
                port=port,
                addresses=(IPv4Address("127.0.0.1"), IPv4Address("127.0.0.2")),
            )
            with build_pinned_session(checked) as session, pytest.raises(requests.exceptions.ConnectionError):
                session.post(checked.url, data=b"a push", timeout=5)
            reader.join()
            with pytest.raises(TimeoutError):
                second.accept()  # nothing came to the second address
