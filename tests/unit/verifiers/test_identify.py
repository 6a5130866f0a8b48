"""`identify` for every scheme, on the project's own samples sent with the headers each provider
sends: the event type, the provider's delivery id, and the key that makes a redelivery the
same event (the delivery id where the signature binds it, else a hash of the bytes signed)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import get_args
from urllib.parse import urlencode

import pytest

from hookwise.config import SourceConfig, load_config
from hookwise.config.models import Scheme
from hookwise.domain.events import body_key
from hookwise.samples import sample_bytes, samples
from hookwise.verifiers import LOCATIONS, Delivery, Verifier, all_verifiers, verifier_for
from tests.conftest import CONFIG_PATH
from tests.unit.verifiers.support import URL, request

CONFIG = load_config(str(CONFIG_PATH))
BODY_HASH = "<hash of the body>"
# Twilio's: the URL, then the form parameters sorted by name (`name` + `value`).
SIGNED_HASH = "<hash of the signed URL and parameters>"


@dataclass
class Case:
    source: str
    sample: str
    headers: dict[str, str]
    event_type: str
    delivery_id: str | None
    # BODY_HASH (SIGNED_HASH) where no id the key could come from is signed.
    delivery_key: str
    form: bool = False
    id: str = field(init=False)

    def __post_init__(self) -> None:
        self.id = f"{self.source}:{self.sample}:{','.join(self.headers) or 'no headers'}"


DELIVERY = "72d3162e-cc78-11e3-81ab-4c9367dc0958"

CASES = [
    # GitHub signs neither header: the delivery id is recorded, the body is the key.
    Case(
        "github",
        "pull_request.opened",
        {"X-GitHub-Event": "pull_request", "X-GitHub-Delivery": DELIVERY},
        "pull_request.opened",
        DELIVERY,
        BODY_HASH,
    ),
    Case(
        "github",
        "pull_request.opened",
        {
            "X-GitHub-Event": "pull_request",
            "X-GitHub-Delivery": DELIVERY,
            "X-GitHub-Hook-Id": "511204987",
        },
        "pull_request.opened",
        DELIVERY,
        BODY_HASH,
    ),
    Case("github", "push", {"X-GitHub-Event": "push"}, "push", None, BODY_HASH),
    Case(
        "stripe",
        "payment_intent.succeeded",
        {},
        "payment_intent.succeeded",
        "evt_3QdK9m2eZvKYlo2C1x8W4nPq",
        "evt_3QdK9m2eZvKYlo2C1x8W4nPq",
    ),
    # The inner event's type, not the envelope's `event_callback`.
    Case("slack", "app_mention", {}, "app_mention", "Ev0LAN670R", "Ev0LAN670R"),
    Case(
        "shopify",
        "orders.create",
        {"X-Shopify-Topic": "orders/create", "X-Shopify-Webhook-Id": DELIVERY},
        "orders/create",
        DELIVERY,
        BODY_HASH,
    ),
    Case("shopify", "orders.create", {}, "unknown", None, BODY_HASH),
    Case(
        "standard",
        "invoice.paid",
        {"webhook-id": "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"},
        "invoice.paid",
        "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
        "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
    ),
    Case(
        "svix",
        "invoice.paid",
        {"svix-id": "msg_p5jXN8AQM9LWM0D4loKWxJek"},
        "invoice.paid",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
    ),
    # The idempotency token is not signed: recorded, not the key.
    Case(
        "twilio",
        "message.received",
        {"I-Twilio-Idempotency-Token": DELIVERY},
        "message.received",
        DELIVERY,
        SIGNED_HASH,
        form=True,
    ),
    # Without it, the message's sid is what on-call sees.
    Case(
        "twilio",
        "message.received",
        {},
        "message.received",
        "SM4f2b8e1c9d0a7b6e5f4c3d2a1b0c9d8e",
        SIGNED_HASH,
        form=True,
    ),
    Case(
        "paddle",
        "transaction.completed",
        {},
        "transaction.completed",
        "evt_01jd9a7x4m2k8w6q5t3r1v0z9y",
        "evt_01jd9a7x4m2k8w6q5t3r1v0z9y",
    ),
    Case(
        "linear",
        "Issue.create",
        {"Linear-Delivery": DELIVERY, "Linear-Event": "Issue"},
        "Issue.create",
        DELIVERY,
        DELIVERY,
    ),
    Case("linear", "Issue.create", {"Linear-Event": "Issue"}, "Issue.create", None, BODY_HASH),
    # Zoom sends no delivery id at all.
    Case("zoom", "meeting.started", {}, "meeting.started", None, BODY_HASH),
    # hookwise.yaml's generic source: the id in `id` (signed, in the body), the type in `event`.
    Case("hmac", "order.created", {}, "order.created", "ord_5f2c8e1a", "ord_5f2c8e1a"),
]
# The generic scheme with its id in a header, which it does not sign.
HEADER_ID = SourceConfig(
    name="hmac",
    scheme="hmac",
    options={"id_header": "X-Delivery", "id_field": None, "type_header": "X-Event"},
)
# Every scheme whose signature binds no id (nor a timestamp), as the generic one is with its id
# in a header.
UNSIGNED_IDS = [CONFIG.sources["github"], CONFIG.sources["shopify"], CONFIG.sources["twilio"]]


def body_of(case: Case) -> bytes:
    raw = sample_bytes(case.source, case.sample)
    return urlencode(json.loads(raw)).encode() if case.form else raw


def identified(verifier: Verifier, body: bytes, headers: dict[str, str]) -> Delivery:
    sent = request(body, headers)
    return verifier.identify(sent, verifier.parse(body))


def test_every_scheme_is_covered() -> None:
    assert {case.source for case in CASES} == set(LOCATIONS)


def expected_key(case: Case, body: bytes) -> str:
    if case.delivery_key == BODY_HASH:
        return body_key(body)
    if case.delivery_key == SIGNED_HASH:
        params = sorted(json.loads(sample_bytes(case.source, case.sample)).items())
        return body_key((URL + "".join(name + value for name, value in params)).encode())
    return case.delivery_key


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_identify_finds_type_id_and_key(case: Case) -> None:
    body = body_of(case)
    found = identified(verifier_for(CONFIG.sources[case.source]), body, case.headers)
    assert found == Delivery(
        event_type=case.event_type,
        delivery_id=case.delivery_id,
        delivery_key=expected_key(case, body),
    )


def test_an_unsigned_id_header_is_recorded_and_the_body_is_the_key() -> None:
    body = sample_bytes("hmac", "order.created")
    found = identified(verifier_for(HEADER_ID), body, {"X-Delivery": DELIVERY})
    assert (found.delivery_id, found.delivery_key) == (DELIVERY, body_key(body))


def test_the_schemes_that_sign_no_id_say_so() -> None:
    assert {name for name, kind in all_verifiers().items() if not kind.signs_identity} == {
        source.scheme for source in UNSIGNED_IDS
    }


@pytest.mark.parametrize("source", [*UNSIGNED_IDS, HEADER_ID], ids=lambda s: s.scheme)
def test_unsigned_headers_do_not_change_the_key(source: SourceConfig) -> None:
    """A captured request replayed with every header but the signature changed (a fresh
    delivery id, another event type) is the same delivery."""
    verifier = verifier_for(source)
    body = sample_bytes(source.scheme, next(iter(samples(source.scheme))))
    if not verifier.json_body:
        body = urlencode(json.loads(body)).encode()
    captured = verifier.sign(
        body, "s", url=URL, event_type="a.b", delivery_id=DELIVERY, timestamp=0
    )
    replayed = verifier.sign(
        body, "s", url=URL, event_type="c.d", delivery_id="another", timestamp=0
    )
    assert replayed != captured
    assert identified(verifier, body, replayed).delivery_key == (
        identified(verifier, body, captured).delivery_key
    )


def test_twilio_parameters_reordered_are_the_same_delivery() -> None:
    """Twilio signs the parameters sorted: reordered, the body's bytes change, not its
    signature, so the body's own hash would make a replay a new event."""
    verifier = verifier_for(CONFIG.sources["twilio"])
    params = list(json.loads(sample_bytes("twilio", "message.received")).items())
    body, reordered = urlencode(params).encode(), urlencode(params[::-1]).encode()
    headers = verifier.sign(body, "s", url=URL, event_type="", delivery_id=DELIVERY, timestamp=0)
    sent = request(reordered, headers)
    verifier.verify(sent, ["s"])
    assert identified(verifier, reordered, headers).delivery_key == (
        identified(verifier, body, headers).delivery_key
    )


