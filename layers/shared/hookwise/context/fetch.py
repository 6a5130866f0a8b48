"""Fetch what a route declares under `context:` before the model call.

A pull request's changed files are budgeted (see `budget`). A push (`synchronize`) to a pull
request the route reviewed before, as its subject memory says, gets only the files changed since
the head that review saw (GitHub's compare), within the same budget; a force-push (the new head
not ahead of the old one, or the old one unknown to GitHub), or a compare that fails otherwise,
gets the whole pull request. What is fetched is cached per route, subject, head SHA and the head
it starts from. The cache is read on every fetch but written only for an event that will come
back (the worker calls `ContextFetcher.keep` when it defers or retries the event after the
fetch): its next try, a redelivery or another event at the same head SHA then read it instead of
fetching again. An event answered at once never reads its own entry, so it writes none.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from hookwise.config import Route
from hookwise.config.models import IssueCommentsContext, PrFilesContext
from hookwise.context.budget import budget_diff
from hookwise.domain.events import REVIEWED_HEAD
from hookwise.domain.payload import lookup
from hookwise.observability import logger
from hookwise.providers.changed_files import MAX_COMPARE_FILES, ChangedFile
from hookwise.providers.errors import ProviderError, ProviderRateLimited
from hookwise.providers.markers import is_our_answer
from hookwise.providers.targets import GitHubTarget, github_target, head_sha

if TYPE_CHECKING:
    from hookwise.providers.github import GitHubClient

COMMENT_CHARS = 1_000


class ContextCache(Protocol):
    def prefetch(self, keys: Iterable[str]) -> None:
        """These entries are about to be read: read them at once."""

    def get(self, key: str) -> str | None: ...

    def put(self, key: str, text: str, expires_at: int | None = None) -> None:
        """`expires_at` (epoch seconds): when the entry may go; None for the cache's default."""


@dataclass(frozen=True)
class CacheEntry:
    key: str
    text: str
    # The head the diff starts from (an incremental review), None for the whole pull request.
    since: str | None = None


@dataclass(frozen=True)
class Gathered:
    """A route's context for the prompt ("" when it declares none), what was fetched for it
    and could be cached but is not yet (see `ContextFetcher.keep`), and what its diff covers:
    {"head": the head SHA, "since": the earlier reviewed head (absent for the whole pull
    request)}, recorded on the event for the comment to say."""

    text: str
    uncached: CacheEntry | None = None
    reviewed: dict[str, str] | None = None


NO_CONTEXT = Gathered("")


