"""Run a completed event's actions, each at most once, and record every outcome on the event.

An action already `done` (or `dry_run`, or failed for good) is skipped, so a retry from the
queue redoes only what failed. The effects are idempotent besides: the GitHub comment is found
again by its hidden marker and updated in place, the Slack reply by its message metadata, and
adding a label twice is a no-op; a crash between the provider call and the record still leaves
one comment and one reply. The comment and the reply are written under a short lease on their
subject, which a run that succeeds never deletes: the outcome it records releases it.

Putting the result on the EventBridge bus is an action too, last, so a retry publishes what a
failed try did not (at least once: a crash after the put publishes again, and a consumer tells
copies apart by `detail.event_id`). Whatever an action raises ends in a recorded outcome.
"""

from __future__ import annotations

import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as AwsConnectionError

from hookwise.actions.text import neutralise_mentions, render_result
from hookwise.adapters.secrets import SecretUnavailable
from hookwise.adapters.store import EventStore
from hookwise.config import Route
from hookwise.domain.events import EventRecord, EventStatus, isoformat, utcnow
from hookwise.domain.payload import MISSING, lookup
from hookwise.observability import logger, metrics
from hookwise.providers.errors import ProviderError, ProviderRateLimited, permanent, transient
from hookwise.providers.markers import as_of_stamp, comment_marker, find_marked, stamp_of
from hookwise.providers.targets import github_target, head_sha, slack_thread, subject_updated_at

if TYPE_CHECKING:
    from hookwise.deliveries.base import Publisher
    from hookwise.deliveries.callback import CallbackSender
    from hookwise.providers.github import GitHubClient
    from hookwise.providers.slack import SlackClient

GITHUB_COMMENT = "github.comment"
GITHUB_LABELS = "github.labels"
SLACK_REPLY = "slack.reply"
HTTP = "http"
EVENTBRIDGE = "eventbridge"
# Outcomes a retry leaves alone: done, recorded as a dry run, or failed for good.
SETTLED = frozenset({"done", "dry_run", "failed"})
ERROR_CHARS = 500
# AWS error codes that mean "not now" rather than "never" (besides any 5xx or 429 answer).
TRANSIENT_AWS_CODES = frozenset(
    {
        "InternalFailure",
        "InternalServerError",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "RequestTimeout",
        "ServiceUnavailable",
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
    }
)

# How long a run that records no outcome (it crashed, say) holds a PR's comment (or an event's
# reply) before another may take over.
SUBJECT_LEASE_SECONDS = 60.0

# (the event, its route, its payload, this run's lock holder) -> what the action did
Perform = Callable[[EventRecord, Route, Any, str], dict[str, Any]]


class SubjectLock(Protocol):
    def acquire(
        self, subject: str, holder: str, seconds: float, finished: Callable[[str], bool]
    ) -> bool:
        """Take the subject's lease (or renew our own), or take it over from a live holder
        whose run `finished(holder)` says is over; False while another run may be acting."""
        ...

    def release(self, subject: str, holder: str) -> None:
        """Give our lease up at once, for the next run not to wait until it lapses."""
        ...


@dataclass
class ActionsReport:
    outcomes: dict[str, Any] = field(default_factory=dict)
    # Actions that failed this time and are worth another try from the queue.
    pending: list[str] = field(default_factory=list)
    # The longest wait a provider asked for (rate limits), if any.
    retry_after: float | None = None


