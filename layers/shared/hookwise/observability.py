"""Powertools Logger, Metrics and Tracer, shared by every function.

Logs are JSON with `event_id` as the correlation id; payloads, secrets and signatures are
never logged.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer, single_metric
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = "hookwise"
NAMESPACE = "Hookwise"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = Tracer(service=SERVICE)


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
