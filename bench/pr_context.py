"""Closing the loop on a large pull request: prompt tokens with the route's diff budget against
the naive prompt (the whole payload plus every patch), and provider API calls per event.

One `pull_request.opened` and one `synchronize` for a PR of 220 changed files (a 3,000-line
lock file, a minified bundle, a protobuf module, a binary) go through the real worker against
moto, the offline model and the GitHub fake; tokens are estimated at ~4 bytes a token, as the
worker's budgeter does, for both prompts alike.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import boto3
import httpx

from bench.support import moto_stack, signed_github
from hookwise import wiring
from hookwise.context.budget import BYTES_PER_TOKEN
from hookwise.local.event_source import EventSourceMapping
from hookwise.local.offline_model import OfflineModelServer
from hookwise.local.provider_fakes import large_pull_files
from hookwise.samples import sample_bytes
from hookwise.verifiers import WebhookRequest

FILES = 220
ROUTE = "github-pr-review"


def _tokens(text: str) -> int:
    return -(-len(text.encode()) // BYTES_PER_TOKEN)


def _deliver(config: Any, payload: dict[str, Any]) -> str:
    body = json.dumps(payload).encode()
    reply = wiring.ingest_service().receive(
        WebhookRequest(
            source="github",
            method="POST",
            url="https://bench/webhooks/github",
            headers={k.lower(): v for k, v in signed_github(config, body, "pull_request").items()},
            body=body,
        )
    )
    assert reply.status == 202, reply.body
    return str(json.loads(reply.body)["event_id"])


def _settled(event_id: str) -> bool:
    record = wiring.store().get(event_id)
    outcome = ((record.actions or {}) if record else {}).get("github.comment") or {}
    return outcome.get("status") in ("done", "failed")


def measure(files: int = FILES) -> dict[str, Any]:
    from functions.worker.handler import handler

    model = OfflineModelServer().start()
    try:
        with moto_stack(max_backoff="1") as (config, resources):
            os.environ.update(ANTHROPIC_BASE_URL=model.url, ANTHROPIC_API_KEY="bench")
            wiring.reset()
            github = os.environ["HOOKWISE_GITHUB_API_URL"]
            route = config.route_named(ROUTE)
            assert route is not None
            assert route.context.github_pr_files is not None
            opened = json.loads(sample_bytes("github", "pull_request.opened"))
            repo, number = opened["repository"]["full_name"], opened["number"]
            httpx.post(
                f"{github}/_control/pulls", json={"repo": repo, "number": number, "large": files}
            ).raise_for_status()
            mapping = EventSourceMapping(
                boto3.client("sqs"),
                resources.queue_url,
                handler,
                wait_seconds=0,
            )
            calls: dict[str, int] = {}
            prompt_tokens = 0
            for name in ("pull_request.opened", "pull_request.synchronize"):
                payload = json.loads(sample_bytes("github", name))
                payload["number"] = payload["pull_request"]["number"] = number
                before = len(httpx.get(f"{github}/_control/state").json()["calls"])
                event_id = _deliver(config, payload)
                deadline = time.monotonic() + 60
                while not _settled(event_id) and time.monotonic() < deadline:
                    if not mapping.poll_once():
                        time.sleep(0.1)
                assert _settled(event_id), f"{name} did not finish"
                state = httpx.get(f"{github}/_control/state").json()
                calls[name] = len(state["calls"]) - before
                if name == "pull_request.opened":
                    request = model.model.requests[-1]
                    prompt_tokens = _tokens(
                        json.dumps(request.get("system")) + json.dumps(request["messages"])
                    )
                    user = request["messages"][0]["content"]
                    context = user.split("<diff>\n", 1)[1].split("</diff>", 1)[0]
            assert len(state["comments"][f"{repo}#{number}"]) == 1
            patches = "\n".join(f.get("patch") or "" for f in large_pull_files(files))
            naive = _tokens(route.system) + _tokens(
                json.dumps(opened, indent=2, ensure_ascii=False) + patches
            )
            budget = route.context.github_pr_files.token_budget
            return {
                "files": files,
                "prompt_tokens": prompt_tokens,
                "naive_prompt_tokens": naive,
                "ratio": prompt_tokens / naive,
                "diff_tokens": _tokens(context),
                "diff_token_budget": budget,
                "diff_over_budget": _tokens(context) / budget,
                "files_shown": int(context.split("shown: ", 1)[1].split(" ", 1)[0]),
                "provider_calls": calls,
            }
    finally:
        model.stop()
