"""Powertools Logger, Metrics and Tracer, shared by every function.

Logs are JSON with `event_id` as the correlation id; payloads, secrets and signatures are
never logged.

The Tracer imports the X-Ray SDK when it is built (~85 ms of a cold start), even with
tracing disabled; so it is built only on first use, and `trace_handler` leaves a handler
untouched when `POWERTOOLS_TRACE_DISABLED` is true.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, single_metric
from aws_lambda_powertools.metrics import MetricUnit

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

SERVICE = "hookwise"
NAMESPACE = "Hookwise"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)

Handler = TypeVar("Handler", bound=Callable[..., Any])


def tracing_disabled() -> bool:
    return os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").strip().lower() in (
        "1",
        "true",
        "yes",
        "on",
    )


@cache
def get_tracer() -> Tracer:
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE)


def trace_handler(handler: Handler) -> Handler:
    """`@tracer.capture_lambda_handler` when tracing is on; the handler itself when off."""
    if tracing_disabled():
        return handler
    return get_tracer().capture_lambda_handler(handler)  # type: ignore[return-value]


def __getattr__(name: str) -> Any:
    # `from hookwise.observability import tracer` builds it then, not at this module's import.
    if name == "tracer":
        return get_tracer()
    raise AttributeError(name)


def count(name: str, **dimensions: str) -> None:
    """One count with its own dimensions (e.g. `Deferred` by reason), as CloudWatch expects:
    one metric, a dimension per kind, rather than a metric per kind."""
    measure(name, MetricUnit.Count.value, 1, **dimensions)


def measure(name: str, unit: str, value: float, **dimensions: str) -> None:
    """One value with its own dimensions, flushed at once (not with the function's batch)."""
    with single_metric(
        name=name,
        unit=MetricUnit(unit),
        value=value,
        namespace=NAMESPACE,
        default_dimensions={"service": SERVICE},
    ) as metric:
        for key, label in dimensions.items():
            metric.add_dimension(name=key, value=label)
