"""`hookwise.yaml`: sources, routes, output schemas and model prices, validated by pydantic."""

from hookwise.config.loader import ConfigError, load_config
from hookwise.config.models import (
    FieldSpec,
    HookwiseConfig,
    Match,
    ModelSpec,
    Route,
    SourceConfig,
)

__all__ = [
    "ConfigError",
    "FieldSpec",
    "HookwiseConfig",
    "Match",
    "ModelSpec",
    "Route",
    "SourceConfig",
    "load_config",
]
