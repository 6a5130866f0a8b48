"""The public door: verify, persist, dispatch, answer. Never calls the model."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from hookwise.adapters.secrets import SecretsProvider, SecretUnavailable
from hookwise.adapters.store import EventStore
from hookwise.domain.events import EventRecord, EventStatus, isoformat, make_event_id, utcnow
from hookwise.ingest.dispatch import Dispatcher
from hookwise.observability import count, logger, metrics
from hookwise.settings import Settings
from hookwise.sources import Source
from hookwise.verifiers import Rejected, Verifier, WebhookRequest, verifier_for

# Headers kept on the item for the worker and on-call; never signatures.
KEPT_HEADERS = (
    "content-type",
    "user-agent",
    "x-github-event",
    "x-github-delivery",
    "x-github-hook-id",
    "x-shopify-topic",
    "x-shopify-webhook-id",
    "x-shopify-event-id",
    "x-shopify-shop-domain",
    "webhook-id",
    "svix-id",
    "x-slack-retry-num",
)


@dataclass(frozen=True)
class Reply:
    status: int
    body: str
    content_type: str = "application/json"

    @classmethod
    def json(cls, status: int, /, **fields: Any) -> Reply:
        return cls(status=status, body=json.dumps(fields))


GENERIC_REJECTIONS = {
    400: "malformed request",
    401: "unauthorized",
    404: "unknown source",
    413: "payload too large",
    503: "temporarily unavailable, retry",
}


def rejection(status: int) -> Reply:
    """Rejections carry no detail: a forger learns nothing from the answer."""
    return Reply.json(status, error=GENERIC_REJECTIONS[status])


class IngestService:
    def __init__(
        self,
        *,
        sources: Mapping[str, Source],
        store: EventStore,
        dispatcher: Dispatcher,
        secrets: SecretsProvider,
        settings: Settings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sources = sources
        self._store = store
        self._dispatcher = dispatcher
        self._secrets = secrets
        self._settings = settings
        self._clock = clock

    def receive(self, request: WebhookRequest) -> Reply:
        source = self._sources.get(request.source)
        if source is None:
            return self.reject(request.source, 404, "unknown_source")
        if len(request.body) > self._settings.max_body_bytes:
            return self.reject(request.source, 413, "body_too_large")
        verifier = verifier_for(source, self._clock)
        try:
            secrets = self._secrets.source_secrets(source.name, self._secret_name(source))
        except SecretUnavailable:
            logger.exception("secrets unavailable", extra={"source": source.name})
            return rejection(503)
        try:
            verifier.verify(request, secrets)
            payload = verifier.parse(request.body)
            handshake = verifier.handshake(request, payload, secrets)
            if handshake is not None:
                metrics.add_metric(name="Handshakes", unit="Count", value=1)
                return Reply(handshake.status, handshake.body, handshake.content_type)
            delivery = verifier.identify(request, payload)
        except Rejected as rejected:
            return self.reject(request.source, rejected.status, rejected.reason)
        record = self._new_record(
            request,
            source,
            verifier,
            delivery.event_type,
            delivery.delivery_id,
            delivery.delivery_key,
        )
        logger.append_keys(event_id=record.event_id)
        try:
            return self._persist_and_dispatch(record, source.scheme)
        except (BotoCoreError, ClientError):
            logger.exception("storage or queue failure; asking the provider to retry")
            metrics.add_metric(name="IngestUnavailable", unit="Count", value=1)
            return rejection(503)

    def _secret_name(self, source: Source) -> str:
        return source.secret_name or f"{self._settings.secrets_prefix}{source.name}"

    def reject(self, source: str, status: int, reason: str) -> Reply:
        """Answer a rejection, logged and counted (also for requests refused before they
        reach `receive`, such as a body that cannot be decoded)."""
        # Source, reason category and request id only: never the secret, signature or body.
        logger.warning(
            "webhook rejected", extra={"source": source, "reason": reason, "status": status}
        )
        # One `Rejected` metric with a `reason` dimension, in its own EMF record: a dimension
        # added to `metrics` would label every metric of the invocation with the reason.
        count("Rejected", reason=reason)
        return rejection(status)

    def _new_record(
        self,
        request: WebhookRequest,
        source: Source,
        verifier: Verifier,
        event_type: str,
        delivery_id: str | None,
        delivery_key: str,
    ) -> EventRecord:
        now = utcnow()
        event_id = make_event_id(source.name, delivery_key)
        headers = {name: request.headers[name] for name in KEPT_HEADERS if name in request.headers}
        return EventRecord(
            event_id=event_id,
            source=source.name,
            event_type=event_type,
            received_at=isoformat(now),
            updated_at=isoformat(now),
            delivery_id=delivery_id,
            headers=headers,
            body=request.body,
            expires_at=int(now.timestamp()) + self._settings.event_ttl_days * 86_400,
        )

    def _persist_and_dispatch(self, record: EventRecord, scheme: str) -> Reply:
        """Two calls on the first delivery: the conditional put, then the send."""
        if self._store.put_new(record, dispatch_lease_until=self._clock(), scheme=scheme):
            metrics.add_metric(name="Received", unit="Count", value=1)
            self._dispatch(record)
            return Reply.json(202, event_id=record.event_id, status="accepted")
        # Seen before. "duplicate" only for an event known to be queued: one no worker has
        # claimed yet may be the one whose send failed, so it is sent again first (a second
        # message is harmless: the worker's claim is conditional).
        if self._store.status(record.event_id) is EventStatus.RECEIVED:
            self._dispatch(record)
        metrics.add_metric(name="Duplicates", unit="Count", value=1)
        return Reply.json(200, event_id=record.event_id, status="duplicate")

    def _dispatch(self, record: EventRecord) -> None:
        self._dispatcher.dispatch(record)
        metrics.add_metric(name="Enqueued", unit="Count", value=1)
        # DEBUG: an accepted delivery is already its item, a count and an access-log line;
        # an INFO line each would be a third of the function's log bytes.
        logger.debug(
            "event enqueued", extra={"source": record.source, "event_type": record.event_type}
        )
