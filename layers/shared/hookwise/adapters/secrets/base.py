"""Where a source's signing secrets come from."""

from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod


class SecretUnavailable(Exception):
    """The secret store could not be read: a transient failure (503), not a rejection."""


def env_override(source: str) -> list[str] | None:
    """`HOOKWISE_SECRET_<SOURCE>`: a comma-separated list that overrides the store."""
    value = os.environ.get(f"HOOKWISE_SECRET_{source.upper().replace('-', '_')}")
    if value is None:
        return None
    return [part.strip() for part in value.split(",") if part.strip()]


def parse_secret_list(value: str) -> list[str]:
    """A stored secret is a JSON list of active secrets, or one plain string."""
    text = value.strip()
    if text.startswith("["):
        parsed = json.loads(text)
        return [str(item) for item in parsed if str(item)]
    return [text] if text else []


class SecretsProvider(ABC):
    @abstractmethod
    def source_secrets(self, source: str, secret_name: str) -> list[str]:
        """Active secrets for a source, newest first; raises SecretUnavailable."""
