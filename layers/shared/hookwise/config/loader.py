"""Read and validate `hookwise.yaml`, with errors that name the offending key.

A deployment carries the configuration twice: the YAML people edit, and beside it the same
configuration compiled to JSON at synth time (`compile_config`), stamped with the YAML's
digest. A function loads the JSON with pydantic's own parser, without importing a YAML
library; a stale or missing compiled file falls back to the YAML.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from hookwise.config.models import HookwiseConfig
from hookwise.sources import read_compiled


class ConfigError(ValueError):
    """The configuration file is missing, unreadable or invalid."""


class CompiledConfig(BaseModel):
    """`hookwise.json`: the validated configuration and the digest of the YAML it came from."""

    source_sha256: str
    config: HookwiseConfig


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _yaml_without_repeated_keys(text: str) -> Any:
    """YAML as `yaml.safe_load` reads it, except that a key given twice in one mapping is an
    error: YAML would keep the last one silently (two `deliveries:` lines on a route, and the
    callback in the first is gone)."""
    import yaml  # only for the YAML path: functions load the compiled JSON

    class UniqueKeyLoader(yaml.SafeLoader):
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                if not isinstance(key, Hashable):
                    continue  # left to the SafeLoader, which refuses it
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        "while reading a mapping",
                        node.start_mark,
                        f"found the key {key!r} twice",
                        key_node.start_mark,
                    )
                seen.add(key)
            return super().construct_mapping(node, deep)

    return yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass


def parse_config(text: str, origin: str = "hookwise.yaml") -> HookwiseConfig:
    import yaml

    try:
        data = _yaml_without_repeated_keys(text)
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


def compile_config(source: Path, target: Path) -> None:
    """Validate `source` (YAML) and write it as JSON to `target`, stamped with its digest."""
    raw = source.read_bytes()
    compiled = CompiledConfig(
        source_sha256=hashlib.sha256(raw).hexdigest(),
        config=parse_config(raw.decode("utf-8"), origin=str(source)),
    )
    # by_alias and no defaults dropped: the JSON validates back to the same configuration.
    target.write_text(compiled.model_dump_json(by_alias=True), encoding="utf-8")


def _compiled(raw: bytes, path: Path) -> HookwiseConfig | None:
    compiled = read_compiled(path, raw)
    return None if compiled is None else HookwiseConfig.model_validate(compiled)


@cache
def load_config(path: str) -> HookwiseConfig:
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config: {exc.strerror}") from exc
    return _compiled(raw, file) or parse_config(raw.decode("utf-8"), origin=str(file))
