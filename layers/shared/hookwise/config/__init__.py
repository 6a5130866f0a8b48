"""`hookwise.yaml`: sources, routes, output schemas and model prices, validated by pydantic."""

from hookwise.config.loader import ConfigError, load_config
from hookwise.config.models import (
    CoalesceSettings,
    FieldSpec,
    HookwiseConfig,
    Match,
    ModelSpec,
    Route,
    SourceConfig,
)

__all__ = [
    "CoalesceSettings",
    "ConfigError",
    "FieldSpec",
    "HookwiseConfig",
    "Match",
    "ModelSpec",
    "Route",
    "SourceConfig",
    "load_config",
]
