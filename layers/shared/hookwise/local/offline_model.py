"""The offline model: an Anthropic-Messages-compatible HTTP server for local development and
tests. It answers every tool-use request with a deterministic, schema-valid answer derived from
the prompt (so the result says something about the event), reports usage like the real API
(cache writes, then cache reads, for a marked prefix past the model's minimum: see
`offline_cache`), serves the Message Batches API (`offline_batches`), and can inject faults:
error statuses with `retry-after`, slow answers, dropped connections, a requests-per-minute limit.

It also answers Amazon Bedrock's InvokeModel path, so `AnthropicBedrock` can be exercised
offline. Run it alone with `python -m hookwise.local.offline_model --port 8788`; drive
faults over HTTP:
`POST /_control/faults {"rules": [...], "limits": {"requests_per_minute": N,
"input_tokens_per_minute": N, "output_tokens_per_minute": N, "burst_seconds": S,
"enforce_seconds": E}}` (or the older `"rate_limit_per_minute": N` for requests alone),
`DELETE /_control/faults`,
`GET /_control/stats`. The cache and the batches have their own control endpoints:
`POST /_control/cache {"min_tokens": {"claude-haiku-4-5": N}, "default_min_tokens": N,
"clear": true}` and `POST /_control/batches {"delay_seconds": S, "failures": [{"contains":
custom_id or text, "result": "errored" | "expired", "times": N}], "unavailable": status}`.

Its limits behave like the API's: separate request, input-token and output-token buckets that
refill continuously; output is reserved at `max_tokens` and adjusted to the real count after
the answer; over a limit it answers 429 with `retry-after`, and every answer carries the
`anthropic-ratelimit-<bucket>-{limit,remaining,reset}` headers. `enforce_seconds` enforces each
per-minute limit over that interval, as the API may (300 requests a minute as 5 a second: a
bucket holding 5, refilled at 5 a second), where `burst_seconds` lets a quiet spell's capacity
be used at once.

Strict tool use is honoured: a tool marked `strict: true` must have a schema strict mode
accepts (every object `additionalProperties: false`, none of the keywords it does not take,
such as `maxItems` or `maxLength`), else the answer is a 400 that names the keyword; the
answer fits the schema. Fault rules can also make the model refuse (`"stop_reason":
"refusal"`) or stop at max_tokens with the tool input cut short (`"stop_reason":
"max_tokens"`); `invalid_output` answers what strict decoding cannot prevent under strict (more
items than a description allows), and a misfit without it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote

from hookwise.local.gateway import LoopbackServer
from hookwise.local.http_handler import LocalHandler
from hookwise.local.offline_batches import Batch, OfflineBatches
from hookwise.local.offline_cache import PromptCache

BEDROCK_INVOKE = re.compile(r"/model/([^/]+)/invoke")
BATCHES = "/v1/messages/batches"
BATCH_PATH = re.compile(r"/v1/messages/batches/([^/]+)(/results|/cancel)?")
PAYLOAD = re.compile(r"<payload>\n(.*)\n</payload>", re.DOTALL)
EVENT_TYPE = re.compile(r"type '([^']+)'")
TITLE_KEYS = ("title", "name", "subject", "summary", "description", "text", "body")
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


@dataclass
class FaultRule:
    status: int | None = None
    contains: str | None = None
    times: int | None = None
    retry_after: float | None = None
    delay: float | None = None
    drop: bool = False
    # Answer with a tool input that does not fit the schema (to exercise repair).
    invalid_output: bool = False
    # Stop as the model may: "refusal" (no tool input) or "max_tokens" (cut short).
    stop_reason: str | None = None

    def applies(self, text: str) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        return self.contains is None or self.contains in text


def _first_text(payload: Any, depth: int = 0) -> str | None:
    """The most title-like string in the payload: what a summary should mention."""
    if depth > 4 or not isinstance(payload, dict):
        return None
    for key in TITLE_KEYS:
        value = payload.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip().splitlines()[0][:200]
    for value in payload.values():
        found = _first_text(value, depth + 1)
        if found:
            return found
    return None


def _words(text: str) -> list[str]:
    seen: dict[str, None] = {}
    for word in re.findall(r"[A-Za-z][A-Za-z0-9-]{3,}", text.lower()):
        seen.setdefault(word, None)
    return list(seen)


def answer_for(schema: dict[str, Any], user_text: str) -> dict[str, Any]:
    """A deterministic answer valid for `schema`, derived from the event in `user_text`."""
    match = PAYLOAD.search(user_text)
    try:
        payload = json.loads(match.group(1)) if match else {}
    except ValueError:
        payload = {}
    kind = EVENT_TYPE.search(user_text)
    event_type = kind.group(1) if kind else "event"
    title = _first_text(payload) or event_type
    digest = int(hashlib.sha256(user_text.encode()).hexdigest(), 16)
    answer: dict[str, Any] = {}
    for index, (name, declared) in enumerate(schema.get("properties", {}).items()):
        spec = _variant(declared)
        kind_of = spec.get("type")
        if "enum" in spec:
            options = spec["enum"]
            answer[name] = options[(digest >> index) % len(options)]
        elif kind_of == "array":
            limit = min(spec.get("maxItems", 3), 3)
            if "question" in name:
                answer[name] = [f"What is the test plan for {title!r}?"][:limit]
            else:
                answer[name] = _words(title)[:limit]
        elif kind_of == "integer":
            answer[name] = len(title)
        elif kind_of == "number":
            answer[name] = float(len(title))
        elif kind_of == "boolean":
            answer[name] = False
        else:
            text = f"{event_type}: {title!r} (offline model summary)"
            answer[name] = text[: spec.get("maxLength", len(text))]
    return answer


def _variant(spec: dict[str, Any]) -> dict[str, Any]:
    """An optional field's schema (`anyOf` a type and null): the type."""
    variants = [v for v in spec.get("anyOf", []) if v.get("type") != "null"]
    return {**spec, **variants[0]} if variants else spec


