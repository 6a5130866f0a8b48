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


# Where the shipped PR review's coalescing block starts, and its lines' indent.
COALESCE_BLOCK = "\n    coalesce:\n"
COALESCE_INDENT = "      "


def config_with(
    folder: Path,
    limits: dict[str, int],
    *,
    coalesce: dict[str, Any] | None = None,
    **governor: Any,
) -> Path:
    """The shipped hookwise.yaml, its text kept (tests edit it), with its governor section
    replaced: every model limited to `limits`. Written to `folder`.

    The shipped PR review coalesces a subject's events over a minute: measurements and tests
    of anything else get it without (`coalesce` None), or with these settings over the
    shipped ones (seconds short enough to wait for)."""
    text = CONFIG_PATH.read_text()
    start = text.index("\ngovernor:\n") + 1
    end = text.index("\n\n", start) + 1
    shipped = yaml.safe_load(text[start:end])["governor"]
    block = yaml.safe_dump(
        {"governor": {**shipped, **governor, "default_limits": limits}}, sort_keys=False
    )
    text = _coalescing(text[:start] + block + text[end:], coalesce)
    path = folder / "hookwise.yaml"
    path.write_text(text)
    return path


def _coalescing(text: str, settings: dict[str, Any] | None) -> str:
    start = text.index(COALESCE_BLOCK) + 1
    end = start + len(COALESCE_BLOCK) - 1
    while text.startswith(COALESCE_INDENT, end):
        end = text.index("\n", end) + 1
    if settings is None:
        return text[:start] + text[end:]
    shipped = yaml.safe_load(text[start:end])["coalesce"]
    lines = yaml.safe_dump({**shipped, **settings}, sort_keys=False).splitlines()
    block = "".join(f"{COALESCE_INDENT}{line}\n" for line in lines)
    return text[:start] + "    coalesce:\n" + block + text[end:]
