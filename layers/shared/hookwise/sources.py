"""The sources as the ingest function reads them: from the configuration compiled at synth
time, with the standard library alone.

The ingest cold start never imports pydantic or a YAML library (`tests/unit/test_imports.py`):
the compiled JSON was validated when it was written, so it is read as it is. Without a fresh
compiled file (local runs, tests) the sources come from the validated YAML instead.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Source:
    """A provider endpoint, `POST /webhooks/{name}`: what its verifier needs."""

    name: str
    scheme: str
    secret_name: str | None = None
    tolerance_seconds: int | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


def compiled_path(path: Path) -> Path:
    return path.with_suffix(".json")


def read_compiled(path: Path, raw: bytes) -> dict[str, Any] | None:
    """The compiled configuration beside `path` if it was compiled from `raw`, else None."""
    try:
        compiled = json.loads(compiled_path(path).read_bytes())
    except OSError:
        return None
    if compiled.get("source_sha256") != hashlib.sha256(raw).hexdigest():
        return None
    config: dict[str, Any] = compiled["config"]
    return config


@cache
def load_sources(path: str) -> dict[str, Source]:
    file = Path(path)
    compiled = read_compiled(file, file.read_bytes()) if file.is_file() else None
    if compiled is None:
        from hookwise.config import load_config  # validates the YAML, with clear errors

        return {
            name: Source(
                name=name,
                scheme=source.scheme,
                secret_name=source.secret_name,
                tolerance_seconds=source.tolerance_seconds,
                options=source.options,
            )
            for name, source in load_config(path).sources.items()
        }
    return {
        name: Source(
            name=name,
            scheme=source["scheme"],
            secret_name=source.get("secret_name"),
            tolerance_seconds=source.get("tolerance_seconds"),
            options=source.get("options") or {},
        )
        for name, source in compiled["sources"].items()
    }