class ContextFetcher:
    """Shared by the threads of a batch: what one event fetched travels in its `Gathered`."""

    def __init__(self, github: Callable[[], GitHubClient], cache: ContextCache | None) -> None:
        self._github = github
        self._cache = cache

    def gather(
        self, route: Route, payload: Any, history: Sequence[dict[str, Any]] = ()
    ) -> Gathered:
        """The route's context sections for the prompt; `history`: the route's memory of the
        subject, oldest first. Raises ProviderError (a rate limit is a ProviderRateLimited)."""
        context = route.context
        # Comments first: they are never cached, so a failure fetching them cannot throw away
        # a diff fetched before it (the event's next try would fetch that again).
        comments = (
            self._comments(context.github_issue_comments, payload)
            if context.github_issue_comments is not None
            else ""
        )
        files = (
            self._pull_files(route, context.github_pr_files, payload, history)
            if context.github_pr_files is not None
            else NO_CONTEXT
        )
        text = "\n\n".join(section for section in (files.text, comments) if section)
        return Gathered(text, files.uncached, files.reviewed)

    def prefetch(self, wanted: Iterable[tuple[Route, Any]]) -> None:
        """Read the cached context of a batch's events (route, payload) in one go."""
        if self._cache is None:
            return
        keys = [
            key
            for route, payload in wanted
            if route.context.github_pr_files is not None
            and (
                key := _files_key(
                    route, route.context.github_pr_files, payload, _likely_since(route, payload)
                )
            )
            is not None
        ]
        if keys:
            self._cache.prefetch(keys)

    def keep(self, gathered: Gathered) -> None:
        """Cache what `gather` fetched, for an event that will come back: its next try (or a
        redelivery, or another event at the same head SHA) reads it instead of fetching it.
        Best effort: a failed write costs that next try a fetch, never this event's outcome."""
        if gathered.uncached is None or self._cache is None:
            return
        try:
            entry = gathered.uncached
            self._cache.put(entry.key, json.dumps({"text": entry.text, "since": entry.since}))
        except Exception:
            logger.exception("fetched context could not be cached")

    def _pull_files(
        self, route: Route, spec: PrFilesContext, payload: Any, history: Sequence[dict[str, Any]]
    ) -> Gathered:
        target = github_target(payload)
        head = head_sha(payload)
        since = last_reviewed_head(payload, history)
        cache_key = _files_key(route, spec, payload, since)
        if cache_key is not None and self._cache is not None:
            cached = self._cache.get(cache_key)
            if cached is not None:
                entry = json.loads(cached)
                return Gathered(entry["text"], reviewed=_reviewed(head, entry["since"]))
        github = self._github()
        files = self._changes_since(github, target, since, head) if since and head else None
        if files is None:
            since = None
            files = github.pull_files(target.repo, target.number, target.installation)
        diff = budget_diff(
            files,
            token_budget=spec.token_budget,
            max_patch_tokens=spec.max_patch_tokens_per_file,
            skip=spec.skip,
        )
        what = (
            f"The files changed since your last review (at {since[:7]}), not the whole pull request"
            if since
            else "The pull request's changed files"
        )
        text = f"{what}:\n<diff>\n{diff.text}</diff>"
        return Gathered(
            text,
            CacheEntry(cache_key, text, since) if cache_key is not None else None,
            _reviewed(head, since),
        )

    @staticmethod
    def _changes_since(
        github: GitHubClient, target: GitHubTarget, since: str, head: str
    ) -> list[ChangedFile] | None:
        """The files changed from `since` to `head`, or None for the whole pull request: after
        a force-push (`head` no longer ahead of `since`, or `since` unknown to GitHub), or a
        compare that failed. A rate limit is raised: the pull request's files would wait too."""
        try:
            comparison = github.compare_files(target.repo, since, head, target.installation)
        except ProviderRateLimited:
            raise
        except ProviderError as error:
            logger.warning(
                "compare failed: the whole pull request instead", extra={"error": str(error)}
            )
            return None
        if comparison.status != "ahead" or len(comparison.files) >= MAX_COMPARE_FILES:
            logger.info(
                "not comparable: the whole pull request instead",
                extra={"status": comparison.status, "files": len(comparison.files)},
            )
            return None
        return comparison.files

    def _comments(self, spec: IssueCommentsContext, payload: Any) -> str:
        target = github_target(payload)
        github = self._github()
        comments = github.issue_comments(target.repo, target.number, target.installation)
        # hookwise's own comments are earlier answers, not discussion; a marker in anyone
        # else's comment does not hide it.
        author = github.author(target.installation)
        theirs = [c for c in comments if not is_our_answer(c, author.wrote)]
        recent = theirs[-spec.limit :]
        if not recent:
            return ""
        lines = [
            f"{(c.get('user') or {}).get('login', '?')}: {str(c.get('body') or '')[:COMMENT_CHARS]}"
            for c in recent
        ]
        return (
            f"The latest {len(recent)} of {len(theirs)} comments:\n<comments>\n"
            + "\n---\n".join(lines)
            + "\n</comments>"
        )


def last_reviewed_head(payload: Any, history: Sequence[dict[str, Any]]) -> str | None:
    """The head an incremental review starts from: for a push (`synchronize`), the head the
    route's latest remembered review of the pull request saw; None for the whole pull request
    (another action, nothing remembered, or that review saw this head already)."""
    if lookup(payload, "action") != "synchronize" or not history:
        return None
    since = history[-1].get(REVIEWED_HEAD)
    head = head_sha(payload)
    return since if isinstance(since, str) and since and head and since != head else None


def _likely_since(route: Route, payload: Any) -> str | None:
    """The head a push's review is likely to start from, before the route's memory is read: the
    head before the push (`before`), which the previous push's review saw. A guess for reading
    ahead only: a wrong one costs the event a read of its own."""
    if not route.memory or lookup(payload, "action") != "synchronize":
        return None
    before = lookup(payload, "before")
    return before if isinstance(before, str) and before and before != head_sha(payload) else None


def _reviewed(head: str | None, since: str | None) -> dict[str, str] | None:
    if not head:
        return None
    return {"head": head, "since": since} if since else {"head": head}


def _files_key(route: Route, spec: PrFilesContext, payload: Any, since: str | None) -> str | None:
    """Where a pull request's files at its head SHA (from `since`, for an incremental review)
    are cached for a route; None without a head SHA, since the files could then change under
    the key."""
    sha = head_sha(payload)
    if not sha:
        return None
    subject = github_target(payload).subject
    key = json.dumps([route.name, subject, since, sha, spec.model_dump()], sort_keys=True)
    return hashlib.sha256(key.encode()).hexdigest()
