"""Bursts against a model at its limit, over HTTP on `hookwise dev`, with the production
receive budget: every event completed, nothing in the DLQ, model calls per event (429s
included) and the drain time over N/R; and fairness: a few Stripe events behind a GitHub flood.
"""

from __future__ import annotations

import json
import math
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from bench.bodies import pull_request
from bench.configs import config_with, shipped_config
from bench.stats import percentile
from bench.support import ROOT, SECRET
from hookwise.config import load_config
from hookwise.local.process import dev_process
from hookwise.samples import sample_bytes
from hookwise.verifiers import verifier_for

# The receive budget and timings a production deployment uses.
PRODUCTION_QUEUE = {
    "HOOKWISE_MAX_RECEIVE_COUNT": "5",
    "HOOKWISE_MAX_BACKOFF": "900",
    "HOOKWISE_VISIBILITY_TIMEOUT": "30",
}
POSTING_THREADS = 16


def _github(index: int) -> tuple[str, bytes, dict[str, str]]:
    """A pull_request.opened for PR number `index`, as its own delivery."""
    return "github", pull_request(10_000 + index).raw, {"event": "pull_request"}


def _stripe(index: int) -> tuple[str, bytes, dict[str, str]]:
    payload = json.loads(sample_bytes("stripe", "payment_intent.succeeded"))
    payload["id"] = f"evt_burst_{index}_{uuid.uuid4().hex[:8]}"
    return "stripe", json.dumps(payload).encode(), {"event": "payment_intent.succeeded"}


# Input tokens of one PR review request (system, prompt, tool), as the offline model counts.
PR_INPUT_TOKENS = 840


def _limits(per_minute: int, kind: str) -> dict[str, int]:
    """A model limited by requests, or by input tokens (at `per_minute` PR reviews' worth)."""
    if kind == "requests":
        return {"requests_per_minute": per_minute}
    return {
        "requests_per_minute": per_minute * 100,
        "input_tokens_per_minute": per_minute * PR_INPUT_TOKENS,
    }


