"""The local push service (tests/push_service.py) behaves as a browser's push service: it takes
what pywebpush sends with VAPID and decrypts it, and it refuses what a real one refuses."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import secrets
import socket
import time
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02
from pywebpush import WebPushException, webpush, webpush_async

from push_service import (
    Delivery,
    PushService,
    b64url_decode,
    b64url_encode,
    decrypt_push_message,
    public_key_bytes,
)

SUB = "mailto:ops@dosewise.example"


@pytest.fixture(scope="module")
def vapid() -> Vapid02:
    key = Vapid02()
    key.generate_keys()
    return key


def vapid_public_key(vapid: Vapid02) -> str:
    return b64url_encode(public_key_bytes(vapid.private_key))


def send(subscription: dict[str, Any], data: str, vapid: Vapid02 | None, **kwargs: Any) -> Any:
    claims: dict[str, str | int] | None = {"sub": SUB} if vapid is not None else None
    return webpush(subscription, data, vapid_private_key=vapid, vapid_claims=claims, timeout=10, **kwargs)


def refused(subscription: dict[str, Any], data: str, vapid: Vapid02 | None, **kwargs: Any) -> int:
    with pytest.raises(WebPushException) as refusal:
        send(subscription, data, vapid, **kwargs)
    status = refusal.value.status_code
    assert status is not None
    return status


# --- RFC 8291's own example ------------------------------------------------------------------

RFC8291 = {  # RFC 8291 section 5 and appendix A
    "ua_private": "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94",
    "ua_public": "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
    "auth": "BTBZMqHH6r4Tts7J_aSIgg",
    "body": "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmY"
    "WAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN",
}


def rfc_receiver() -> ec.EllipticCurvePrivateKey:
    key = ec.derive_private_key(int.from_bytes(b64url_decode(RFC8291["ua_private"]), "big"), ec.SECP256R1())
    assert b64url_encode(public_key_bytes(key)) == RFC8291["ua_public"]
    return key


def test_the_decryption_reads_rfc_8291s_example() -> None:
    plaintext = decrypt_push_message(
        b64url_decode(RFC8291["body"]), ua_private=rfc_receiver(), auth_secret=b64url_decode(RFC8291["auth"])
    )
    assert plaintext == b"When I grow up, I want to be a watermelon"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda body: body[:-1] + bytes([body[-1] ^ 1]), "authentication tag"),  # a flipped bit
        (lambda body: body[:20] + b"\x20" + body[21:], "keyid must be"),
        (lambda body: body[:16] + b"\x00\x00\x00\x11" + body[20:], "record size"),
        (lambda body: body[:40], "shorter"),
    ],
)
def test_the_decryption_refuses_a_changed_message(change: Any, reason: str) -> None:
    body = change(b64url_decode(RFC8291["body"]))
    with pytest.raises(ValueError, match=reason):
        decrypt_push_message(body, ua_private=rfc_receiver(), auth_secret=b64url_decode(RFC8291["auth"]))


def test_the_decryption_refuses_the_wrong_auth_secret() -> None:
    with pytest.raises(ValueError, match="authentication tag"):
        decrypt_push_message(
            b64url_decode(RFC8291["body"]), ua_private=rfc_receiver(), auth_secret=secrets.token_bytes(16)
        )


# --- end to end with pywebpush ---------------------------------------------------------------


def test_a_subscription_looks_like_a_browsers(push_service: PushService) -> None:
    subscription = push_service.new_subscription()
    assert subscription["endpoint"].startswith(f"http://127.0.0.1:{push_service.port}/push/")
    p256dh = b64url_decode(subscription["keys"]["p256dh"])
    assert (len(p256dh), p256dh[0]) == (65, 4)
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), p256dh)
    assert len(b64url_decode(subscription["keys"]["auth"])) == 16
    assert push_service.new_subscription()["endpoint"] != subscription["endpoint"]


def test_pywebpush_with_vapid_arrives_decrypted_and_equal(push_service: PushService, vapid: Vapid02) -> None:
    subscription = push_service.new_subscription(application_server_key=vapid_public_key(vapid))
    data = json.dumps(
        {"kind": "dose_reminder", "title": "Baclofen 10 mg", "body": "Time for your evening dose"}
    )
    response = send(subscription, data, vapid, ttl=3600, headers={"Urgency": "high", "Topic": "dose-1"})
    assert response.status_code == 201
    assert response.headers["Location"].startswith(push_service.origin + "/message/")
    [delivery] = push_service.wait_for(1)
    assert delivery == Delivery(
        endpoint=subscription["endpoint"],
        payload=data.encode(),
        json=json.loads(data),
        headers=delivery.headers,
        vapid_claims=delivery.vapid_claims,
        vapid_key=vapid_public_key(vapid),
    )
    assert (delivery.ttl_s, delivery.urgency, delivery.topic) == (3600, "high", "dose-1")
    assert delivery.vapid_claims["sub"] == SUB
    assert delivery.vapid_claims["aud"] == push_service.origin
    assert time.time() < delivery.vapid_claims["exp"] <= time.time() + 24 * 3600
    assert push_service.rejections == []


def test_pywebpushs_async_sender_arrives_too(push_service: PushService, vapid: Vapid02) -> None:
    subscription = push_service.new_subscription()

    async def push() -> Any:
        return await webpush_async(
            subscription, json.dumps({"n": 1}), vapid_private_key=vapid, vapid_claims={"sub": SUB}
        )

    # in a thread of its own: a browser test may have left this thread's event loop running
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(asyncio.run, push()).result(timeout=30).status == 201
    assert [d.json for d in push_service.wait_for(1)] == [{"n": 1}]


def test_a_payload_that_is_not_json_arrives_as_bytes(push_service: PushService, vapid: Vapid02) -> None:
    subscription = push_service.new_subscription()
    send(subscription, "plain words, é and ✓", vapid)
    [delivery] = push_service.wait_for(1)
    assert (delivery.payload, delivery.json) == ("plain words, é and ✓".encode(), None)


def test_many_pushes_on_one_kept_alive_connection(push_service: PushService, vapid: Vapid02) -> None:
    subscriptions = [push_service.new_subscription() for _ in range(3)]
    with requests.Session() as session:
        for number in range(12):
            send(subscriptions[number % 3], json.dumps({"n": number}), vapid, requests_session=session)
    deliveries = push_service.wait_for(12)
    assert [d.json for d in deliveries] == [{"n": n} for n in range(12)]
    assert {d.endpoint for d in deliveries} == {s["endpoint"] for s in subscriptions}


def test_a_wrong_auth_secret_is_refused(push_service: PushService, vapid: Vapid02) -> None:
    subscription = push_service.new_subscription()
    subscription["keys"]["auth"] = b64url_encode(secrets.token_bytes(16))
    assert refused(subscription, "hello", vapid) == 400
    [rejection] = push_service.rejections
    assert "cannot decrypt" in rejection.reason
    assert "authentication tag" in rejection.reason
    assert push_service.deliveries == []


def test_a_wrong_receiver_key_is_refused(push_service: PushService, vapid: Vapid02) -> None:
    subscription = push_service.new_subscription()
    other = push_service.new_subscription()
    subscription["keys"]["p256dh"] = other["keys"]["p256dh"]
    assert refused(subscription, "hello", vapid) == 400
    assert "cannot decrypt" in push_service.rejections[0].reason


def test_an_expired_endpoint_is_gone(push_service: PushService, vapid: Vapid02) -> None:
    subscription = push_service.new_subscription()
    send(subscription, "before", vapid)
    push_service.expire(subscription["endpoint"])
    assert refused(subscription, "after", vapid) == 410
    assert [a.status for a in push_service.attempts] == [201, 410]
    assert [d.payload for d in push_service.deliveries] == [b"before"]


def test_an_unknown_endpoint_is_not_found(push_service: PushService, vapid: Vapid02) -> None:
    subscription = push_service.new_subscription()
    subscription["endpoint"] = push_service.origin + "/push/nobody"
    assert refused(subscription, "hello", vapid) == 404


def test_no_vapid_is_refused(push_service: PushService) -> None:
    subscription = push_service.new_subscription()
    assert refused(subscription, "hello", None) == 400
    assert "no Authorization header" in push_service.rejections[0].reason
    assert push_service.deliveries == []


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"aud": "https://push.example.com"}, "aud is 'https://push.example.com'"),
        ({"exp": int(time.time()) + 25 * 3600}, "more than 24 hours ahead"),
        ({"sub": "https://dosewise.example"}, None),  # an https: contact is fine
    ],
)
def test_vapid_claims_are_checked(
    push_service: PushService, vapid: Vapid02, claims: dict[str, Any], reason: str | None
) -> None:
    subscription = push_service.new_subscription()
    all_claims: dict[str, str | int] = {"sub": SUB, **claims}
    if reason is None:
        webpush(subscription, "hello", vapid_private_key=vapid, vapid_claims=all_claims)
        assert len(push_service.wait_for(1)) == 1
        return
    with pytest.raises(WebPushException) as refusal:
        webpush(subscription, "hello", vapid_private_key=vapid, vapid_claims=all_claims)
    assert refusal.value.status_code == 400
    assert reason in push_service.rejections[0].reason


def encrypted_post(push_service: PushService, subscription: dict[str, Any], headers: dict[str, str]) -> int:
    """A POST of a correctly encrypted body with these headers instead of pywebpush's own."""
    from pywebpush import WebPusher

    body = WebPusher(subscription).encode(b"hello")["body"]
    response = requests.post(subscription["endpoint"], data=body, headers=headers, timeout=10)
    return response.status_code


