"""Model cost per million events by mode, for each shipped route: real time without caching,
real time with caching (the prefix marked when it reaches the model's minimum, as the worker
does), and Message Batches. Token counts are the offline model's (through the real anthropic
SDK, its cache simulated); prices are hookwise.yaml's."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any

import anthropic

from bench.support import CONFIG_PATH
from hookwise.batches.ports import BatchRequest
from hookwise.config import HookwiseConfig, Route, load_config
from hookwise.llm.anthropic_batches import AnthropicBatches
from hookwise.llm.anthropic_client import AnthropicModelClient
from hookwise.llm.base import ModelRequest, ModelUsage
from hookwise.llm.caching import cost_usd
from hookwise.local.offline_model import OfflineModelServer
from hookwise.samples import sample_bytes, samples
from hookwise.verifiers import WebhookRequest, verifier_for
from hookwise.worker.prompt import build_prompt
from hookwise.worker.requests import model_id, model_request
from hookwise.worker.routing import route_for
from hookwise.worker.schemas import OutputSchemas

MILLION = 1_000_000
# Events per route and mode: the first of a cached route writes the cache, the rest read it
# (steady traffic of at least one event per cache lifetime).
EVENTS = 20
# An illustrative route beside the shipped ones: the PR review with instructions long enough to
# cache (about 1,500 tokens, as a route with a style guide and examples has).
LONG_PR_ROUTE = "github-pr-review (1.5k-token instructions)"


def route_samples(config: HookwiseConfig) -> dict[str, tuple[Route, str, str, Any]]:
    """One shipped sample per route: (route, source, event type, payload)."""
    found: dict[str, tuple[Route, str, str, Any]] = {}
    for name, source in config.sources.items():
        verifier = verifier_for(source)
        for sample in samples(name):
            body = sample_bytes(name, sample)
            payload = verifier.parse(body)
            # The event type as ingest reads it from a signed delivery (header or body).
            headers = verifier.sign(
                body,
                "bench",
                url="https://bench.example/",
                event_type=sample,
                delivery_id="bench",
                timestamp=int(time.time()),
            )
            lowered = {key.lower(): value for key, value in headers.items()}
            request = WebhookRequest(name, "POST", "https://bench.example/", lowered, body)
            event_type = verifier.identify(request, payload).event_type
            route = route_for(config, name, event_type, payload)
            if route is not None and route.name not in found:
                found[route.name] = (route, name, event_type, payload)
    return found


def requests_for(
    config: HookwiseConfig, route: Route, source: str, event_type: str, payload: Any
) -> list[ModelRequest]:
    """EVENTS requests for the route's sample, as the worker builds them (token counts depend
    on the prompt's size, not on which event it is)."""
    prompt = build_prompt(
        route,
        source,
        event_type,
        payload,
        tool=OutputSchemas(config).tool(route.output),
        max_prompt_bytes=config.defaults.max_prompt_bytes,
    )
    return [model_request(config, route, prompt)] * EVENTS


def per_million(
    config: HookwiseConfig, route: Route, usages: list[ModelUsage], *, batch: bool
) -> float:
    spec = config.models.get(model_id(config, route)[0])
    total = sum(cost_usd(spec, usage, cache_ttl=route.cache.ttl, batch=batch) for usage in usages)
    return total / len(usages) * MILLION


def measure_route(
    config: HookwiseConfig,
    route: Route,
    requests: list[ModelRequest],
    client: AnthropicModelClient,
    batches: AnthropicBatches,
) -> dict[str, Any]:
    uncached = [client.invoke(replace(r, cache_ttl=None)).usage for r in requests]
    cached = [client.invoke(r).usage for r in requests]
    batch_id = batches.create(
        [BatchRequest(f"bench-{n}", request) for n, request in enumerate(requests)]
    )
    while not batches.retrieve(batch_id).ended:
        time.sleep(0.05)
    batched = [e.answer.usage for e in batches.results(batch_id) if e.answer is not None]
    assert len(batched) == len(requests), "a batch entry was not answered"
    return {
        "model": model_id(config, route)[0],
        "cacheable": requests[0].cache_ttl is not None,
        "input_tokens_per_event": sum(u.input_tokens for u in uncached) / len(uncached),
        "realtime": per_million(config, route, uncached, batch=False),
        "realtime_cached": per_million(config, route, cached, batch=False),
        "batch": per_million(config, route, batched, batch=True),
    }


def measure() -> dict[str, dict[str, Any]]:
    config = load_config(str(CONFIG_PATH))
    server = OfflineModelServer().start()
    try:
        sdk = anthropic.Anthropic(base_url=server.url, api_key="bench", max_retries=0)
        client, batches = AnthropicModelClient(sdk), AnthropicBatches(sdk)
        figures: dict[str, dict[str, Any]] = {}
        chosen = route_samples(config)
        for name, (route, source, event_type, payload) in chosen.items():
            requests = requests_for(config, route, source, event_type, payload)
            figures[name] = measure_route(config, route, requests, client, batches)
        route, source, event_type, payload = chosen["github-pr-review"]
        long_route = route.model_copy(update={"system": route.system + " Review carefully." * 350})
        requests = requests_for(config, long_route, source, event_type, payload)
        figures[LONG_PR_ROUTE] = measure_route(config, long_route, requests, client, batches)
        return figures
    finally:
        server.stop()


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
