"""The model client built on first use: once, whoever asks first (a warm-up or a call)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from hookwise.llm.base import ModelAnswer, ModelClient, ModelRequest, ToolSpec
from hookwise.llm.deferred import DeferredModelClient

REQUEST = ModelRequest(
    model="m", max_tokens=10, system="s", messages=[], tool=ToolSpec("t", "d", {})
)


class Answering(ModelClient):
    def __init__(self, answer: str) -> None:
        self.answer = answer

    def invoke(self, request: ModelRequest) -> ModelAnswer:
        return ModelAnswer(tool_input={"by": self.answer})


def test_a_warm_up_builds_the_client_the_calls_then_use() -> None:
    builds: list[int] = []

    def build() -> ModelClient:
        builds.append(1)
        return Answering(f"build {len(builds)}")

    client = DeferredModelClient(build)
    assert builds == []
    warmed = client.built()
    assert builds == [1]
    assert client.invoke(REQUEST).tool_input == {"by": "build 1"}
    assert client.built() is warmed
    assert builds == [1]


def test_concurrent_first_calls_build_it_once() -> None:
    builds: list[int] = []
    gate = threading.Barrier(8)

    def build() -> ModelClient:
        builds.append(1)
        return Answering("only")

    client = DeferredModelClient(build)

    def first_call(_: int) -> object:
        gate.wait()
        return client.invoke(REQUEST).tool_input

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(first_call, range(8)))
    assert answers == [{"by": "only"}] * 8
    assert builds == [1]
