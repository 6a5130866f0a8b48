"""Realistic deliveries, one folder per source and one JSON file per event type: `hookwise send`
signs them, and the test suite and the benchmark feed them through the pipeline."""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

SAMPLES: Traversable = resources.files(__name__)


def samples(source: str) -> dict[str, Traversable]:
    """The samples shipped for a source, by event name."""
    folder = SAMPLES / source
    if not folder.is_dir():
        return {}
    return {
        entry.name.removesuffix(".json"): entry
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".json")
    }


def sample_bytes(source: str, event: str) -> bytes:
    """One sample's exact bytes."""
    return (SAMPLES / source / f"{event}.json").read_bytes()
