"""Where an action may act: only what the event's own payload names (repository, issue or pull
request, installation, channel, thread), never anything taken from model output."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hookwise.domain.payload import MISSING, lookup
from hookwise.providers.errors import permanent


@dataclass(frozen=True)
class GitHubTarget:
    repo: str
    number: int
    installation: int | None

    @property
    def subject(self) -> str:
        return f"{self.repo}#{self.number}"


@dataclass(frozen=True)
class SlackThread:
    channel: str
    thread_ts: str


def _first(payload: Any, *paths: str) -> Any:
    for path in paths:
        value = lookup(payload, path)
        if value is not MISSING and value not in (None, ""):
            return value
    return None


def github_target(payload: Any) -> GitHubTarget:
    repo = _first(payload, "repository.full_name")
    number = _first(payload, "pull_request.number", "issue.number", "number")
    if not isinstance(repo, str) or not isinstance(number, int) or isinstance(number, bool):
        raise permanent("the event names no repository and issue or pull request number")
    installation = _first(payload, "installation.id")
    return GitHubTarget(repo, number, installation if isinstance(installation, int) else None)


def head_sha(payload: Any) -> str | None:
    sha = _first(payload, "pull_request.head.sha")
    return sha if isinstance(sha, str) else None


def subject_updated_at(payload: Any) -> str | None:
    """When the pull request or issue was last updated, as the event saw it (ISO 8601, UTC)."""
    moment = _first(payload, "pull_request.updated_at", "issue.updated_at")
    return moment if isinstance(moment, str) else None


def slack_thread(payload: Any) -> SlackThread:
    channel = _first(payload, "event.channel")
    # A mention inside a thread is answered in that thread; otherwise it starts one.
    thread_ts = _first(payload, "event.thread_ts", "event.ts")
    if not isinstance(channel, str) or not isinstance(thread_ts, str):
        raise permanent("the event names no Slack channel and message")
    return SlackThread(channel, thread_ts)
