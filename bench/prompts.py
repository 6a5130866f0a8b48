"""Prompt economy: bytes sent per event against the whole payload pretty-printed."""

from __future__ import annotations

import json
from typing import Any

from bench.support import CONFIG_PATH
from hookwise.config import load_config
from hookwise.samples import sample_bytes
from hookwise.worker.prompt import build_prompt, whole_payload_bytes
from hookwise.worker.routing import route_for
from hookwise.worker.schemas import OutputSchemas

EVENTS = ("pull_request.opened", "issues.opened", "issue_comment.created")


def measure() -> dict[str, Any]:
    config = load_config(str(CONFIG_PATH))
    schemas = OutputSchemas(config)
    # An event with no route of its own is measured with the default projection.
    fallback = config.route_named("standard-summary")
    results: dict[str, Any] = {}
    for name in EVENTS:
        payload = json.loads(sample_bytes("github", name))
        route = route_for(config, "github", name, payload) or fallback
        assert route is not None
        prompt = build_prompt(
            route,
            "github",
            name,
            payload,
            tool=schemas.tool(route.output),
            max_prompt_bytes=config.defaults.max_prompt_bytes,
        )
        baseline = whole_payload_bytes(payload)
        results[name] = {
            "route": route.name if route is not fallback else "(default projection)",
            "prompt_bytes": prompt.size_bytes,
            "whole_payload_bytes": baseline,
            "ratio": prompt.size_bytes / baseline,
        }
    return results
