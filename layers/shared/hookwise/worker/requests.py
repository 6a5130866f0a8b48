"""The model request for a route's prompt, the same for a real-time call, a batch entry and the
benchmark: the stable prefix (tool, system) marked for caching only when it can be cached."""

from __future__ import annotations

from typing import Any

from hookwise.config import HookwiseConfig, Route
from hookwise.llm.base import ModelRequest
from hookwise.llm.caching import cacheable, prefix_tokens
from hookwise.worker.prompt import Prompt


def model_id(config: HookwiseConfig, route: Route) -> tuple[str, str]:
    """(the configured name, the id to send): Bedrock ids differ from the API's."""
    name = route.model or config.defaults.model
    spec = config.models.get(name)
    if config.defaults.provider == "bedrock" and spec and spec.bedrock_id:
        return name, spec.bedrock_id
    return name, name


def cache_ttl(config: HookwiseConfig, route: Route, prompt: Prompt) -> str | None:
    """The route's cache lifetime if its prefix reaches the model's minimum, else None."""
    name, _ = model_id(config, route)
    tokens = prefix_tokens(prompt.system, prompt.tool, config.governor.chars_per_token)
    return route.cache.ttl if cacheable(config.models.get(name), tokens) else None


def model_request(
    config: HookwiseConfig,
    route: Route,
    prompt: Prompt,
    messages: list[dict[str, Any]] | None = None,
    timeout_seconds: float = 60.0,
) -> ModelRequest:
    return ModelRequest(
        model=model_id(config, route)[1],
        max_tokens=route.max_tokens or config.defaults.max_tokens,
        system=prompt.system,
        messages=messages or [{"role": "user", "content": prompt.user}],
        tool=prompt.tool,
        timeout_seconds=timeout_seconds,
        cache_ttl=cache_ttl(config, route, prompt),
        strict=strict_tools(config, route),
    )


def strict_tools(config: HookwiseConfig, route: Route) -> bool:
    """Whether the route's model takes strict tool use (a model the configuration does not
    list is not assumed to)."""
    spec = config.models.get(model_id(config, route)[0])
    return spec.strict_tools if spec else False