# What strict tool use does not take (the API answers 400); `minItems` only as 0 or 1.
STRICT_UNSUPPORTED = frozenset(
    {
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minLength",
        "maxLength",
        "maxItems",
        "minProperties",
        "maxProperties",
        "patternProperties",
    }
)


def strict_problem(schema: Any, where: str = "input_schema") -> str | None:
    """Why strict mode would refuse this schema, or None."""
    if not isinstance(schema, dict):
        return None
    unsupported = sorted(STRICT_UNSUPPORTED & schema.keys())
    if unsupported:
        return f"{where}: '{unsupported[0]}' is not supported with strict tool use"
    if schema.get("minItems", 0) not in (0, 1):
        return f"{where}: 'minItems' other than 0 or 1 is not supported with strict tool use"
    if schema.get("type") == "object" and schema.get("additionalProperties") is not False:
        return f"{where}: strict tool use requires 'additionalProperties': false on objects"
    parts = [
        *((f"{where}.properties.{k}", v) for k, v in schema.get("properties", {}).items()),
        *((f"{where}.anyOf.{i}", v) for i, v in enumerate(schema.get("anyOf", []))),
        *((f"{where}.$defs.{k}", v) for k, v in schema.get("$defs", {}).items()),
        (f"{where}.items", schema.get("items")),
    ]
    return next((found for path, part in parts if (found := strict_problem(part, path))), None)


@dataclass
class Bucket:
    """One limit as a GCRA token bucket: `burst_seconds` of capacity, refilled continuously."""

    per_minute: int
    burst_seconds: float
    # Theoretical arrival time (monotonic seconds): when all capacity granted is paid back.
    tat: float = 0.0

    @property
    def interval(self) -> float:
        return 60.0 / self.per_minute

    def wait(self, now: float) -> float:
        return max(0.0, self.tat - self.burst_seconds - now)

    def charge(self, now: float, units: float) -> None:
        self.tat = max(self.tat, now) + units * self.interval

    def remaining(self, now: float) -> int:
        return max(0, int((now + self.burst_seconds - max(self.tat, now)) / self.interval))

    def headers(self, prefix: str, now: float) -> dict[str, str]:
        full_at = time.time() + max(0.0, self.tat - now)
        return {
            f"{prefix}-limit": str(self.per_minute),
            f"{prefix}-remaining": str(self.remaining(now)),
            f"{prefix}-reset": datetime.fromtimestamp(full_at, UTC).isoformat(),
        }


