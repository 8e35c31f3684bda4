"""Push endpoints: the URLs a browser's push service gives, checked before Dosewise posts to one.

A push subscription's endpoint is a URL that a web page hands to the server, so the server must
not post to wherever it says (server-side request forgery: the clinic's database, the cloud
metadata address, a router's admin page). In production an endpoint is accepted only when it is
``https`` on port 443, without credentials or a fragment, at most 2,000 characters, and every
address its host resolves to is public. In development and in the tests
(``allow_loopback_http``), ``http://127.0.0.1``, ``http://[::1]`` and ``http://localhost`` on
any port are allowed as well (https too), and nothing else that is not public.

A check done at subscription time proves nothing at send time: the name may resolve elsewhere
by then (DNS rebinding). So the sender resolves and checks again just before it sends, and
connects to an address it checked: :func:`resolve_push_endpoint` gives the checked addresses,
:func:`build_pinned_session` a ``requests`` session that connects only to them (the next one
when one cannot be reached), with the host name kept for the ``Host`` header, TLS SNI and the
certificate check, and that never follows a redirect (pywebpush takes it as
``requests_session``).
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError

from dosewise.errors import InputError

if TYPE_CHECKING:
    from urllib3.connectionpool import HTTPConnectionPool

IPAddress = IPv4Address | IPv6Address
# socket.getaddrinfo, or a stand-in in the tests: (host, port) -> [(family, type, proto, name, sockaddr)]
Resolver = Callable[[str, int], Iterable[tuple[Any, ...]]]

MAX_ENDPOINT_CHARS = 2000  # real endpoints are under 500 characters; a longer one is not a push URL
# Push services (FCM, Mozilla autopush, Apple, Windows) all listen on the https port. Another
# port would let a page aim the server at other services on a public host (a port scan).
PUSH_PORT = 443
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
FIELD = "endpoint"

_NAT64 = IPv6Network("64:ff9b::/96")  # RFC 6052: the IPv4 address is the last 32 bits
_NAT64_LOCAL = IPv6Network("64:ff9b:1::/48")  # RFC 8215: local-use translation
_IPV4_COMPATIBLE = IPv6Network("::/96")  # deprecated ::a.b.c.d
_SHARED = IPv4Network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598)
_PRIVATE = (
    IPv4Network("10.0.0.0/8"),
    IPv4Network("172.16.0.0/12"),
    IPv4Network("192.168.0.0/16"),
)
_UNIQUE_LOCAL = IPv6Network("fc00::/7")
_METADATA = (IPv4Address("169.254.169.254"), IPv6Address("fd00:ec2::254"))
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_NUMBER = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")  # WHATWG: a host ending in one is an IPv4 address
_BRACKETED = re.compile(r"^\[[0-9a-fA-F:.]+\](:[0-9]*)?$")
_UNSAFE = re.compile(r"[\x00-\x20\x7f\\]")  # spaces, control characters, backslashes


class EndpointNotResolved(InputError):
    """The endpoint's host name could not be resolved (no DNS answer, or none with an address).

    At subscription time it is bad input like any other; at send time it may pass (a DNS
    outage), so a sender can retry it later, where any other InputError will not change.
    """


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckedEndpoint:
    """A push endpoint that passed the check, with the addresses its host resolved to."""

    url: str  # normalized: lower-case scheme and host, IDNA host, no default port
    scheme: str
    host: str  # as in the URL, without IPv6 brackets (ASCII, lower case)
    port: int
    addresses: tuple[IPAddress, ...]  # every one checked; connect to one of these


def check_push_endpoint(
    url: str, *, allow_loopback_http: bool, resolve: Resolver = socket.getaddrinfo
) -> str:
    """The normalized endpoint URL, or InputError saying what to fix.

    Production (``allow_loopback_http=False``): https, port 443, no credentials, no fragment,
    at most 2,000 characters, and a host whose every address is public. Development and tests
    also accept 127.0.0.1, [::1] and localhost over http or https on any port.
    """
    return resolve_push_endpoint(url, allow_loopback_http=allow_loopback_http, resolve=resolve).url


def pinned_addresses(
    url: str, *, allow_loopback_http: bool, resolve: Resolver = socket.getaddrinfo
) -> tuple[IPAddress, ...]:
    """The addresses the endpoint's host resolves to, every one checked.

    Resolve once, check, and connect to one of these (:func:`build_pinned_session`): resolving
    the name again to connect would let its DNS answer change in between (DNS rebinding).
    """
    return resolve_push_endpoint(url, allow_loopback_http=allow_loopback_http, resolve=resolve).addresses


def resolve_push_endpoint(
    url: str, *, allow_loopback_http: bool, resolve: Resolver = socket.getaddrinfo
) -> CheckedEndpoint:
    """The endpoint checked and resolved (see :func:`check_push_endpoint`), or InputError."""
    parts = _split(url)
    host, literal = _read_host(parts)
    loopback = allow_loopback_http and host in LOOPBACK_HOSTS
    scheme = parts.scheme.lower()
    if scheme != "https" and not (loopback and scheme == "http"):
        raise InputError(_scheme_message(scheme, host, allow_loopback_http=allow_loopback_http), field=FIELD)
    port = _read_port(parts)
    if not loopback and port not in (None, PUSH_PORT):
        raise InputError(
            f"a push endpoint uses port {PUSH_PORT}, the https port push services listen on, not {port}",
            field=FIELD,
        )
    if (host == "localhost" or host.endswith(".localhost")) and not loopback:
        raise InputError(f"{host} is this server, not a push service: {_USE_BROWSERS}", field=FIELD)
    effective_port = port if port is not None else (PUSH_PORT if scheme == "https" else 80)
    if literal is not None:
        addresses: tuple[IPAddress, ...] = (literal,)
    else:
        addresses = _resolve(host, effective_port, resolve)
    for address in addresses:
        _check_address(address, host=host, literal=literal is not None, loopback=loopback)
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and not (scheme == "https" and port == PUSH_PORT):
        netloc += f":{port}"
    normalized = urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))
    return CheckedEndpoint(url=normalized, scheme=scheme, host=host, port=effective_port, addresses=addresses)


_USE_BROWSERS = "use the endpoint the browser's push service gave (https on a public address)"


def _split(url: str) -> SplitResult:
    if len(url) > MAX_ENDPOINT_CHARS:
        raise InputError(
            f"a push endpoint is at most {MAX_ENDPOINT_CHARS:,} characters (this one has {len(url):,}): "
            + _USE_BROWSERS,
            field=FIELD,
        )
    if _UNSAFE.search(url):
        raise InputError("a push endpoint has no spaces, control characters or backslashes", field=FIELD)
    if "#" in url:
        raise InputError("a push endpoint has no '#' part: remove it and what follows", field=FIELD)
    try:
        parts = urlsplit(url)
    except ValueError:  # "[::1" and the like
        raise InputError(f"{url[:80]!r} is not a URL: {_USE_BROWSERS}", field=FIELD) from None
    if not parts.scheme or not parts.netloc:
        raise InputError(f"{url[:80]!r} is not a full URL with a host: {_USE_BROWSERS}", field=FIELD)
    if "@" in parts.netloc:
        raise InputError(
            "a push endpoint carries no user name or password: remove what stands before '@'", field=FIELD
        )
    return parts


def _read_host(parts: SplitResult) -> tuple[str, IPAddress | None]:
    """The host as it goes in the URL (ASCII, lower case), and its address when it is one."""
    raw = parts.hostname or ""
    if not raw:
        raise InputError("the push endpoint has no host name", field=FIELD)
    if parts.netloc.startswith("["):
        if not _BRACKETED.match(parts.netloc) or "%" in raw:
            raise InputError(f"{parts.netloc!r} is not an IPv6 address in brackets (and a port)", field=FIELD)
        try:
            address = IPv6Address(raw)
        except ValueError:
            raise InputError(f"[{raw}] is not an IPv6 address", field=FIELD) from None
        return address.compressed, address
    try:
        host = raw.encode("idna").decode("ascii").lower() if not raw.isascii() else raw.lower()
    except UnicodeError:
        raise InputError(f"{raw!r} is not a valid international host name", field=FIELD) from None
    if host.endswith("."):
        raise InputError(f"the host name ends in a dot: write {host.rstrip('.')!r} without it", field=FIELD)
    labels = host.split(".")
    if _NUMBER.match(labels[-1]):  # browsers read 2130706433, 0x7f.1 or 127.1 as 127.0.0.1
        try:
            address4 = IPv4Address(host)
        except ValueError:
            raise InputError(
                f"{host!r} is neither a host name nor a dotted IPv4 address such as 203.0.113.5",
                field=FIELD,
            ) from None
        return str(address4), address4
    if len(host) > 253 or not all(_LABEL.match(label) for label in labels):
        raise InputError(f"{host!r} is not a valid host name", field=FIELD)
    return host, None


def _read_port(parts: SplitResult) -> int | None:
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise InputError("the push endpoint's port must be a number from 1 to 65535", field=FIELD)
    return port


def _scheme_message(scheme: str, host: str, *, allow_loopback_http: bool) -> str:
    if allow_loopback_http:
        return (
            f"a push endpoint must start with https:// (or http:// on this machine: 127.0.0.1, [::1], "
            f"localhost), not {scheme}://{host}"
        )
    return f"a push endpoint must start with https://, not {scheme}://: {_USE_BROWSERS}"


def _resolve(host: str, port: int, resolve: Resolver) -> tuple[IPAddress, ...]:
    try:
        answers = list(resolve(host, port))
    except (OSError, UnicodeError):  # socket.gaierror is an OSError
        raise EndpointNotResolved(
            f"{host} could not be found (DNS): check the endpoint, or try again later", field=FIELD
        ) from None
    addresses: list[IPAddress] = []
    for answer in answers:
        text = str(answer[4][0]).split("%")[0]  # an IPv6 scope ("fe80::1%eth0") is link-local anyway
        address = ip_address(text)
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise EndpointNotResolved(f"{host} has no address (DNS): check the endpoint", field=FIELD)
    return tuple(addresses)


def _check_address(address: IPAddress, *, host: str, literal: bool, loopback: bool) -> None:
    if loopback:
        if not address.is_loopback:
            raise InputError(f"{host} resolves to {address}, which is not this machine", field=FIELD)
        return
    why = describe_non_public(address)
    if why is None:
        return
    where = f"{address} is {why}" if literal else f"{host} resolves to {address}, {why}"
    raise InputError(f"{where}: a push endpoint must be on a public address; {_USE_BROWSERS}", field=FIELD)


def describe_non_public(address: IPAddress) -> str | None:
    """What kind of non-public address this is ("a private address"), or None when public."""
    if isinstance(address, IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            kind, inner = embedded
            why = describe_non_public(inner)
            return None if why is None else f"{kind} of {inner}, {why}"
        if address in _NAT64_LOCAL:
            return "a local-use NAT64 address"
        if address.teredo is not None:
            return "a Teredo tunnel address"
        if address in _UNIQUE_LOCAL and address not in _METADATA:
            return "a unique local address (fc00::/7)"
    return _describe_common(address)


def _embedded_ipv4(address: IPv6Address) -> tuple[str, IPv4Address] | None:
    if address.ipv4_mapped is not None:
        return "an IPv4-mapped form", address.ipv4_mapped
    if address in _NAT64:
        return "a NAT64 form", IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return "a 6to4 form", address.sixtofour
    if address in _IPV4_COMPATIBLE and int(address) > 1:  # not :: or ::1
        return "an IPv4-compatible form", IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _describe_common(address: IPAddress) -> str | None:
    if address in _METADATA:
        return "the cloud metadata address"
    if address.is_unspecified:
        return "the unspecified address (no host)"
    if address.is_loopback:
        return "a loopback address (this machine)"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if isinstance(address, IPv4Address) and address in _SHARED:
        return "a shared address (carrier-grade NAT)"
    if isinstance(address, IPv4Address) and any(address in network for network in _PRIVATE):
        return "a private address"
    if isinstance(address, IPv6Address) and address.is_site_local:
        return "a site-local address (fec0::/10)"
    if address.is_private or address.is_reserved or not address.is_global:
        return "a special-purpose address, not a public one"
    return None


# --- sending to a checked address ------------------------------------------------------------


class PinnedAddressAdapter(HTTPAdapter):
    """A transport that sends every request for one checked endpoint to its checked addresses.

    The URL keeps its host name: it goes in the ``Host`` header, in TLS SNI and in the
    certificate check, while the connection goes to a checked address, so no second DNS
    answer is ever used (DNS rebinding). The addresses are tried in order while a connection
    cannot be made (an IPv6 address on a server without IPv6), never once a request may have
    been sent. A request for any other origin is refused. One adapter per thread, as for
    ``requests`` sessions.
    """

    def __init__(self, endpoint: CheckedEndpoint) -> None:
        if not endpoint.addresses:
            raise ValueError(f"{endpoint.host} has no checked address")
        super().__init__(max_retries=0)
        self.endpoint = endpoint
        self.address = endpoint.addresses[0]  # the one being tried

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> requests.Response:
        unreachable: requests.exceptions.ConnectionError | None = None
        for address in self.endpoint.addresses:
            self.address = address
            try:
                return super().send(
                    request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies
                )
            except requests.exceptions.ConnectionError as error:
                if not _never_connected(error):
                    raise  # the request may have gone out: sending it again could repeat a push
                unreachable = error
        assert unreachable is not None  # there is at least one address
        raise unreachable

    def get_connection_with_tls_context(
        self,
        request: requests.PreparedRequest,
        verify: bool | str,
        proxies: dict[str, str] | None = None,
        cert: str | tuple[str, str] | None = None,
    ) -> HTTPConnectionPool:
        parts = urlsplit(request.url or "")
        port = parts.port or (PUSH_PORT if parts.scheme == "https" else 80)
        if (parts.scheme, parts.hostname, port) != (
            self.endpoint.scheme,
            self.endpoint.host,
            self.endpoint.port,
        ):
            raise requests.exceptions.InvalidURL(
                f"this session sends only to the checked endpoint {self.endpoint.url}", request=request
            )
        host_params, pool_kwargs = self.build_connection_pool_key_attributes(request, verify, cert)
        host_params["host"] = str(self.address)
        if self.endpoint.scheme == "https" and self.endpoint.host != str(self.address):
            pool_kwargs["server_hostname"] = self.endpoint.host  # SNI: the name, not the address
            pool_kwargs["assert_hostname"] = self.endpoint.host  # the certificate must name the host
        pool: HTTPConnectionPool = self.poolmanager.connection_from_host(
            **host_params, pool_kwargs=pool_kwargs
        )
        return pool

    def add_headers(self, request: requests.PreparedRequest, **kwargs: Any) -> None:
        default_port = PUSH_PORT if self.endpoint.scheme == "https" else 80
        netloc = f"[{self.endpoint.host}]" if ":" in self.endpoint.host else self.endpoint.host
        if self.endpoint.port != default_port:
            netloc += f":{self.endpoint.port}"
        request.headers["Host"] = netloc


def _never_connected(error: requests.exceptions.ConnectionError) -> bool:
    """True when no connection was made, so nothing of the request was sent."""
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return True
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(reason, ConnectTimeoutError)  # NewConnectionError (refused, unreachable) is one


class _NoRedirectSession(requests.Session):
    """A session that hands back a redirect instead of following it (to an unchecked URL)."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        kwargs["allow_redirects"] = False
        return super().send(request, **kwargs)


def build_pinned_session(endpoint: CheckedEndpoint) -> requests.Session:
    """A ``requests`` session that sends only to this endpoint, at its checked addresses.

    Pass it to pywebpush as ``requests_session``. It follows no redirect (a 3xx comes back as
    the answer) and reads no proxy or credentials from the environment (a proxy would resolve
    the name itself).
    """
    session = _NoRedirectSession()
    session.trust_env = False
    adapter = PinnedAddressAdapter(endpoint)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