@pytest.mark.parametrize("source", sorted(LOCATIONS))
def test_a_redelivery_has_the_same_key_and_another_delivery_another(source: str) -> None:
    """As each provider really redelivers: the same signed request again; a new delivery of the
    same sample is prepared and signed afresh (new id, or new bytes where there is no id)."""
    verifier = verifier_for(CONFIG.sources[source])
    event = next(iter(samples(source)))

    def delivery(delivery_id: str, timestamp: int) -> tuple[bytes, dict[str, str]]:
        payload = verifier.prepare_sample(
            json.loads(sample_bytes(source, event)), delivery_id=delivery_id, timestamp=timestamp
        )
        body = json.dumps(payload).encode() if verifier.json_body else urlencode(payload).encode()
        headers = verifier.sign(
            body,
            verifier.dev_secret(source),
            url=URL,
            event_type=event,
            delivery_id=delivery_id,
            timestamp=timestamp,
        )
        return body, headers

    first = identified(verifier, *delivery("4b1e3a9c-0d2f-4e6a-8c1b-7f5d3e9a2c10", 1_763_850_000))
    again = identified(verifier, *delivery("4b1e3a9c-0d2f-4e6a-8c1b-7f5d3e9a2c10", 1_763_850_000))
    other = identified(verifier, *delivery("9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a", 1_763_850_060))
    assert first.delivery_key == again.delivery_key
    assert first.delivery_key != other.delivery_key
    assert first.event_type == other.event_type != "unknown"


def test_each_scheme_names_its_own_verifier_and_the_configuration_knows_them_all() -> None:
    assert {scheme: kind.scheme for scheme, kind in all_verifiers().items()} == {
        scheme: scheme for scheme in LOCATIONS
    }
    assert set(get_args(Scheme)) == set(LOCATIONS)