class ActionRunner:
    def __init__(
        self,
        store: EventStore,
        *,
        github: Callable[[], GitHubClient],
        slack: Callable[[], SlackClient],
        callbacks: Callable[[], CallbackSender] | None,
        lock: SubjectLock | None = None,
        publisher: Publisher | None = None,
    ) -> None:
        self._lock = lock
        self._publisher = publisher
        self._store = store
        self._github = github
        self._slack = slack
        self._callbacks = callbacks

    def planned(self, route: Route) -> list[tuple[str, Perform]]:
        actions = route.actions
        named: list[tuple[str, Any, Perform]] = [
            (GITHUB_COMMENT, actions.github_comment, self._github_comment),
            (GITHUB_LABELS, actions.github_labels, self._github_labels),
            (SLACK_REPLY, actions.slack_reply, self._slack_reply),
            (HTTP, route.http_action, self._http),
        ]
        planned = [(name, perform) for name, spec, perform in named if spec is not None]
        if self._publisher is not None and route.deliveries.eventbridge:
            # Last: the bus hears of a result once the provider has it.
            planned.append((EVENTBRIDGE, self._eventbridge))
        return planned

    def unsettled(self, record: EventRecord, route: Route) -> list[str]:
        """The route's actions not yet done (nor recorded as a dry run, nor failed for good)."""
        outcomes = record.actions or {}
        return [
            name
            for name, _ in self.planned(route)
            if (outcomes.get(name) or {}).get("status") not in SETTLED
        ]

    def run(
        self, record: EventRecord, route: Route, payload: Any, *, last_try: bool = False
    ) -> ActionsReport:
        """Every unsettled action once; `last_try`: a transient failure is final too."""
        report = ActionsReport(outcomes=dict(record.actions or {}))
        todo = self.unsettled(record, route)
        if not todo:
            return report
        # Unique per run: a redelivered message for the event may race this one. It names the
        # event, whose recorded outcomes tell a later run that this one is over.
        holder = f"{record.event_id}/{uuid.uuid4().hex}"
        for name, perform in self.planned(route):
            if name in todo:
                report.outcomes[name] = self._attempt(
                    name, perform, record, route, payload, holder, last_try, report
                )
                # Recorded after each action, so a crash forgets at most the one in flight.
                self._store.transition(
                    record.event_id,
                    from_statuses=[EventStatus.COMPLETED],
                    to_status=EventStatus.COMPLETED,
                    updates={"actions": report.outcomes},
                )
        return report

    @staticmethod
    def _attempt(
        name: str,
        perform: Perform,
        record: EventRecord,
        route: Route,
        payload: Any,
        holder: str,
        last_try: bool,
        report: ActionsReport,
    ) -> dict[str, Any]:
        try:
            details = perform(record, route, payload, holder)
            outcome = {"status": "dry_run" if route.dry_run else "done", **details}
            metrics.add_metric(name="ActionDone", unit="Count", value=1)
        except Exception as raised:
            error = as_provider_error(raised)
            retry = error.transient and not last_try
            status = "rate_limited" if isinstance(error, ProviderRateLimited) else "retrying"
            outcome = {
                "status": status if retry else "failed",
                "error": str(error)[:ERROR_CHARS],
                "error_type": type(raised).__name__,
            }
            if retry:
                report.pending.append(name)
            if error.retry_after is not None:
                report.retry_after = max(report.retry_after or 0.0, error.retry_after)
            metrics.add_metric(
                name="ActionRetried" if retry else "ActionFailed", unit="Count", value=1
            )
            logger.warning(
                "action did not complete",
                extra={"action": name, "status": outcome["status"], "reason": outcome["error"]},
            )
        return {**outcome, "at": isoformat(utcnow())}

    def _acquire(self, subject: str, holder: str, action: str) -> None:
        """The subject to this run while it looks for its earlier post and writes, or a
        transient failure (retried from the queue) while another run holds it and has not
        recorded its outcome of `action`."""
        if self._lock is not None and not self._lock.acquire(
            subject,
            holder,
            SUBJECT_LEASE_SECONDS,
            finished=lambda other: self._has_settled(other, action),
        ):
            raise transient(f"another run is acting on {subject}")

    def _has_settled(self, holder: str, action: str) -> bool:
        """Whether the run `holder` (`event_id/run`) is over: its event records `action` as
        settled. A run that succeeds keeps its lease, and that record stands for its release."""
        outcome = self._store.recorded_actions(holder.partition("/")[0]).get(action) or {}
        return outcome.get("status") in SETTLED

    def _release_after_failure(self, subject: str, holder: str) -> None:
        """Let the subject go at once, so that a failed run does not hold the next event up
        for the lease. A run that succeeds keeps it: the outcome `run` records releases it."""
        if self._lock is not None:
            self._lock.release(subject, holder)

    def _github_comment(
        self, record: EventRecord, route: Route, payload: Any, holder: str
    ) -> dict[str, Any]:
        spec = route.actions.github_comment
        assert spec is not None
        target = github_target(payload)
        marker = comment_marker(route.name, target.subject)
        sha = head_sha(payload)
        footer = (
            f"hookwise · {route.name}"
            + (f" · reviewed {sha[:7]}" if sha else "")
            + _covered(record.reviewed)
        )
        author = _author(payload, "pull_request.user.login", "issue.user.login")
        text = render_result(
            record.result or {},
            spec.fields,
            "github",
            allow_mention=author if spec.mention_author else None,
        )
        body = f"{marker}\n{text}\n\n<sub>{footer}</sub>"
        if route.dry_run:
            return {"target": target.subject, "would": "comment", "body": body}
        as_of = subject_updated_at(payload)
        if as_of:
            body += "\n" + as_of_stamp(as_of)
        client = self._github()
        # Two events for one PR (opened, then a push) must not both find no comment and post.
        subject = f"{route.name} {target.subject}"
        self._acquire(subject, holder, GITHUB_COMMENT)
        try:
            comments = client.issue_comments(target.repo, target.number, target.installation)
            # Ours only: a marker and a far-future stamp in anyone else's comment would have
            # us edit their comment, or call every later review superseded.
            we = client.author(target.installation)
            existing = find_marked(comments, marker, we.wrote)
            if existing is None:
                made = client.create_comment(target.repo, target.number, body, target.installation)
                return {"target": target.subject, "id": made.get("id"), "did": "created"}
            if existing.get("body") == body:
                return {"target": target.subject, "id": existing.get("id"), "did": "unchanged"}
            shown = stamp_of(str(existing.get("body") or ""))
            if as_of and shown and shown > as_of:
                # A later event already wrote its review: this older one must not undo it.
                return {"target": target.subject, "id": existing.get("id"), "did": "superseded"}
            comment_id = int(existing["id"])
            client.update_comment(target.repo, comment_id, body, target.installation)
            return {"target": target.subject, "id": comment_id, "did": "updated"}
        except Exception:
            self._release_after_failure(subject, holder)
            raise

    def _github_labels(
        self, record: EventRecord, route: Route, payload: Any, holder: str
    ) -> dict[str, Any]:
        spec = route.actions.github_labels
        assert spec is not None
        target = github_target(payload)
        allowed = {label.lower(): label for label in spec.allow}
        proposed: list[str] = []
        for name in spec.fields:
            value = (record.result or {}).get(name)
            proposed.extend(str(v) for v in (value if isinstance(value, list) else [value]) if v)
        labels = list(dict.fromkeys(allowed[p.lower()] for p in proposed if p.lower() in allowed))
        # Shown neutralised: they are model text, and `events show` may be pasted anywhere.
        refused = [neutralise_mentions(p) for p in proposed if p.lower() not in allowed]
        details: dict[str, Any] = {"target": target.subject, "labels": labels, "refused": refused}
        if labels and not route.dry_run:
            self._github().add_labels(target.repo, target.number, labels, target.installation)
        return details

    def _slack_reply(
        self, record: EventRecord, route: Route, payload: Any, holder: str
    ) -> dict[str, Any]:
        spec = route.actions.slack_reply
        assert spec is not None
        thread = slack_thread(payload)
        author = _author(payload, "event.user")
        text = render_result(
            record.result or {},
            spec.fields,
            "slack",
            allow_mention=author if spec.mention_author else None,
        )
        target = f"{thread.channel}/{thread.thread_ts}"
        if route.dry_run:
            return {"target": target, "would": "reply", "text": text}
        client = self._slack()
        # A redelivered message for this event must not race this run into a second reply.
        subject = f"{route.name} {record.event_id}"
        self._acquire(subject, holder, SLACK_REPLY)
        try:
            existing = client.find_reply(thread.channel, thread.thread_ts, record.event_id)
            if existing is not None:
                return {"target": target, "ts": existing.get("ts"), "did": "found"}
            posted = client.post_reply(
                thread.channel, thread.thread_ts, text, record.event_id, route.name
            )
            return {"target": target, "ts": posted.get("ts"), "did": "posted"}
        except Exception:
            self._release_after_failure(subject, holder)
            raise

    def _http(self, record: EventRecord, route: Route, payload: Any, holder: str) -> dict[str, Any]:
        action = route.http_action
        assert action is not None
        if route.dry_run:
            return {"target": action.url, "would": "post"}
        if self._callbacks is None:
            raise permanent("no callback sender configured")
        # Here, not at the top: the callback module loads httpx, which only callbacks need.
        from hookwise.deliveries.callback import CallbackFailed, CallbackRefused

        try:
            self._callbacks().send(record, route)
        except CallbackRefused as refused:
            raise permanent(str(refused)) from refused
        except CallbackFailed as failed:
            raise transient(str(failed)) from failed
        return {"target": action.url}

    def _eventbridge(
        self, record: EventRecord, route: Route, payload: Any, holder: str
    ) -> dict[str, Any]:
        publisher = self._publisher
        assert publisher is not None
        if route.dry_run:
            return {"target": publisher.target, "would": "publish"}
        # Here, not at the top: the module loads boto3's events client only for the bus.
        from hookwise.deliveries.eventbridge import DeliveryFailed

        try:
            published = publisher.publish(record, route)
        except DeliveryFailed as failed:
            raise ProviderError(str(failed), transient=failed.transient) from failed
        return {"target": publisher.target, "id": published}


