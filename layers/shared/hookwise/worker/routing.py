"""Which route, if any, handles an event: source, event-type globs, payload conditions."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from hookwise.config import HookwiseConfig, Route
from hookwise.domain.payload import lookup


def _condition_holds(payload: Any, path: str, expected: Any) -> bool:
    actual = lookup(payload, path)
    if isinstance(expected, list):
        return actual in expected
    return bool(actual == expected)


def route_for(config: HookwiseConfig, source: str, event_type: str, payload: Any) -> Route | None:
    """The first route that matches; None means the event is skipped (no model call)."""
    for route in config.routes:
        match = route.match
        if match.source != source:
            continue
        if not any(fnmatchcase(event_type, pattern) for pattern in match.event_types):
            continue
        if all(_condition_holds(payload, path, want) for path, want in match.where.items()):
            return route
    return None
