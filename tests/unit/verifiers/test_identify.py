"""`identify` for every scheme, on the project's own samples sent with the headers each provider
sends: the event type, the provider's delivery id, and the key that makes a redelivery the
same event (the delivery id where the provider sends one, else a hash of the exact body)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import get_args
from urllib.parse import urlencode

import pytest

from hookwise.config import load_config
from hookwise.config.models import Scheme
from hookwise.domain.events import body_key
from hookwise.samples import sample_bytes, samples
from hookwise.verifiers import LOCATIONS, Delivery, Verifier, all_verifiers, verifier_for
from tests.conftest import CONFIG_PATH
from tests.unit.verifiers.support import request

CONFIG = load_config(str(CONFIG_PATH))
BODY_HASH = "<hash of the body>"


@dataclass
class Case:
    source: str
    sample: str
    headers: dict[str, str]
    event_type: str
    delivery_id: str | None
    # BODY_HASH where the provider sends no id the key could come from.
    delivery_key: str
    form: bool = False
    id: str = field(init=False)

    def __post_init__(self) -> None:
        self.id = f"{self.source}:{self.sample}:{','.join(self.headers) or 'no headers'}"


DELIVERY = "72d3162e-cc78-11e3-81ab-4c9367dc0958"

CASES = [
    Case(
        "github",
        "pull_request.opened",
        {"X-GitHub-Event": "pull_request", "X-GitHub-Delivery": DELIVERY},
        "pull_request.opened",
        DELIVERY,
        DELIVERY,
    ),
    # Several hooks on one endpoint each get the delivery under the same id.
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
        f"511204987:{DELIVERY}",
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
        DELIVERY,
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
    Case(
        "twilio",
        "message.received",
        {"I-Twilio-Idempotency-Token": DELIVERY},
        "message.received",
        DELIVERY,
        DELIVERY,
        form=True,
    ),
    # Without the idempotency token: the message and its status (a status callback for the same
    # message is another event).
    Case(
        "twilio",
        "message.received",
        {},
        "message.received",
        "SM4f2b8e1c9d0a7b6e5f4c3d2a1b0c9d8e",
        "SM4f2b8e1c9d0a7b6e5f4c3d2a1b0c9d8e:received",
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
    # hookwise.yaml's generic source: the id in `id`, the type in `event`.
    Case("hmac", "order.created", {}, "order.created", "ord_5f2c8e1a", "ord_5f2c8e1a"),
]


def body_of(case: Case) -> bytes:
    raw = sample_bytes(case.source, case.sample)
    return urlencode(json.loads(raw)).encode() if case.form else raw


def identified(verifier: Verifier, body: bytes, headers: dict[str, str]) -> Delivery:
    sent = request(body, headers)
    return verifier.identify(sent, verifier.parse(body))


def test_every_scheme_is_covered() -> None:
    assert {case.source for case in CASES} == set(LOCATIONS)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_identify_finds_type_id_and_key(case: Case) -> None:
    body = body_of(case)
    found = identified(verifier_for(CONFIG.sources[case.source]), body, case.headers)
    key = body_key(body) if case.delivery_key == BODY_HASH else case.delivery_key
    assert found == Delivery(
        event_type=case.event_type, delivery_id=case.delivery_id, delivery_key=key
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
            url="https://hooks.example/webhooks/x",
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