def _covered(reviewed: dict[str, Any] | None) -> str:
    """What the review's diff covered, for the comment: a push's changes or the whole PR."""
    if not reviewed:
        return ""
    since = reviewed.get("since")
    return f" (the changes since {since[:7]})" if since else " (the whole pull request)"


def _author(payload: Any, *paths: str) -> str | None:
    """Who wrote the PR, issue or message, as its payload says (never the model's text)."""
    for path in paths:
        value = lookup(payload, path)
        if value is not MISSING and isinstance(value, str) and value:
            return value
    return None


def as_provider_error(error: Exception) -> ProviderError:
    """Whatever an action raised, as a failure to record: transient (retried from the queue)
    when the same call may well succeed later, permanent when it would fail the same way. The
    message never carries an unforeseen exception's own text, which may quote a secret (a
    malformed credential in a parse error): its type and where it was raised instead."""
    kind = type(error).__name__
    if isinstance(error, ProviderError):
        return error
    if isinstance(error, SecretUnavailable):
        # The store did not answer, or the secret is not there yet: both are put right
        # without a deploy, and the next try reads the store again.
        return transient(f"{kind}: secret {error} could not be read")
    if isinstance(error, ClientError):
        # "An error occurred (Code) when calling the Op operation: ...": AWS names the
        # operation and the resource, never a value we sent.
        answer = error.response
        code = str(answer.get("Error", {}).get("Code", ""))
        status = int(answer.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        busy = code in TRANSIENT_AWS_CODES or status >= 500 or status == 429
        return ProviderError(str(error), transient=busy)
    if isinstance(error, AwsConnectionError | HTTPClientError | OSError):
        # The network: a connection refused, reset or timed out.
        return transient(f"{kind}: {_raised_at(error)}")
    # A bug, or a payload or answer this code did not foresee: a retry runs the same code on
    # the same input, and would fail the same way.
    return permanent(f"{kind}: unexpected error {_raised_at(error)}")


def _raised_at(error: Exception) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return "(no traceback)"
    last = frames[-1]
    return f"at {last.filename.rsplit('/', 1)[-1]}:{last.lineno} in {last.name}"
