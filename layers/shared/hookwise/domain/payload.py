"""Reading a value out of a provider's payload by a dotted path."""

from __future__ import annotations

from typing import Any

MISSING = object()


def lookup(payload: Any, path: str) -> Any:
    """The value at a dotted path (`pull_request.user.login`), or MISSING."""
    value = payload
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return MISSING
    return value
