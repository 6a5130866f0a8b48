"""Every provider through the local stack: each shipped sample is signed as its provider signs
it, accepted, routed and completed; and a hostile-input battery gets only contracted 4xx,
storing, enqueueing and calling nothing."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest

from hookwise.cli.send import samples
from hookwise.config import load_config
from hookwise.verifiers import verifier_for
from tests.conftest import CONFIG_PATH
from tests.e2e.conftest import LocalStack

pytestmark = pytest.mark.e2e

# Every configured source, with every sample shipped for it.
SAMPLED = [
    (source, name) for source in load_config(str(CONFIG_PATH)).sources for name in samples(source)
]
# Samples that no route handles, or that are answered at the door.
NOT_ROUTED = {("github", "push"), ("github", "ping"), ("github", "issue_comment.created")}
TIMESTAMPED = ("stripe", "slack", "standard", "svix", "paddle", "zoom")


def body_for(stack: LocalStack, source: str, name: str, delivery: str) -> bytes:
    verifier = verifier_for(stack.config.sources[source])
    payload = verifier.prepare_sample(
        json.loads(samples(source)[name].read_text()),
        delivery_id=delivery,
        timestamp=int(time.time()),
    )
    return json.dumps(payload).encode() if verifier.json_body else urlencode(payload).encode()


@pytest.mark.parametrize(("source", "name"), SAMPLED)
def test_each_sample_is_accepted_and_handled(stack: LocalStack, source: str, name: str) -> None:
    delivery = str(uuid.uuid4())
    body = body_for(stack, source, name, delivery)
    answer = stack.post(source, body, stack.signed(source, body, name, delivery))
    if (source, name) == ("github", "ping"):
        assert answer.status_code == 200
        return
    assert answer.status_code == 202, answer.text
    event = stack.wait_for(answer.json()["event_id"], {"completed", "skipped", "failed"})
    expected = "skipped" if (source, name) in NOT_ROUTED else "completed"
    assert event["status"] == expected, event


def test_handshakes_are_answered_without_storing(stack: LocalStack) -> None:
    stored = stack.stored_ids()
    slack = json.dumps({"type": "url_verification", "challenge": "3eZbrw1aB"}).encode()
    answer = stack.post("slack", slack, stack.signed("slack", slack, "", "d"))
    assert answer.status_code == 200
    assert answer.json() == {"challenge": "3eZbrw1aB"}
    zoom = json.dumps(
        {"event": "endpoint.url_validation", "payload": {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"}}
    ).encode()
    answer = stack.post("zoom", zoom, stack.signed("zoom", zoom, "", "d"))
    assert answer.status_code == 200
    assert answer.json()["plainToken"] == "qgg8vlvZRS6UYooatFL8Aw"
    assert len(answer.json()["encryptedToken"]) == 64
    assert stack.stored_ids() == stored


@dataclass
class Case:
    name: str
    source: str
    status: int
    build: Callable[[LocalStack], tuple[bytes, list[tuple[str, str]]]]


def signed_case(
    source: str,
    change: Callable[[bytes, dict[str, str]], tuple[bytes, dict[str, str]]],
    name: str = "",
    **sign: int | str,
) -> Callable[[LocalStack], tuple[bytes, list[tuple[str, str]]]]:
    def build(stack: LocalStack) -> tuple[bytes, list[tuple[str, str]]]:
        sample = next(iter(samples(source)))
        delivery = str(uuid.uuid4())
        body = body_for(stack, source, sample, delivery)
        headers = stack.signed(source, body, sample, delivery, **sign)  # type: ignore[arg-type]
        body, headers = change(body, headers)
        return body, list(headers.items())

    return build


def signature_headers(source: str) -> set[str]:
    return {
        "github": {"x-hub-signature-256"},
        "stripe": {"stripe-signature"},
        "slack": {"x-slack-signature"},
        "shopify": {"x-shopify-hmac-sha256"},
        "standard": {"webhook-signature"},
        "svix": {"svix-signature"},
        "twilio": {"x-twilio-signature"},
        "paddle": {"paddle-signature"},
        "linear": {"linear-signature"},
        "zoom": {"x-zm-signature"},
        "hmac": {"x-signature"},
    }[source]


def without_signature(source: str) -> Callable[..., tuple[bytes, dict[str, str]]]:
    def change(body: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
        return body, {
            k: v for k, v in headers.items() if k.lower() not in signature_headers(source)
        }

    return change


def truncated(source: str) -> Callable[..., tuple[bytes, dict[str, str]]]:
    def change(body: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
        return body, {
            k: (v[: len(v) // 2] if k.lower() in signature_headers(source) else v)
            for k, v in headers.items()
        }

    return change


def doubled_garbage(source: str) -> Callable[..., tuple[bytes, dict[str, str]]]:
    def change(body: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
        return body, {
            k: ("v1=00,v1=ff" if k.lower() in signature_headers(source) else v)
            for k, v in headers.items()
        }

    return change


def tampered(body: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    return body[:-1] + b" " + body[-1:], headers


def resigned(new_body: bytes) -> Callable[..., tuple[bytes, dict[str, str]]]:
    """Replace the body but keep a valid signature over the new bytes (built per case)."""
    return lambda _body, headers: (new_body, headers)


def hostile_cases() -> list[Case]:
    cases: list[Case] = []
    sources = [source for source, _ in SAMPLED]
    for source in dict.fromkeys(sources):
        cases += [
            Case(
                f"{source}: no signature",
                source,
                401,
                signed_case(source, without_signature(source)),
            ),
            Case(
                f"{source}: wrong secret",
                source,
                401,
                signed_case(source, lambda b, h: (b, h), secret="whsec_d3Jvbmctc2VjcmV0"),
            ),
            Case(f"{source}: forged body", source, 401, signed_case(source, tampered)),
            Case(
                f"{source}: truncated signature",
                source,
                401,
                signed_case(source, truncated(source)),
            ),
            Case(
                f"{source}: garbage signature",
                source,
                401,
                signed_case(source, doubled_garbage(source)),
            ),
        ]
    for source in TIMESTAMPED:
        cases += [
            Case(
                f"{source}: stale",
                source,
                401,
                signed_case(source, lambda b, h: (b, h), timestamp=int(time.time()) - 3600),
            ),
            Case(
                f"{source}: far future",
                source,
                401,
                signed_case(source, lambda b, h: (b, h), timestamp=int(time.time()) + 10**6),
            ),
            Case(
                # Parses as an int, but no float holds it: the tolerance check must not crash.
                f"{source}: 401-digit timestamp",
                source,
                401,
                signed_case(source, lambda b, h: (b, h), timestamp=10**400),
            ),
        ]
    return cases


def signed_raw(
    source: str, body: bytes
) -> Callable[[LocalStack], tuple[bytes, list[tuple[str, str]]]]:
    """A correctly signed delivery whose body is not what a JSON scheme accepts."""

    def build(stack: LocalStack) -> tuple[bytes, list[tuple[str, str]]]:
        return body, list(stack.signed(source, body, "x", str(uuid.uuid4())).items())

    return build


MALFORMED = [
    Case(f"{source}: {label}", source, 400, signed_raw(source, body))
    for source in (
        "github",
        "linear",
        "stripe",
        "slack",
        "shopify",
        "standard",
        "svix",
        "paddle",
        "zoom",
        "hmac",
    )
    for label, body in (
        ("not JSON", b"hello, world"),
        ("empty body", b""),
        ("invalid UTF-8", b'{"a": "\xff\xfe"}'),
        # Signed, yet fatal to a naive parse: nesting past the recursion limit, an integer
        # longer than int() parses from text, and tokens that are not JSON.
        ("nested 50,000 deep", b"[" * 50_000),
        ("100,000-digit integer", b'{"a": ' + b"9" * 100_000 + b"}"),
        ("NaN", b'{"a": NaN}'),
        ("Infinity", b'{"a": Infinity}'),
    )
]
OTHER = [
    Case(
        "oversized body",
        "github",
        413,
        lambda s: (
            b"{" + b" " * (1024 * 1024 + 10) + b"}",
            list(s.signed("github", b"{}", "push", "big").items()),
        ),
    ),
    Case("unknown source", "nope", 404, lambda s: (b"{}", [])),
]
CASES = hostile_cases() + MALFORMED + OTHER


def test_hostile_inputs_get_their_4xx_and_leave_no_trace(stack: LocalStack) -> None:
    assert len(CASES) >= 50
    stored, calls = stack.stored_ids(), stack.model_calls()
    failures = []
    for case in CASES:
        body, headers = case.build(stack)
        answer = stack.api.post(f"/webhooks/{case.source}", content=body, headers=headers)
        if answer.status_code != case.status:
            failures.append(f"{case.name}: {answer.status_code} {answer.text[:80]}")
    assert failures == []
    time.sleep(0.5)  # anything wrongly enqueued would reach the worker within this
    assert stack.stored_ids() == stored
    assert stack.model_calls() == calls