# Bucket name in `limits` -> the API's header prefix.
LIMIT_HEADERS = {
    "requests_per_minute": "anthropic-ratelimit-requests",
    "input_tokens_per_minute": "anthropic-ratelimit-input-tokens",
    "output_tokens_per_minute": "anthropic-ratelimit-output-tokens",
}
# The API's own buckets hold a minute. Five seconds keeps a local burst at the limit and
# absorbs the scheduling jitter of a one-process local stack (calls a little off their slots).
DEFAULT_BURST_SECONDS = 5.0


def input_token_count(request: dict[str, Any]) -> int:
    """What the API counts as input: system prompt, messages and tool definitions (~4
    characters a token)."""
    system = request.get("system") or ""
    system_text = (
        system if isinstance(system, str) else "".join(block.get("text", "") for block in system)
    )
    characters = (
        len(system_text)
        + len(json.dumps(request.get("messages", [])))
        + len(json.dumps(request.get("tools", [])))
    )
    return max(1, characters // 4)


class OfflineModel:
    """The model's state: call counts, cached prompts, fault rules, rate window."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls = 0
        self.answered = 0
        self.cache = PromptCache()
        self.batches = OfflineBatches(self.respond)
        self._rules: list[FaultRule] = []
        self._buckets: dict[str, Bucket] = {}
        self.rate_limited = 0
        # Input tokens of the calls answered: what an input-token limit was spent on.
        self.input_tokens = 0
        # The latest requests, for tests that check what the worker sent.
        self.requests: deque[dict[str, Any]] = deque(maxlen=100)

    def set_faults(self, spec: dict[str, Any]) -> None:
        with self._lock:
            self._rules = [FaultRule(**rule) for rule in spec.get("rules", [])]
            limits = dict(spec.get("limits") or {})
            if spec.get("rate_limit_per_minute"):
                limits["requests_per_minute"] = spec["rate_limit_per_minute"]
            burst = float(limits.pop("burst_seconds", DEFAULT_BURST_SECONDS))
            enforce = limits.pop("enforce_seconds", None)
            self._buckets = {
                name: Bucket(
                    int(value),
                    # A bucket holding the interval's share of the limit: one unit, plus what
                    # refills over the interval less that unit's own time.
                    burst if enforce is None else max(0.0, float(enforce) - 60.0 / int(value)),
                )
                for name, value in limits.items()
                if value
            }

    def clear_faults(self) -> None:
        self.set_faults({})

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "calls": self.calls,
                "answered": self.answered,
                "429": self.rate_limited,
                "input_tokens": self.input_tokens,
                "cache_hits": self.cache.hits,
                "cache_writes": self.cache.writes,
                **self.batches.stats(),
            }

    def admit(
        self, user_text: str, costs: dict[str, float]
    ) -> tuple[FaultRule | None, float | None]:
        """Count the call; return the fault to apply and, if rate limited, the retry-after.
        `costs` is what the call takes from each bucket (output reserved at max_tokens)."""
        with self._lock:
            self.calls += 1
            now = time.monotonic()
            wait = max((b.wait(now) for b in self._buckets.values()), default=0.0)
            if wait > 0:
                self.rate_limited += 1
                return None, wait
            for name, bucket in self._buckets.items():
                bucket.charge(now, costs.get(name, 0))
            self.input_tokens += int(costs.get("input_tokens_per_minute", 0))
            for rule in self._rules:
                if rule.applies(user_text):
                    if rule.times is not None:
                        rule.times -= 1
                    return rule, None
            return None, None

    def refund_output(self, reserved: int, used: int) -> None:
        """The API adjusts the output reservation to the real count once the answer is done."""
        with self._lock:
            bucket = self._buckets.get("output_tokens_per_minute")
            if bucket is not None:
                bucket.tat -= (reserved - used) * bucket.interval

    def limit_headers(self) -> dict[str, str]:
        with self._lock:
            now = time.monotonic()
            headers: dict[str, str] = {}
            for name, bucket in self._buckets.items():
                headers.update(bucket.headers(LIMIT_HEADERS[name], now))
            return headers

    def respond(self, request: dict[str, Any], rule: FaultRule | None = None) -> dict[str, Any]:
        self.requests.append(request)
        user_text = _last_user_text(request)
        tool = (request.get("tools") or [{}])[0]
        tool_input = answer_for(tool.get("input_schema", {}), user_text)
        if rule is not None and rule.invalid_output:
            tool_input = _misfit(tool_input, strict=bool(tool.get("strict")))
        cached = self.cache.account(request, input_token_count(request))
        with self._lock:
            self.answered += 1
        output_tokens = max(1, len(json.dumps(tool_input)) // 4)
        content: list[dict[str, Any]] = [
            {
                "type": "tool_use",
                "id": f"toolu_{uuid.uuid4().hex[:20]}",
                "name": tool.get("name", "answer"),
                "input": tool_input,
            }
        ]
        stop_reason = rule.stop_reason if rule is not None and rule.stop_reason else "tool_use"
        if stop_reason == "refusal":
            content = [{"type": "text", "text": "I can't help with that."}]
        elif stop_reason == "max_tokens":
            # Cut off while writing the tool input: only its first field, all output spent.
            content[0]["input"] = dict(list(tool_input.items())[:1])
            output_tokens = int(request.get("max_tokens") or output_tokens)
        return {
            "id": f"msg_offline_{uuid.uuid4().hex[:20]}",
            "type": "message",
            "role": "assistant",
            "model": request.get("model", "offline"),
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {**cached.as_usage(), "output_tokens": output_tokens},
        }


# More items than any schema here allows, each a string: what strict decoding lets through
# when the schema cannot say how many (strict mode takes no `maxItems`).
MISFIT_ITEMS = 12


def _misfit(tool_input: dict[str, Any], *, strict: bool) -> dict[str, Any]:
    """An answer that does not fit: under strict, the schema's types but too many items;
    without it, a field the schema does not have and none it does."""
    if not strict:
        return {"unexpected": True}
    return {
        name: [f"item {n}" for n in range(MISFIT_ITEMS)] if isinstance(value, list) else value
        for name, value in tool_input.items()
    }


def _last_user_text(request: dict[str, Any]) -> str:
    texts: list[str] = []
    for message in request.get("messages", []):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            texts.append(content)
        else:
            texts.extend(b.get("text", "") for b in content if b.get("type") == "text")
    return "\n".join(texts)


def _handler_for(model: OfflineModel) -> type[BaseHTTPRequestHandler]:
    class Handler(LocalHandler):
        def _send(
            self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
        ) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b"{}"
            parsed = json.loads(raw or b"{}")
            return parsed if isinstance(parsed, dict) else {}

        def _base_url(self) -> str:
            return f"http://{self.headers.get('host', '127.0.0.1')}"

        def _send_batch(self, batch: Batch | None) -> None:
            if batch is None:
                self._send(404, _error(404, "no such batch"))
            else:
                self._send(200, model.batches.as_json(batch, self._base_url()))

        def _batches_unavailable(self) -> bool:
            status = model.batches.unavailable
            if status:
                self._send(int(status), _error(int(status), "batches unavailable (injected)"))
            return bool(status)

        def do_GET(self) -> None:
            path, _, query = self.path.partition("?")
            if path == "/_control/stats":
                self._send(200, model.stats())
            elif path.startswith(BATCHES) and self._batches_unavailable():
                return
            elif path == BATCHES:
                self._list_batches(parse_qs(query))
            elif found := BATCH_PATH.fullmatch(path):
                batch = model.batches.get(found.group(1))
                if found.group(2) != "/results":
                    self._send_batch(batch)
                elif batch is None or batch.ended is None:
                    self._send(404, _error(404, "batch has no results yet"))
                else:
                    data = model.batches.results_jsonl(batch)
                    self.send_response(200)
                    self.send_header("content-type", "application/binary")
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
            else:
                self._send(404, {"error": "not found"})

        def _list_batches(self, query: dict[str, list[str]]) -> None:
            limit = int(query.get("limit", ["20"])[0])
            after_id = query.get("after_id", [None])[0]
            batches, has_more = model.batches.page(limit, after_id)
            data = [model.batches.as_json(b, self._base_url()) for b in batches]
            self._send(
                200,
                {
                    "data": data,
                    "has_more": has_more,
                    "first_id": data[0]["id"] if data else None,
                    "last_id": data[-1]["id"] if data else None,
                },
            )

        def do_DELETE(self) -> None:
            if self.path == "/_control/faults":
                model.clear_faults()
                self._send(200, {"status": "cleared"})
            else:
                self._send(404, {"error": "not found"})

        def do_POST(self) -> None:
            try:
                request = self._body()
            except ValueError:
                self._send(400, _error(400, "body is not JSON"))
                return
            path = self.path.split("?")[0]
            controls = {
                "/_control/faults": model.set_faults,
                "/_control/cache": model.cache.configure,
                "/_control/batches": model.batches.configure,
            }
            if path in controls:
                controls[path](request)
                self._send(200, {"status": "set"})
                return
            if path.startswith(BATCHES):
                self._batch_post(path, request)
                return
            bedrock = BEDROCK_INVOKE.fullmatch(path)
            if bedrock:
                # Amazon Bedrock's InvokeModel: the same body, the model id in the path.
                request["model"] = unquote(bedrock.group(1))
            elif path != "/v1/messages":
                self._send(404, _error(404, "not found"))
                return
            self._messages(request)

        def _batch_post(self, path: str, request: dict[str, Any]) -> None:
            if self._batches_unavailable():
                return
            if path == BATCHES:
                try:
                    self._send_batch(model.batches.create(request))
                except ValueError as error:
                    self._send(400, _error(400, str(error)))
                return
            found = BATCH_PATH.fullmatch(path)
            if found is None or found.group(2) != "/cancel":
                self._send(404, _error(404, "not found"))
                return
            self._send_batch(model.batches.cancel(found.group(1)))

        def _messages(self, request: dict[str, Any]) -> None:
            for index, tool in enumerate(request.get("tools") or []):
                problem = tool.get("strict") and strict_problem(
                    tool.get("input_schema"), f"tools.{index}.custom.input_schema"
                )
                if problem:
                    self._send(400, _error(400, problem))
                    return
            max_tokens = int(request.get("max_tokens") or 0)
            rule, rate_retry_after = model.admit(
                _last_user_text(request),
                {
                    "requests_per_minute": 1,
                    "input_tokens_per_minute": input_token_count(request),
                    "output_tokens_per_minute": max_tokens,
                },
            )
            if rate_retry_after is not None:
                self._send(
                    429,
                    _error(429, "rate limited"),
                    {
                        # Whole seconds, as the API sends them.
                        "retry-after": str(max(1, math.ceil(rate_retry_after))),
                        **model.limit_headers(),
                    },
                )
                return
            if rule is not None and rule.delay:
                time.sleep(rule.delay)
            if rule is not None and rule.drop:
                self.close_connection = True
                self.connection.close()
                return
            if rule is not None and rule.status:
                headers = {"retry-after": str(rule.retry_after)} if rule.retry_after else {}
                self._send(rule.status, _error(rule.status, "injected fault"), headers)
                return
            answer = model.respond(request, rule)
            model.refund_output(max_tokens, answer["usage"]["output_tokens"])
            self._send(200, answer, model.limit_headers())

    return Handler


def _error(status: int, message: str) -> dict[str, Any]:
    return {
        "type": "error",
        "error": {"type": ERROR_TYPES.get(status, "api_error"), "message": message},
    }


class OfflineModelServer:
    """The offline model on a loopback port, served from a daemon thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.model = OfflineModel()
        self._server = LoopbackServer((host, port), _handler_for(self.model))
        self._thread = threading.Thread(
            target=self._server.serve_forever, daemon=True, name="offline-model"
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def calls(self) -> int:
        return self.model.calls

    def start(self) -> OfflineModelServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description="hookwise's offline model server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8788)
    arguments = parser.parse_args()
    server = OfflineModelServer(arguments.host, arguments.port)
    print(f"offline model on {server.url}", flush=True)
    server._server.serve_forever()


if __name__ == "__main__":
    main()
