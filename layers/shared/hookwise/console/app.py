"""The console's pages: Starlette routes rendering Jinja2 templates (autoescaped: a payload is
attacker-controlled, and shows as text, never as HTML). The store and the queues answer
through blocking boto3 calls: pages are plain functions, which Starlette runs on its thread
pool, and actions hand their calls to it, so a long redrive never stalls the live pages."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from hookwise.console.data import ConsoleData, EventFilters
from hookwise.console.security import Guard, Secrets, action_form
from hookwise.domain.events import FINAL_STATUSES, EventStatus, isoformat
from hookwise.redrive.models import BulkAnswer

HERE = Path(__file__).parent
FILTER_NAMES = ("source", "route", "status", "event_type", "since", "until", "search")
# Seconds between the live parts' refreshes (the Events rows, an unfinished event's story).
LIVE_SECONDS = 2


def utc(value: str | None) -> str | None:
    """A `datetime-local` field (read as UTC) or an ISO 8601 time -> the stored form."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise HTTPException(400, f"not a time: {value!r}") from None
    return isoformat(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def filters_from(request: Request) -> EventFilters:
    given = {name: request.query_params.get(name) or None for name in FILTER_NAMES}
    status = given["status"]
    if status is not None and status not in EventStatus._value2member_map_:
        raise HTTPException(400, f"no such status: {status!r}")
    return EventFilters(
        source=given["source"],
        route=given["route"],
        status=EventStatus(status) if status else None,
        event_type=given["event_type"],
        since=utc(given["since"]),
        until=utc(given["until"]),
        search=given["search"],
    )


def local_input(value: str | None) -> str:
    """A stored time as a `datetime-local` field shows it (UTC, to the minute)."""
    return value[:16] if value else ""


def templates() -> Jinja2Templates:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    environment.filters["pretty"] = lambda value: json.dumps(value, indent=2, ensure_ascii=False)
    environment.filters["usd"] = lambda value: "-" if value is None else f"${value:.4f}"
    environment.filters["percent"] = lambda v: "-" if v is None else f"{100 * v:.0f}%"
    environment.filters["local_input"] = local_input
    environment.tests["mapping"] = lambda value: isinstance(value, dict)
    environment.tests["sequence"] = lambda value: isinstance(value, list)
    return Jinja2Templates(env=environment)


def create_app(data: ConsoleData, keys: Secrets, port: int) -> Starlette:
    pages = templates()

    def render(request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
        shared = {"csrf": keys.csrf, "live_seconds": LIVE_SECONDS, "config": data.config}
        return pages.TemplateResponse(request, name, {**shared, **context}, status_code=status_code)

    def home(_request: Request) -> Response:
        return RedirectResponse("/events", 303)

    def event_rows(request: Request) -> dict[str, Any]:
        filters = filters_from(request)
        after = request.query_params.get("after") or None
        try:
            rows = data.events(filters, after)
        except ValueError as error:  # an `after` this console did not hand out
            raise HTTPException(400, str(error)) from None
        chosen = {n: v for n in FILTER_NAMES if (v := request.query_params.get(n))}
        return {
            "rows": rows,
            "filters": filters,
            "chosen": chosen,
            "query": urlencode(chosen),
            "next_query": urlencode({**chosen, "after": rows.after}) if rows.after else None,
            "first_page": after is None,
            "statuses": [status.value for status in EventStatus],
        }

    def events(request: Request) -> Response:
        return render(request, "events.html", **event_rows(request))

    def rows(request: Request) -> Response:
        return render(request, "_rows.html", **event_rows(request))

    def event_context(event_id: str) -> dict[str, Any]:
        view = data.event(event_id)
        if view is None:
            raise HTTPException(404, f"no event {event_id}")
        return {
            "view": view,
            "record": view.record,
            "result": data.result_fields(view.record),
            "final": view.record.status in FINAL_STATUSES,
        }

    def event(request: Request) -> Response:
        context = event_context(request.path_params["event_id"])
        outcome = request.query_params.get("outcome")
        return render(request, "event.html", outcome=outcome, **context)

    def story(request: Request) -> Response:
        return render(request, "_story.html", **event_context(request.path_params["event_id"]))

    def outcome_text(answer: BulkAnswer) -> str:
        return "; ".join(
            f"{item.outcome}" + (f" ({item.detail})" if item.detail else "")
            for item in answer.outcomes
        )

    async def replay(request: Request) -> Response:
        event_id = request.path_params["event_id"]
        form = await action_form(request, keys)
        answer = await run_in_threadpool(data.replay, event_id, form.get("force") == "1")
        return RedirectResponse(
            f"/events/{event_id}?{urlencode({'outcome': 'replay: ' + outcome_text(answer)})}", 303
        )

    async def redrive_one(request: Request) -> Response:
        event_id = request.path_params["event_id"]
        await action_form(request, keys)
        answer = await run_in_threadpool(data.redrive, [event_id], False)
        return RedirectResponse(
            f"/events/{event_id}?{urlencode({'outcome': 'redrive: ' + outcome_text(answer)})}",
            303,
        )

    def dlq(request: Request) -> Response:
        return render(request, "dlq.html", **dlq_context())

    def dlq_context() -> dict[str, Any]:
        return {"summary": data.dlq_summary(), "letters": data.dead_letters(), "answer": None}

    async def dlq_redrive(request: Request) -> Response:
        form = await action_form(request, keys)
        chosen = [str(value) for value in form.getlist("event_id") if value]
        if not chosen:
            raise HTTPException(400, "select at least one message")
        dry_run = form.get("dry_run") == "1"
        answer = data.redrive(chosen, dry_run=dry_run)
        return render(request, "dlq.html", **{**dlq_context(), "answer": answer, "chosen": chosen})

    def routes(request: Request) -> Response:
        return render(request, "routes.html", view=data.routes())

    async def refused(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        return render(request, "error.html", error.status_code, error=error.detail)

    app = Starlette(
        routes=[
            Route("/", home),
            Route("/events", events),
            Route("/events/rows", rows),
            Route("/events/{event_id}", event),
            Route("/events/{event_id}/story", story),
            Route("/events/{event_id}/replay", replay, methods=["POST"]),
            Route("/events/{event_id}/redrive", redrive_one, methods=["POST"]),
            Route("/dlq", dlq),
            Route("/dlq/redrive", dlq_redrive, methods=["POST"]),
            Route("/routes", routes),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ],
        middleware=[Middleware(Guard, port=port, keys=keys)],
        exception_handlers={HTTPException: refused},
    )
    return app
