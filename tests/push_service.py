"""A local push service, as a browser's push service would be, for end-to-end Web Push tests.

It runs on 127.0.0.1 (a free port, plain http) in a thread. ``new_subscription()`` gives what a
browser gives to a page (endpoint, p256dh, auth) and keeps the private key; a POST to the
endpoint is checked as a push service checks it (RFC 8030 headers, RFC 8292 VAPID) and
decrypted as the browser would (RFC 8291, aes128gcm), with code written here from the RFCs
rather than the sender's library, so that a mistake in the sender is not undone by the same
mistake in the receiver. ``decrypt_push_message`` is checked against RFC 8291's own example.

    with PushService() as push:
        subscription = push.new_subscription()
        ...  # the code under test sends to subscription["endpoint"]
        [delivery] = push.wait_for(1)
        assert delivery.json == {...}

Answers: 201 delivered (recorded in ``deliveries``); 404 unknown endpoint; 410 expired
(``expire``); 400 bad headers, VAPID or body and 413 a body over 4,096 bytes (recorded with
the reason in ``rejections``); any error or redirect status on demand (``fail_next``). Every answer is in
``attempts``, in order.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import http.server
import json
import secrets
import socket
import ssl
import struct
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAX_BODY_BYTES = 4096  # RFC 8030 section 7.2: a push service must accept at least this much
VAPID_MAX_LIFETIME_S = 24 * 60 * 60  # RFC 8292 section 2: exp no more than 24 hours ahead
URGENCIES = ("very-low", "low", "normal", "high")  # RFC 8030 section 5.3


def b64url_decode(text: str) -> bytes:
    """Base64url with or without padding; ValueError when it is not base64url."""
    if not text or any(
        c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=" for c in text
    ):
        raise ValueError(f"not base64url: {text[:40]!r}")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as error:
        raise ValueError(str(error)) from None


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def public_key_bytes(private_key: ec.EllipticCurvePrivateKey) -> bytes:
    """The uncompressed P-256 point (65 bytes, 0x04 first), as p256dh carries it."""
    return private_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def make_tls_context(host: str, directory: Path) -> tuple[ssl.SSLContext, Path]:
    """A server TLS context with a new self-signed certificate for ``host``, and the
    certificate's file, for a client to trust (requests' ``verify=``)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, host)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certificate_file = directory / f"{host}.pem"
    key_file = directory / f"{host}.key"
    certificate_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate_file, key_file)
    return context, certificate_file


class DecryptError(ValueError):
    """The body cannot be decrypted with the subscription's keys; the message says why."""


def _hmac(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


def decrypt_push_message(body: bytes, *, ua_private: ec.EllipticCurvePrivateKey, auth_secret: bytes) -> bytes:
    """The plaintext of an RFC 8291 push message (aes128gcm, RFC 8188), as a browser reads it.

    The header is salt (16) | rs (4) | idlen (1) | keyid (the sender's ephemeral public key,
    65); then one record. The key schedule is RFC 8291 section 3.4 written out with HMAC.
    """
    if len(body) < 21:
        raise DecryptError("the body is shorter than the aes128gcm header")
    salt, (record_size,), key_id_length = body[:16], struct.unpack("!I", body[16:20]), body[20]
    if key_id_length != 65:
        raise DecryptError(f"keyid must be the sender's 65-byte public key, not {key_id_length} bytes")
    as_public = body[21:86]
    ciphertext = body[86:]
    if record_size < 18:
        raise DecryptError(f"record size {record_size} is below the minimum of 18")
    if len(ciphertext) > record_size:
        raise DecryptError("a push message must be one record (RFC 8291 section 4)")
    if len(ciphertext) < 17:
        raise DecryptError("the record is shorter than its tag and delimiter")
    try:
        sender = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), as_public)
    except ValueError:
        raise DecryptError("keyid is not a P-256 public key") from None
    ua_public = public_key_bytes(ua_private)
    ecdh_secret = ua_private.exchange(ec.ECDH(), sender)
    # RFC 8291 section 3.4
    prk_key = _hmac(auth_secret, ecdh_secret)
    key_info = b"WebPush: info\x00" + ua_public + as_public
    ikm = _hmac(prk_key, key_info + b"\x01")
    prk = _hmac(salt, ikm)
    cek = _hmac(prk, b"Content-Encoding: aes128gcm\x00\x01")[:16]
    nonce = _hmac(prk, b"Content-Encoding: nonce\x00\x01")[:12]  # record 0: no counter to mix in
    try:
        padded = AESGCM(cek).decrypt(nonce, ciphertext, None)
    except InvalidTag:
        raise DecryptError("the authentication tag does not match: wrong keys or auth secret") from None
    unpadded = padded.rstrip(b"\x00")
    if not unpadded or unpadded[-1] != 2:  # RFC 8188 section 2: 0x02 ends the last record
        raise DecryptError("the record does not end with the last-record delimiter 0x02")
    return unpadded[:-1]


