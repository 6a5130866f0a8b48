"""Read and validate `hookwise.yaml`, with errors that name the offending key."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from hookwise.config.models import HookwiseConfig


class ConfigError(ValueError):
    """The configuration file is missing, unreadable or invalid."""


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def parse_config(text: str, origin: str = "hookwise.yaml") -> HookwiseConfig:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{origin}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: expected a mapping at the top level")
    try:
        return HookwiseConfig.model_validate(data)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            message = error["msg"].removeprefix("Value error, ")
            where = _location(error["loc"])
            lines.append(message if where == "(top level)" else f"{where}: {message}")
        raise ConfigError(f"{origin}: " + "; ".join(lines)) from exc


@cache
def load_config(path: str) -> HookwiseConfig:
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config: {exc.strerror}") from exc
    return parse_config(text, origin=str(file))
