"""How a provider call failed, in the terms the worker acts on."""

from __future__ import annotations

# Without retry-after or a reset time, GitHub asks for at least a minute after a secondary limit.
DEFAULT_RATE_LIMIT_SECONDS = 60


class ProviderError(Exception):
    """A provider call failed. `transient`: worth retrying later; otherwise permanent."""

    def __init__(self, message: str, *, transient: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.transient = transient
        self.retry_after = retry_after


class ProviderRateLimited(ProviderError):
    """The provider asked us to wait: not a failure, the event comes back after `retry_after`."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message, transient=True, retry_after=retry_after)


def permanent(message: str) -> ProviderError:
    return ProviderError(message, transient=False)


def transient(message: str) -> ProviderError:
    return ProviderError(message, transient=True)
