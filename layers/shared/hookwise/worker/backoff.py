"""When a transient failure's message comes back: the queue is the retry engine."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

BASE_SECONDS = 2.0
# SQS's own ceiling for a message's visibility timeout.
SQS_MAX_VISIBILITY = 43_200


def retry_delay(
    receive_count: int,
    retry_after: float | None,
    max_backoff: int,
    rand: Callable[[], float] = random.random,
) -> int:
    """Seconds until the next attempt: the provider's `retry-after` when it gives one (even
    beyond the SDK's own cap), else exponential backoff with full jitter, capped."""
    if retry_after is not None and retry_after > 0:
        return min(SQS_MAX_VISIBILITY, math.ceil(retry_after))
    ceiling = min(float(max_backoff), BASE_SECONDS * 2 ** max(0, receive_count - 1))
    return max(1, min(SQS_MAX_VISIBILITY, math.ceil(rand() * ceiling)))
