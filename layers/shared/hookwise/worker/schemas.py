"""A route's output schema (from hookwise.yaml) as a pydantic model and a tool definition.

The tool's schema is one strict tool use accepts (every object closed, no `maxItems`,
`maxLength` and the like: those move into the descriptions, where the model still reads them),
so the same tool serves models with and without strict mode. The pydantic model keeps every
constraint: an answer that fits the strict schema but not a dropped constraint (six labels
where five are allowed) gets the one repair call."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from hookwise.config import FieldSpec, HookwiseConfig
from hookwise.llm.base import ToolSpec

SCALARS: dict[str, type] = {"string": str, "integer": int, "number": float, "boolean": bool}


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _annotation(spec: FieldSpec) -> Any:
    if spec.enum:
        return Literal[tuple(spec.enum)]
    if spec.type == "array":
        return list.__class_getitem__(SCALARS[spec.items])
    return SCALARS[spec.type]


def _field(spec: FieldSpec) -> tuple[Any, Any]:
    constraints: dict[str, Any] = {"description": spec.description or None}
    if spec.type == "array" and spec.max_items:
        constraints["max_length"] = spec.max_items
    if spec.type == "string" and spec.max_length:
        constraints["max_length"] = spec.max_length
    annotation = _annotation(spec)
    if spec.required:
        return annotation, Field(**constraints)
    return annotation | None, Field(default=None, **constraints)


def output_model(name: str, fields: dict[str, FieldSpec]) -> type[BaseModel]:
    definitions: dict[str, Any] = {key: _field(spec) for key, spec in fields.items()}
    return create_model(name, __base__=Answer, **definitions)


class OutputSchemas:
    """Every schema of a config, built once: pydantic models to validate, tools to ask with."""

    def __init__(self, config: HookwiseConfig) -> None:
        self._models = {name: output_model(name, fields) for name, fields in config.schemas.items()}
        # Built on first use, then kept: pydantic walks the model for each schema it makes
        # (a third of a millisecond of CPU a prompt, otherwise).
        self._tools: dict[str, ToolSpec] = {}

    def model(self, schema: str) -> type[BaseModel]:
        return self._models[schema]

    def tool(self, schema: str) -> ToolSpec:
        """The tool the model must call: its input schema is the route's output schema."""
        tool = self._tools.get(schema)
        if tool is None:
            # Two threads may both build it: the same value, and no lock on the hot path.
            tool = self._tools[schema] = ToolSpec(
                name=f"record_{schema}",
                description=f"Record the {schema.replace('_', ' ')} for this event.",
                input_schema=strict_schema(self._models[schema]),
            )
        return tool


def strict_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema as strict tool use takes it, by the SDK's own conversion
    (imported with the first prompt, as the client is with the first call)."""
    from anthropic import transform_schema

    return transform_schema(model.model_json_schema())
