"""DLQ redrive Lambda: on-call actions (summary, list, redrive, replay), invoked directly."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from hookwise import wiring
from hookwise.observability import logger, metrics, trace_handler


@logger.inject_lambda_context(clear_state=True)
@trace_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # Local runtimes may hand in a context without a clock: then no deadline applies.
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    time_left = (lambda: remaining() / 1000) if remaining else None
    return wiring.redrive_service().handle(event, time_left=time_left)