def run(
    events: int,
    per_minute: int,
    *,
    kind: str = "requests",
    stripe: int = 0,
    timeout: float | None = None,
    configured: bool = True,
    enforce_seconds: float | None = None,
) -> dict[str, Any]:
    """`events` GitHub PRs (then `stripe` Stripe payments) posted as fast as the stack takes
    them, the offline model limited to `per_minute` events' worth (over `enforce_seconds`, if
    set, rather than its usual burst), and the governor too if `configured`; else the governor
    runs on the shipped configuration and learns the limits from the model's headers."""
    limits = _limits(per_minute, kind)
    folder = Path(tempfile.mkdtemp(prefix="hookwise-burst-"))
    if configured:
        config_path = config_with(folder, {"requests_per_minute": 1_000_000, **limits})
    else:
        config_path = shipped_config(folder)
    config = load_config(str(config_path))
    enforced = {"enforce_seconds": enforce_seconds} if enforce_seconds else {}
    env = {
        **PRODUCTION_QUEUE,
        "HOOKWISE_CONFIG": str(config_path),
        "ANTHROPIC_API_KEY": "",
        **{f"HOOKWISE_SECRET_{name.upper()}": SECRET for name in config.sources},
    }
    deliveries = [_github(i) for i in range(events)] + [_stripe(i) for i in range(stripe)]
    ideal = (events + stripe) * 60 / per_minute
    deadline_seconds = timeout or max(60.0, 4 * ideal)
    with dev_process(ROOT, env) as dev, httpx.Client(base_url=dev.url, timeout=60) as api:
        httpx.post(
            f"{dev.model_url}/_control/faults", json={"limits": {**limits, **enforced}}
        ).raise_for_status()

        def post(delivery: tuple[str, bytes, dict[str, str]]) -> tuple[str, str, float]:
            source, body, hint = delivery
            headers = verifier_for(config.sources[source]).sign(
                body,
                SECRET,
                url=f"{dev.url}/webhooks/{source}",
                event_type=hint["event"],
                delivery_id=str(uuid.uuid4()),
                timestamp=int(time.time()),
            )
            answer = api.post(f"/webhooks/{source}", content=body, headers=headers)
            assert answer.status_code == 202, answer.text
            return source, str(answer.json()["event_id"]), time.time()

        started = time.time()
        with ThreadPoolExecutor(POSTING_THREADS) as pool:
            ids = list(pool.map(post, deliveries))
        posted = time.time()
        finished = _wait_for_all(api, dev.model_url, ids, started + deadline_seconds)
        calls = httpx.get(f"{dev.model_url}/_control/stats").json()
        dlq = api.post("/_local/invoke/dlq_redrive", json={"action": "summary"}).json()
    completed = {eid: at for eid, (status, at) in finished.items() if status == "completed"}
    # Per source, each event's time from its own acceptance to its completion.
    waited: dict[str, list[float]] = {}
    for source, event_id, accepted in ids:
        if event_id in completed:
            waited.setdefault(source, []).append(completed[event_id] - accepted)
    drain = max(completed.values(), default=posted) - started
    if kind == "input_tokens":
        # N/R in tokens: what the answered calls really took over the limit's rate.
        ideal = calls["input_tokens"] * 60 / limits["input_tokens_per_minute"]
    result: dict[str, Any] = {
        "events": len(ids),
        "limit": {
            "kind": kind,
            "events_per_minute": per_minute,
            "governor": "configured" if configured else "shipped configuration",
            **limits,
            **enforced,
        },
        "completed": len(completed),
        "dlq": int(dlq["total"]),
        "statuses": _count(status for status, _ in finished.values()),
        "model_calls": calls["calls"],
        "model_429": calls["429"],
        "calls_per_event": calls["calls"] / len(ids),
        "posting_seconds": posted - started,
        "drain_seconds": drain,
        "ideal_seconds": ideal,
        "drain_over_ideal": drain / ideal,
    }
    if stripe:
        few = waited.get("stripe", [])
        github_drain = max(
            (completed[eid] for source, eid, _ in ids if source == "github" and eid in completed),
            default=math.inf,
        )
        p95 = percentile(few, 95) if len(few) == stripe else math.inf
        # What the flood still had to run when the last Stripe event was accepted: a FIFO
        # queue would make each Stripe event wait about that long (a ratio near 1).
        left = github_drain - max(at for source, _, at in ids if source == "stripe")
        # A flood that never finished has no drain to compare with: inf, not a perfect 0.
        result["fairness"] = {
            "github_drain_seconds": github_drain - started,
            "github_left_seconds": left,
            "stripe_p95_seconds": p95,
            "stripe_p95_over_github_drain": (
                p95 / (github_drain - started) if github_drain < math.inf else math.inf
            ),
            "stripe_p95_over_github_left": p95 / left if 0 < left < math.inf else math.inf,
        }
    return result


def _count(statuses: Any) -> dict[str, int]:
    found: dict[str, int] = {}
    for status in statuses:
        found[status] = found.get(status, 0) + 1
    return found


def _wait_for_all(
    api: httpx.Client, model_url: str, ids: list[tuple[str, str, float]], deadline: float
) -> dict[str, tuple[str, float]]:
    """Each event's status and, once final, when it got there (its `updated_at`)."""
    pending = {event_id for _, event_id, _ in ids}
    found: dict[str, tuple[str, float]] = {}
    # Reading every event competes with the stack for its one ingest environment: wait on
    # the model's answer count (cheap) until it has answered them all, then read.
    while httpx.get(f"{model_url}/_control/stats").json()["answered"] < len(ids):
        if time.time() > deadline:
            break
        time.sleep(0.5)
    while pending and time.time() < deadline:
        for event_id in list(pending):
            event = api.get(f"/events/{event_id}").json()
            at = datetime.fromisoformat(event["updated_at"]).timestamp()
            found[event_id] = (event["status"], at)
            if event["status"] in {"completed", "failed", "skipped"}:
                pending.discard(event_id)
        if pending:
            time.sleep(1.0)
    return found


def announced_per_second(events: int = 100) -> dict[str, Any]:
    """The shipped configuration (Tier 1 defaults) against a model that announces 300
    requests a minute in its headers and enforces them as 5 a second."""
    return run(events, 300, configured=False, enforce_seconds=1.0)


def measure() -> dict[str, Any]:
    """The issue's figures: 100 events at 5/s, 500 at 10/s, an input-token limit, fairness,
    and limits learned from the model's headers, enforced per second."""
    return {
        "burst_100_at_5_per_s": run(100, 300),
        "burst_100_announced_per_second": announced_per_second(),
        "burst_500_at_10_per_s": run(500, 600),
        "burst_100_input_tokens": run(100, 300, kind="input_tokens"),
        "fairness_400_github_20_stripe": run(400, 300, stripe=20),
    }