def vapid_header(vapid: Vapid02, claims: dict[str, Any]) -> str:
    header: str = vapid.sign(claims)["Authorization"]
    return header


def test_an_expired_jwt_a_forged_signature_and_other_schemes_are_refused(
    push_service: PushService, vapid: Vapid02
) -> None:
    subscription = push_service.new_subscription()
    good = {"sub": SUB, "aud": push_service.origin, "exp": int(time.time()) + 600}
    base = {"Content-Encoding": "aes128gcm", "TTL": "60"}
    assert (
        encrypted_post(push_service, subscription, base | {"Authorization": vapid_header(vapid, good)}) == 201
    )

    expired = vapid_header(vapid, good | {"exp": int(time.time()) - 5})
    other = Vapid02()
    other.generate_keys()
    t = vapid_header(vapid, good).split("t=")[1].split(",")[0]
    forged = f"vapid t={t}, k={vapid_public_key(other)}"
    legacy = f"WebPush {t}"
    for authorization, reason in [
        (expired, "expired"),
        (forged, "signature does not verify"),
        (legacy, "not 'vapid'"),
        ("vapid k=abc", "needs both t="),
    ]:
        assert encrypted_post(push_service, subscription, base | {"Authorization": authorization}) == 400
        assert reason in push_service.rejections[-1].reason
    assert len(push_service.deliveries) == 1


