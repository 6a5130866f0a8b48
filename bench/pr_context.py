"""Closing the loop on a large pull request: prompt tokens with the route's diff budget against
the naive prompt (the whole payload plus every patch), and provider API calls per event.

One `pull_request.opened` and one `synchronize` for a PR of 220 changed files (a 3,000-line
lock file, a minified bundle, a protobuf module, a binary) go through the real worker against
moto, the offline model and the GitHub fake; tokens are estimated at ~4 bytes a token, as the
worker's budgeter does, for both prompts alike. The push changes one of the files: its review is
incremental (the compare from the reviewed head), and its prompt is measured against the opened
event's, which carries the whole diff.
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
            large = large_pull_files(files)
            repo, number = opened["repository"]["full_name"], opened["number"]
            pushed = json.loads(sample_bytes("github", "pull_request.synchronize"))
            # The push changes one source file of the PR.
            push = {"sha": pushed["pull_request"]["head"]["sha"], "files": [large[-1]]}
            httpx.post(
                f"{github}/_control/pulls",
                json={
                    "repo": repo,
                    "number": number,
                    "large": files,
                    "head": opened["pull_request"]["head"]["sha"],
                    "pushes": [push],
                },
            ).raise_for_status()
            mapping = EventSourceMapping(
                boto3.client("sqs"),
                resources.queue_url,
                handler,
                wait_seconds=0,
            )
            calls: dict[str, int] = {}
            prompts: dict[str, int] = {}
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
                request = model.model.requests[-1]
                prompts[name] = _tokens(
                    json.dumps(request.get("system")) + json.dumps(request["messages"])
                )
                user = request["messages"][0]["content"]
                if name == "pull_request.opened":
                    context = user.split("<diff>\n", 1)[1].split("</diff>", 1)[0]
                else:
                    assert "since your last review" in user, "the push was reviewed whole"
            assert len(state["comments"][f"{repo}#{number}"]) == 1
            patches = "\n".join(f.get("patch") or "" for f in large)
            naive = _tokens(route.system) + _tokens(
                json.dumps(opened, indent=2, ensure_ascii=False) + patches
            )
            budget = route.context.github_pr_files.token_budget
            prompt_tokens = prompts["pull_request.opened"]
            incremental = prompts["pull_request.synchronize"]
            return {
                "files": files,
                "prompt_tokens": prompt_tokens,
                "naive_prompt_tokens": naive,
                "ratio": prompt_tokens / naive,
                "incremental_prompt_tokens": incremental,
                "incremental_ratio": incremental / prompt_tokens,
                "diff_tokens": _tokens(context),
                "diff_token_budget": budget,
                "diff_over_budget": _tokens(context) / budget,
                "files_shown": int(context.split("shown: ", 1)[1].split(" ", 1)[0]),
                "provider_calls": calls,
            }
    finally:
        model.stop()
