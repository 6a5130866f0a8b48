"""The shipped hookwise.yaml with other model limits, for measurements and tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

CONFIG_PATH = Path(__file__).resolve().parents[1] / "hookwise.yaml"
# Far above anything a test or a measurement sends: the governor stays out of the way.
UNLIMITED = {
    "requests_per_minute": 1_000_000,
    "input_tokens_per_minute": 1_000_000_000,
    "output_tokens_per_minute": 1_000_000_000,
}


def config_with(folder: Path, limits: dict[str, int], **governor: Any) -> Path:
    """The shipped hookwise.yaml, its text kept (tests edit it), with its governor section
    replaced: every model limited to `limits`. Written to `folder`."""
    text = CONFIG_PATH.read_text()
    start = text.index("\ngovernor:\n") + 1
    end = text.index("\n\n", start) + 1
    shipped = yaml.safe_load(text[start:end])["governor"]
    block = yaml.safe_dump(
        {"governor": {**shipped, **governor, "default_limits": limits}}, sort_keys=False
    )
    path = folder / "hookwise.yaml"
    path.write_text(text[:start] + block + text[end:])
    return path
