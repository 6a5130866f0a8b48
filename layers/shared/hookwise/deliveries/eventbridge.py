"""Completed results on an EventBridge bus: source `hookwise`, detail-type per route."""

from __future__ import annotations

import json
from typing import Any

import boto3

from hookwise.config import Route
from hookwise.deliveries.base import Publisher
from hookwise.domain.events import EventRecord

SOURCE = "hookwise"
# Entry errors worth another try; any other (access denied, a malformed entry) would recur.
TRANSIENT_ENTRY_ERRORS = frozenset({"InternalFailure", "ThrottlingException"})


class DeliveryFailed(Exception):
    """The bus refused the entry; `transient`: worth another try later."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class EventBridgePublisher(Publisher):
    def __init__(self, bus_name: str, client: Any = None) -> None:
        self._bus = bus_name
        self._client = client or boto3.client("events")

    @property
    def target(self) -> str:
        return self._bus

    def publish(self, record: EventRecord, route: Route) -> str:
        # The event as completed: its actions' outcomes (this one's among them) are not news.
        detail = {
            key: value
            for key, value in record.public_view().items()
            if value is not None and key != "actions"
        }
        answer = self._client.put_events(
            Entries=[
                {
                    "EventBusName": self._bus,
                    "Source": SOURCE,
                    "DetailType": route.name,
                    "Detail": json.dumps(detail),
                    "Resources": [],
                }
            ]
        )
        entry = answer["Entries"][0]
        if answer.get("FailedEntryCount"):
            code = str(entry.get("ErrorCode", ""))
            raise DeliveryFailed(
                f"put_events failed: {code} {entry.get('ErrorMessage', '')}".strip(),
                transient=code in TRANSIENT_ENTRY_ERRORS,
            )
        return str(entry.get("EventId", ""))
