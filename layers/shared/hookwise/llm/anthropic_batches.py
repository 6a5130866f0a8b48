"""The Message Batches API through the SDK's own client (`client.messages.batches`)."""

from __future__ import annotations

from collections.abc import Iterator

import anthropic

from hookwise.batches.ports import BatchApi, BatchEntry, BatchesUnavailable, BatchInfo, BatchRequest
from hookwise.llm.anthropic_client import SDK_MAX_RETRIES, answer_from, request_params

PAGE_SIZE = 100


def _info(batch: anthropic.types.messages.MessageBatch) -> BatchInfo:
    counts = batch.request_counts
    return BatchInfo(
        batch_id=batch.id,
        created_at=batch.created_at.timestamp(),
        ended=batch.processing_status == "ended",
        requests=counts.processing
        + counts.succeeded
        + counts.errored
        + counts.canceled
        + counts.expired,
    )


class AnthropicBatches(BatchApi):
    def __init__(self, client: anthropic.Anthropic) -> None:
        # Retries are the schedule's: the next run tries again.
        self._batches = client.with_options(max_retries=SDK_MAX_RETRIES).messages.batches

    def create(self, requests: list[BatchRequest]) -> str:
        try:
            batch = self._batches.create(
                requests=[
                    {"custom_id": entry.custom_id, "params": request_params(entry.request)}  # type: ignore[typeddict-item]
                    for entry in requests
                ]
            )
        except anthropic.AnthropicError as error:
            raise BatchesUnavailable(f"{type(error).__name__}: {error}"[:500]) from error
        return batch.id

    def retrieve(self, batch_id: str) -> BatchInfo:
        try:
            return _info(self._batches.retrieve(batch_id))
        except anthropic.AnthropicError as error:
            raise BatchesUnavailable(f"{type(error).__name__}: {error}"[:500]) from error

    def recent(self, since: float) -> list[BatchInfo]:
        found: list[BatchInfo] = []
        try:
            # Newest first: stop at the first batch older than `since`.
            for batch in self._batches.list(limit=PAGE_SIZE):
                info = _info(batch)
                if info.created_at < since:
                    break
                found.append(info)
        except anthropic.AnthropicError as error:
            raise BatchesUnavailable(f"{type(error).__name__}: {error}"[:500]) from error
        return found

    def results(self, batch_id: str) -> Iterator[BatchEntry]:
        try:
            for line in self._batches.results(batch_id):
                result = line.result
                if result.type == "succeeded":
                    yield BatchEntry(
                        line.custom_id, "succeeded", answer=answer_from(result.message)
                    )
                elif result.type == "errored":
                    error = result.error.error
                    yield BatchEntry(
                        line.custom_id, "errored", error=f"{error.type}: {error.message}"
                    )
                else:
                    yield BatchEntry(line.custom_id, result.type)
        except anthropic.AnthropicError as error:
            raise BatchesUnavailable(f"{type(error).__name__}: {error}"[:500]) from error
