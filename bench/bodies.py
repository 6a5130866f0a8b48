"""The three bodies the cost figures are measured for, from the project's own samples: a 1 KB
Stripe event, the 31 KB pull request and a 250 KB push (the sample's commits list grown); and
bursts of each, distinct events as a burst brings them."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from hookwise.config import HookwiseConfig
from hookwise.samples import sample_bytes
from hookwise.verifiers import verifier_for

PUSH_BYTES = 250_000


@dataclass(frozen=True)
class Body:
    name: str
    source: str
    event_type: str  # as the provider names it (GitHub's header), for signing
    raw: bytes


def _sample_layout(payload: Any) -> bytes:
    """JSON as the samples are laid out (indented by two), which the body dictionaries know."""
    return json.dumps(payload, indent=2, ensure_ascii=False).encode() + b"\n"


def _numbered(identifier: str, index: int) -> str:
    """The identifier with its tail replaced by `index`: another one, of the same length."""
    return f"{identifier[:-6]}{index:06d}"


def stripe(index: int | None = None) -> Body:
    """The sample payment, or payment `index` of a burst: its own event and customer (a distinct
    subject, with its own memory)."""
    raw = sample_bytes("stripe", "payment_intent.succeeded")
    if index is not None:
        payload = json.loads(raw)
        payload["id"] = _numbered(payload["id"], index)
        payment = payload["data"]["object"]
        payment["customer"] = _numbered(payment["customer"], index)
        raw = _sample_layout(payload)
    return Body("stripe payment_intent.succeeded", "stripe", "payment_intent.succeeded", raw)


def pull_request(number: int | None = None) -> Body:
    """The sample PR, or the same change as PR `number` (a distinct subject: its own review,
    comment and lease, as separate pull requests have)."""
    raw = sample_bytes("github", "pull_request.opened")
    if number is not None:
        payload = json.loads(raw)
        payload["number"] = payload["pull_request"]["number"] = number
        raw = _sample_layout(payload)
    return Body("github pull_request.opened", "github", "pull_request", raw)


def push(size: int = PUSH_BYTES) -> Body:
    """The sample push with commits added (distinct ids and messages, as a real push has)
    until the body reaches `size` bytes."""
    payload = json.loads(sample_bytes("github", "push"))
    template = payload["commits"][0]
    index = 0
    while len(json.dumps(payload, indent=2).encode()) < size:
        index += 1
        sha = hashlib.sha256(f"commit {index}".encode()).hexdigest()[:40]
        tree = hashlib.sha256(f"tree {index}".encode()).hexdigest()[:40]
        payload["commits"].append(
            {
                **template,
                "id": sha,
                "tree_id": tree,
                "message": f"Change {index}: adjust the handling of case {index * 7 % 101}",
                "url": template["url"].rsplit("/", 1)[0] + f"/{sha}",
                "modified": [f"src/module_{index % 37}.py"],
            }
        )
    return Body("github push (250 KB)", "github", "push", json.dumps(payload, indent=2).encode())


def pushes(count: int) -> list[Body]:
    """`count` pushes of the large body, each of its own head commit: GitHub's body is the
    event's key (its delivery id is not signed), so the same bytes again would be one event."""
    large = push()
    head = json.loads(large.raw)["after"]
    return [
        Body(
            large.name,
            large.source,
            large.event_type,
            large.raw.replace(
                f'"after": "{head}"'.encode(), f'"after": "{_numbered(head, index)}"'.encode(), 1
            ),
        )
        for index in range(count)
    ]


def bursts(count: int) -> list[list[Body]]:
    """`count` distinct events of each body: Stripe payments of as many customers, pull
    requests of as many numbers, pushes of as many head commits."""
    return [
        [stripe(index) for index in range(count)],
        [pull_request(10_000 + index) for index in range(count)],
        pushes(count),
    ]


def signed(config: HookwiseConfig, body: Body, secret: str) -> dict[str, str]:
    return verifier_for(config.sources[body.source]).sign(
        body.raw,
        secret,
        url="",
        event_type=body.event_type,
        delivery_id=str(uuid.uuid4()),
        timestamp=int(time.time()),
    )