def verify_vapid(authorization: str, *, audience: str, now: float) -> tuple[dict[str, Any], str]:
    """The JWT claims and the key (k) of an RFC 8292 ``vapid t=..., k=...`` header; ValueError why not."""
    scheme, _, params = authorization.strip().partition(" ")
    if scheme.lower() != "vapid":
        raise ValueError(f"the Authorization scheme is {scheme!r}, not 'vapid' (RFC 8292)")
    values: dict[str, str] = {}
    for param in params.split(","):
        name, equals, value = param.strip().partition("=")
        if equals:
            values[name.strip().lower()] = value.strip()
    if "t" not in values or "k" not in values:
        raise ValueError("the vapid Authorization needs both t= (the JWT) and k= (the public key)")
    try:
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(values["k"]))
    except ValueError:
        raise ValueError("k is not a base64url uncompressed P-256 public key") from None
    pieces = values["t"].split(".")
    if len(pieces) != 3:
        raise ValueError("t is not a JWT (header.claims.signature)")
    try:
        header = json.loads(b64url_decode(pieces[0]))
        claims = json.loads(b64url_decode(pieces[1]))
        signature = b64url_decode(pieces[2])
    except ValueError:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ValueError("the JWT's parts are not base64url JSON") from None
    if not isinstance(header, dict) or header.get("alg") != "ES256":
        raise ValueError(f"the JWT's alg must be ES256, not {header!r}")
    if len(signature) != 64:
        raise ValueError("an ES256 signature is 64 bytes (r | s)")
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    try:
        key.verify(der, f"{pieces[0]}.{pieces[1]}".encode("ascii"), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise ValueError("the JWT's signature does not verify with k") from None
    if not isinstance(claims, dict):
        raise ValueError("the JWT's claims are not an object")
    if claims.get("aud") != audience:
        raise ValueError(f"aud is {claims.get('aud')!r}, not the push service's origin {audience!r}")
    exp = claims.get("exp")
    if not isinstance(exp, int) or isinstance(exp, bool):
        raise ValueError("exp must be a number of seconds since 1970")
    if exp <= now:
        raise ValueError(f"the JWT expired {now - exp:.0f} s ago")
    if exp > now + VAPID_MAX_LIFETIME_S:
        raise ValueError("exp is more than 24 hours ahead (RFC 8292 section 2)")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub.startswith(("mailto:", "https:")):
        raise ValueError(f"sub must be a mailto: or https: contact, not {sub!r}")
    return claims, values["k"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """A push message the service accepted (201) and decrypted."""

    endpoint: str
    payload: bytes  # the plaintext, as the service worker's event.data gets it
    json: dict[str, Any] | None  # the payload as a JSON object, when it is one
    headers: dict[str, str]  # request headers, names in lower case
    vapid_claims: dict[str, Any]
    vapid_key: str  # k: the application server's public key (base64url)

    @property
    def ttl_s(self) -> int:
        return int(self.headers["ttl"])

    @property
    def urgency(self) -> str:
        return self.headers.get("urgency", "normal")

    @property
    def topic(self) -> str | None:
        return self.headers.get("topic")


@dataclass(frozen=True, slots=True, kw_only=True)
class Rejection:
    """A push message refused for what it is (400, 413), with the reason."""

    endpoint: str
    status: int
    reason: str
    headers: dict[str, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Attempt:
    """One POST and the status it was answered with, in arrival order."""

    endpoint: str
    status: int


@dataclass(slots=True, kw_only=True)
class _Subscription:
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes
    application_server_key: str | None
    expired: bool = False


@dataclass(slots=True, kw_only=True)
class _Failure:
    remaining: int
    status: int
    endpoint: str | None
    headers: dict[str, str]


@dataclass(slots=True)
class _State:
    subscriptions: dict[str, _Subscription] = field(default_factory=dict)  # by path
    deliveries: list[Delivery] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    failures: list[_Failure] = field(default_factory=list)
    server_errors: list[BaseException] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins the handler threads: nothing outlives a test
    block_on_close = True

    def __init__(self, service: PushService, ssl_context: ssl.SSLContext | None) -> None:
        self.service = service
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)
        if ssl_context is not None:  # the handshake happens on the first read, in the handler's thread
            self.socket = ssl_context.wrap_socket(
                self.socket, server_side=True, do_handshake_on_connect=False
            )

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A connection that failed (a TLS handshake the client refused, a reset) is not
        printed; a bug in the service is kept, and stop() raises it."""
        error = sys.exc_info()[1]
        if error is not None and not isinstance(error, OSError):
            with self.service._state.changed:
                self.service._state.server_errors.append(error)

    def close_connections(self) -> None:
        """End idle keep-alive connections so their handler threads return."""
        with self.connections_lock:
            for connection in self.connections:
                with contextlib.suppress(OSError):  # already closed by the client
                    connection.shutdown(socket.SHUT_RDWR)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as push services and senders use it
    timeout = 30
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the tests read .attempts
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, extra = self.server.service._receive(self.path, self.headers, body)
        text = b"" if status in (201, 204) else json.dumps({"code": status}).encode()
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def _not_allowed(self) -> None:
        self.send_response(405)
        self.send_header("Allow", "POST")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_PUT = do_DELETE = _not_allowed  # noqa: N815 (http.server's names)


class PushService:
    """A browser's push service on 127.0.0.1; see the module's docstring."""

    def __init__(
        self, *, endpoint_host: str = "127.0.0.1", ssl_context: ssl.SSLContext | None = None
    ) -> None:
        """``endpoint_host``: the host written in endpoints (the server always listens on
        127.0.0.1); a name such as ``push.invalid`` tests a sender that connects to a checked
        address rather than resolving the name. ``ssl_context``: serve https with it (see
        ``make_tls_context``); endpoints are then https URLs."""
        self._endpoint_host = endpoint_host
        self._ssl_context = ssl_context
        self._state = _State()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # --- running ------------------------------------------------------------------------

    def start(self) -> Self:
        if self._server is not None:
            raise RuntimeError("the push service is already running")
        self._server = _Server(self, self._ssl_context)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), name="push-service", daemon=True
        )  # polls every 20 ms: stop() returns that fast
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None
        if self._state.server_errors:
            raise AssertionError("the push service failed") from self._state.server_errors[0]

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        """What a VAPID JWT's aud must be: scheme, host and port of the endpoints."""
        if not self.port:
            raise RuntimeError("start the push service first")
        scheme = "http" if self._ssl_context is None else "https"
        return f"{scheme}://{self._endpoint_host}:{self.port}"

    # --- subscriptions ------------------------------------------------------------------

    def new_subscription(self, *, application_server_key: str | None = None) -> dict[str, Any]:
        """What ``PushSubscription.toJSON()`` gives a page: endpoint and keys (p256dh, auth).

        With ``application_server_key`` (the VAPID public key, base64url, as a page passes to
        ``subscribe``), a push signed with any other key is refused, as browsers' services do.
        """
        private_key = ec.generate_private_key(ec.SECP256R1())
        auth_secret = secrets.token_bytes(16)
        path = f"/push/{secrets.token_urlsafe(16)}"
        endpoint = self.origin + path
        with self._state.changed:
            self._state.subscriptions[path] = _Subscription(
                endpoint=endpoint,
                private_key=private_key,
                auth_secret=auth_secret,
                application_server_key=application_server_key,
            )
        return {
            "endpoint": endpoint,
            "expirationTime": None,
            "keys": {
                "p256dh": b64url_encode(public_key_bytes(private_key)),
                "auth": b64url_encode(auth_secret),
            },
        }

    def expire(self, endpoint: str) -> None:
        """The browser unsubscribed: pushes to this endpoint get 410 Gone from now on."""
        with self._state.changed:
            self._subscription(endpoint).expired = True

    def fail_next(
        self,
        count: int = 1,
        status: int = 429,
        *,
        endpoint: str | None = None,
        retry_after: int | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next ``count`` POSTs (to ``endpoint``, or any) with ``status`` instead,
        before anything else is looked at. ``retry_after`` adds a Retry-After header (429, 503);
        ``headers`` any other (a redirect's Location: status may be 3xx too)."""
        if not 300 <= status <= 599:
            raise ValueError("fail_next takes a redirect or error status (3xx, 4xx or 5xx)")
        if endpoint is not None:
            self._subscription(endpoint)
        extra = dict(headers or {})
        if retry_after is not None:
            extra["Retry-After"] = str(retry_after)
        with self._state.changed:
            self._state.failures.append(
                _Failure(remaining=count, status=status, endpoint=endpoint, headers=extra)
            )

    def _subscription(self, endpoint: str) -> _Subscription:
        subscription = self._state.subscriptions.get(urlsplit(endpoint).path)
        if subscription is None or subscription.endpoint != endpoint:
            raise KeyError(f"no subscription has the endpoint {endpoint}")
        return subscription

    # --- what arrived -------------------------------------------------------------------

    @property
    def deliveries(self) -> list[Delivery]:
        with self._state.changed:
            return list(self._state.deliveries)

    @property
    def rejections(self) -> list[Rejection]:
        with self._state.changed:
            return list(self._state.rejections)

    @property
    def attempts(self) -> list[Attempt]:
        with self._state.changed:
            return list(self._state.attempts)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Delivery]:
        """The deliveries once there are at least ``count``; AssertionError after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        with self._state.changed:
            while len(self._state.deliveries) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"{len(self._state.deliveries)} push deliveries after {timeout} s, expected {count}; "
                        f"attempts: {[(a.status, a.endpoint) for a in self._state.attempts]}; "
                        f"rejections: {[r.reason for r in self._state.rejections]}"
                    )
                self._state.changed.wait(left)
            return list(self._state.deliveries)

    # --- the push service's side (handler threads) -----------------------------------------

    def _receive(self, path: str, message_headers: Any, body: bytes) -> tuple[int, dict[str, str]]:
        headers = {name.lower(): value for name, value in message_headers.items()}
        with self._state.changed:
            subscription = self._state.subscriptions.get(urlsplit(path).path)
            endpoint = subscription.endpoint if subscription else self.origin + path
            status, extra, outcome = self._judge(subscription, endpoint, headers, body)
            self._state.attempts.append(Attempt(endpoint=endpoint, status=status))
            if isinstance(outcome, Delivery):
                self._state.deliveries.append(outcome)
            elif isinstance(outcome, Rejection):
                self._state.rejections.append(outcome)
            self._state.changed.notify_all()
        return status, extra

    def _judge(
        self, subscription: _Subscription | None, endpoint: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], Delivery | Rejection | None]:
        for failure in self._state.failures:
            if failure.remaining > 0 and failure.endpoint in (None, endpoint):
                failure.remaining -= 1
                return failure.status, dict(failure.headers), None
        if subscription is None:
            return 404, {}, None
        if subscription.expired:
            return 410, {}, None

        def refuse(reason: str, status: int = 400) -> tuple[int, dict[str, str], Rejection]:
            return status, {}, Rejection(endpoint=endpoint, status=status, reason=reason, headers=headers)

        if len(body) > MAX_BODY_BYTES:
            return refuse(f"the body is {len(body)} bytes, over {MAX_BODY_BYTES}", 413)
        if headers.get("content-encoding") != "aes128gcm":
            return refuse(f"Content-Encoding is {headers.get('content-encoding')!r}, not 'aes128gcm'")
        ttl = headers.get("ttl")
        if ttl is None or not ttl.isdigit():
            return refuse(f"TTL must be a number of seconds, not {ttl!r}")
        if headers.get("urgency", "normal") not in URGENCIES:
            return refuse(f"Urgency {headers['urgency']!r} is not one of {URGENCIES}")
        topic = headers.get("topic")
        if topic is not None and (len(topic) > 32 or any(not (c.isalnum() or c in "-_") for c in topic)):
            return refuse(f"Topic {topic!r} must be at most 32 base64url characters")
        authorization = headers.get("authorization")
        if authorization is None:
            return refuse("no Authorization header: VAPID (RFC 8292) is required")
        try:
            claims, key = verify_vapid(authorization, audience=self.origin, now=time.time())
        except ValueError as error:
            return refuse(f"VAPID: {error}")
        expected_key = subscription.application_server_key
        if expected_key is not None and b64url_decode(key) != b64url_decode(expected_key):
            return refuse("VAPID: k is not the application server key the subscription was made with")
        try:
            payload = decrypt_push_message(
                body, ua_private=subscription.private_key, auth_secret=subscription.auth_secret
            )
        except DecryptError as error:
            return refuse(f"cannot decrypt: {error}")
        try:
            parsed = json.loads(payload)
        except ValueError:
            parsed = None
        delivery = Delivery(
            endpoint=endpoint,
            payload=payload,
            json=parsed if isinstance(parsed, dict) else None,
            headers=headers,
            vapid_claims=claims,
            vapid_key=key,
        )
        message_id = secrets.token_urlsafe(12)
        return 201, {"Location": f"{self.origin}/message/{message_id}"}, delivery
