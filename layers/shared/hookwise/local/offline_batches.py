"""The offline model's Message Batches API, shaped as the SDK reads it: create, retrieve, list
(newest first, paged by `after_id`), cancel, and results as JSONL at the batch's `results_url`.

A batch is `in_progress` for the `delay_seconds` set when it was created, then ends: every
entry is answered by the same code as `POST /v1/messages` (prompt cache included), unless a
failure rule matches its `custom_id` or its text, which makes it `errored` or `expired`.
`unavailable` makes the endpoints answer an error status (the API down, for fallback paths).

Any client on the server's key sees every batch, as on the API, where one key's list holds
other applications' batches too: each batch keeps its own timing, so a test can have another
application's batch end while one of ours is still running.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

EXPIRY = timedelta(hours=24)
RESULT_TYPES = ("succeeded", "errored", "canceled", "expired")


@dataclass
class EntryFailure:
    """Entries whose custom_id or text contains `contains` end as `result` (`times`: how many)."""

    contains: str
    result: str = "errored"
    times: int | None = None

    def take(self, custom_id: str, text: str) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        if self.contains not in custom_id and self.contains not in text:
            return False
        if self.times is not None:
            self.times -= 1
        return True


@dataclass
class Batch:
    id: str
    created: float
    requests: list[dict[str, Any]]
    # In progress until then (epoch seconds).
    ends_at: float
    cancel_initiated: float | None = None
    ended: float | None = None
    # Being answered: other readers still see it in progress.
    answering: bool = False
    results: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def status(self) -> str:
        if self.ended is not None:
            return "ended"
        return "canceling" if self.cancel_initiated is not None else "in_progress"

    def counts(self) -> dict[str, int]:
        counts = {kind: 0 for kind in (*RESULT_TYPES, "processing")}
        if self.ended is None:
            counts["processing"] = len(self.requests)
        for result in self.results.values():
            counts[result["type"]] += 1
        return counts


def _iso(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC).isoformat()


def _text(params: dict[str, Any]) -> str:
    return json.dumps(params.get("messages", []))


class OfflineBatches:
    def __init__(
        self,
        respond: Callable[[dict[str, Any]], dict[str, Any]],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._respond = respond
        self._clock = clock
        self._lock = threading.Lock()
        self._batches: dict[str, Batch] = {}
        self.delay_seconds = 0.0
        self.unavailable: int | None = None
        self._failures: list[EntryFailure] = []

    def configure(self, spec: dict[str, Any]) -> None:
        """`{"delay_seconds": S, "failures": [{"contains", "result", "times"}],
        "unavailable": status or null}`."""
        with self._lock:
            self.delay_seconds = float(spec.get("delay_seconds", 0.0))
            self._failures = [EntryFailure(**rule) for rule in spec.get("failures", [])]
            self.unavailable = spec.get("unavailable")

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "batches": len(self._batches),
                "entries": sum(len(b.requests) for b in self._batches.values()),
                "entries_per_batch": [len(b.requests) for b in self._batches.values()],
            }

    def create(self, body: dict[str, Any]) -> Batch:
        requests = body.get("requests") or []
        ids = [entry.get("custom_id") for entry in requests]
        if not requests or len(set(ids)) != len(ids) or None in ids:
            raise ValueError("requests must be non-empty with unique custom_id values")
        with self._lock:
            created = self._clock()
            batch = Batch(
                id=f"msgbatch_{uuid.uuid4().hex[:24]}",
                created=created,
                requests=requests,
                ends_at=created + self.delay_seconds,
            )
            self._batches[batch.id] = batch
        return batch

    def get(self, batch_id: str) -> Batch | None:
        with self._lock:
            batch = self._batches.get(batch_id)
        if batch is not None:
            self._progress(batch)
        return batch

    def page(self, limit: int, after_id: str | None) -> tuple[list[Batch], bool]:
        """Newest first; `after_id` continues after that batch."""
        with self._lock:
            ordered = sorted(self._batches.values(), key=lambda b: b.created, reverse=True)
        if after_id is not None:
            ids = [b.id for b in ordered]
            ordered = ordered[ids.index(after_id) + 1 :] if after_id in ids else []
        for batch in ordered[:limit]:
            self._progress(batch)
        return ordered[:limit], len(ordered) > limit

    def cancel(self, batch_id: str) -> Batch | None:
        batch = self.get(batch_id)
        if batch is None:
            return None
        with self._lock:
            if batch.ended is None and not batch.answering:
                now = self._clock()
                batch.cancel_initiated = now
                # Nothing was started yet: every entry is canceled at once.
                batch.results = {e["custom_id"]: {"type": "canceled"} for e in batch.requests}
                batch.ended = now
        return batch

    def results_jsonl(self, batch: Batch) -> bytes:
        lines = [
            json.dumps({"custom_id": custom_id, "result": result})
            for custom_id, result in batch.results.items()
        ]
        return ("\n".join(lines) + "\n").encode()

    def _progress(self, batch: Batch) -> None:
        """Answer every entry once the processing delay has passed."""
        with self._lock:
            due = self._clock() >= batch.ends_at
            if batch.ended is not None or batch.answering or not due:
                return
            batch.answering = True
            failures = {
                entry["custom_id"]: next(
                    (
                        rule.result
                        for rule in self._failures
                        if rule.take(entry["custom_id"], _text(entry.get("params", {})))
                    ),
                    None,
                )
                for entry in batch.requests
            }
        results: dict[str, dict[str, Any]] = {}
        for entry in batch.requests:
            failed = failures[entry["custom_id"]]
            if failed == "errored":
                results[entry["custom_id"]] = {
                    "type": "errored",
                    "error": {
                        "type": "error",
                        "error": {"type": "api_error", "message": "injected entry failure"},
                    },
                }
            elif failed is not None:
                results[entry["custom_id"]] = {"type": failed}
            else:
                message = self._respond(entry.get("params", {}))
                results[entry["custom_id"]] = {"type": "succeeded", "message": message}
        with self._lock:
            batch.results = results
            batch.ended = self._clock()

    def as_json(self, batch: Batch, base_url: str) -> dict[str, Any]:
        return {
            "id": batch.id,
            "type": "message_batch",
            "processing_status": batch.status,
            "request_counts": batch.counts(),
            "created_at": _iso(batch.created),
            "expires_at": _iso(batch.created + EXPIRY.total_seconds()),
            "ended_at": _iso(batch.ended),
            "cancel_initiated_at": _iso(batch.cancel_initiated),
            "archived_at": None,
            "results_url": (
                f"{base_url}/v1/messages/batches/{batch.id}/results"
                if batch.ended is not None
                else None
            ),
        }