def test_the_subscriptions_application_server_key_is_enforced(
    push_service: PushService, vapid: Vapid02
) -> None:
    other = Vapid02()
    other.generate_keys()
    subscription = push_service.new_subscription(application_server_key=vapid_public_key(other))
    assert refused(subscription, "hello", vapid) == 400
    assert "not the application server key" in push_service.rejections[0].reason
    send(subscription, "hello", other)
    assert len(push_service.wait_for(1)) == 1


def test_headers_a_push_service_requires(push_service: PushService, vapid: Vapid02) -> None:
    subscription = push_service.new_subscription()
    good = vapid_header(vapid, {"sub": SUB, "aud": push_service.origin, "exp": int(time.time()) + 600})
    cases = [
        ({"Content-Encoding": "aesgcm", "TTL": "60"}, "Content-Encoding is 'aesgcm'"),
        ({"Content-Encoding": "aes128gcm"}, "TTL must be"),
        ({"Content-Encoding": "aes128gcm", "TTL": "soon"}, "TTL must be"),
        ({"Content-Encoding": "aes128gcm", "TTL": "60", "Urgency": "urgent"}, "Urgency 'urgent'"),
        ({"Content-Encoding": "aes128gcm", "TTL": "60", "Topic": "a" * 33}, "Topic"),
    ]
    for headers, reason in cases:
        assert encrypted_post(push_service, subscription, headers | {"Authorization": good}) == 400
        assert reason in push_service.rejections[-1].reason
    assert push_service.deliveries == []


def test_a_body_over_4096_bytes_is_too_large(push_service: PushService, vapid: Vapid02) -> None:
    subscription = push_service.new_subscription()
    assert refused(subscription, "x" * 4000, vapid) == 413  # 4,000 + 103 bytes of header, padding and tag
    send(subscription, "x" * 3900, vapid)
    assert len(push_service.wait_for(1)) == 1


def test_failures_on_demand_for_retries(push_service: PushService, vapid: Vapid02) -> None:
    subscription = push_service.new_subscription()
    push_service.fail_next(2, 429, retry_after=30)
    with pytest.raises(WebPushException) as first:
        send(subscription, "one", vapid)
    assert (first.value.status_code, first.value.retry_after) == (429, "30")
    assert refused(subscription, "one", vapid) == 429
    send(subscription, "one", vapid)
    push_service.fail_next(1, 503, endpoint=subscription["endpoint"])
    other = push_service.new_subscription()
    send(other, "two", vapid)  # the failure is for the first endpoint only
    assert refused(subscription, "three", vapid) == 503
    assert [a.status for a in push_service.attempts] == [429, 429, 201, 201, 503]
    assert [d.payload for d in push_service.deliveries] == [b"one", b"two"]


def test_wait_for_says_what_arrived_when_it_times_out(push_service: PushService, vapid: Vapid02) -> None:
    subscription = push_service.new_subscription()
    send(subscription, "one", vapid)
    with pytest.raises(AssertionError, match=r"1 push deliveries after 0\.2 s, expected 2"):
        push_service.wait_for(2, timeout=0.2)


def test_only_post_is_allowed(push_service: PushService) -> None:
    subscription = push_service.new_subscription()
    assert requests.get(subscription["endpoint"], timeout=10).status_code == 405


def test_the_service_stops_listening_when_it_ends(vapid: Vapid02) -> None:
    with PushService() as service, requests.Session() as session:
        subscription = service.new_subscription()
        send(subscription, "hello", vapid, requests_session=session)  # leaves a kept-alive connection
        port = service.port
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
