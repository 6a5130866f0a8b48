"""Completed results on an EventBridge bus: source `hookwise`, detail-type per route."""

from __future__ import annotations

import json
from typing import Any

import boto3

from hookwise.config import Route
from hookwise.deliveries.base import Publisher
from hookwise.domain.events import EventRecord

SOURCE = "hookwise"


class DeliveryFailed(Exception):
    pass


class EventBridgePublisher(Publisher):
    def __init__(self, bus_name: str, client: Any = None) -> None:
        self._bus = bus_name
        self._client = client or boto3.client("events")

    def publish(self, record: EventRecord, route: Route) -> None:
        detail = {key: value for key, value in record.public_view().items() if value is not None}
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
        if answer.get("FailedEntryCount"):
            raise DeliveryFailed(str(answer["Entries"][0].get("ErrorMessage", "put_events failed")))
