"""End to end through the local stack: accepted events per second and ack latency at a fixed
offered load, against a trivial HTTP handler on the same machine (the floor)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx

from bench.bodies import pull_request
from bench.stats import median, percentile, ratio
from bench.support import ROOT, SECRET, signed_github
from hookwise.config import load_config
from hookwise.local.gateway import LoopbackServer
from hookwise.local.process import dev_process
from hookwise.local.stack import free_port


class Trivial(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Silent."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        body = b'{"status": "accepted"}'
        self.send_response(202)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def offered_load(
    url: str, requests: list[tuple[bytes, dict[str, str]]], rate: float, expect: int
) -> dict[str, Any]:
    """Open loop: send at `rate` per second whatever the answers; latency per request."""
    latencies: list[float] = []
    accepted = 0
    lock = threading.Lock()

    def one(item: tuple[bytes, dict[str, str]], client: httpx.Client) -> None:
        nonlocal accepted
        started = time.perf_counter()
        answer = client.post(url, content=item[0], headers=item[1])
        elapsed = time.perf_counter() - started
        with lock:
            latencies.append(elapsed)
            accepted += answer.status_code == expect

    started = time.perf_counter()
    with (
        httpx.Client(timeout=60, limits=httpx.Limits(max_connections=64)) as client,
        ThreadPoolExecutor(64) as pool,
    ):
        for index, item in enumerate(requests):
            delay = started + index / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one, item, client)
    duration = time.perf_counter() - started
    return {"latencies": latencies, "accepted": accepted, "seconds": duration}


def _summary(run: dict[str, Any]) -> dict[str, Any]:
    return {
        "accepted": run["accepted"],
        "accepted_per_second": run["accepted"] / run["seconds"],
        "ack_ms_median": median(run["latencies"]) * 1000,
        "ack_ms_p99": percentile(run["latencies"], 99) * 1000,
    }


def measure(requests: int = 150, rate: float = 10.0) -> dict[str, Any]:
    config = load_config(str(ROOT / "hookwise.yaml"))
    # Each its own PR: GitHub's body is the event's key (its delivery id is not signed).
    bodies = [pull_request(10_000 + index).raw for index in range(requests)]
    deliveries = [(body, signed_github(config, body, "pull_request")) for body in bodies]
    env = {f"HOOKWISE_SECRET_{name.upper()}": SECRET for name in config.sources}
    env["ANTHROPIC_API_KEY"] = ""
    with dev_process(ROOT, env) as dev:
        stack = offered_load(f"{dev.url}/webhooks/github", deliveries, rate, expect=202)
    server = LoopbackServer(("127.0.0.1", free_port()), Trivial)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        floor = offered_load(f"http://127.0.0.1:{server.server_port}/", deliveries, rate, 202)
    finally:
        server.shutdown()
    return {
        "offered_per_second": rate,
        "requests": requests,
        "stack": _summary(stack),
        "trivial_handler": _summary(floor),
        "ack_ratio_median": ratio(stack["latencies"], floor["latencies"], 50),
        "ack_ratio_p99": ratio(stack["latencies"], floor["latencies"], 99),
    }
