"""Fetch what a route declares under `context:` before the model call.

A pull request's changed files are budgeted (see `budget`) and cached per route, subject and
head SHA. The cache is read on every fetch but written only for an event that will come back
(the worker calls `ContextFetcher.keep` when it defers or retries the event after the fetch):
its next try, a redelivery or another event at the same head SHA then read it instead of
fetching again. An event answered at once never reads its own entry, so it writes none.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from hookwise.config import Route
from hookwise.config.models import IssueCommentsContext, PrFilesContext
from hookwise.context.budget import budget_diff
from hookwise.observability import logger
from hookwise.providers.markers import is_our_answer
from hookwise.providers.targets import github_target, head_sha

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


@dataclass(frozen=True)
class Gathered:
    """A route's context for the prompt ("" when it declares none), and what was fetched for
    it and could be cached but is not yet (see `ContextFetcher.keep`)."""

    text: str
    uncached: CacheEntry | None = None


NO_CONTEXT = Gathered("")


class ContextFetcher:
    """Shared by the threads of a batch: what one event fetched travels in its `Gathered`."""

    def __init__(self, github: Callable[[], GitHubClient], cache: ContextCache | None) -> None:
        self._github = github
        self._cache = cache

    def gather(self, route: Route, payload: Any) -> Gathered:
        """The route's context sections for the prompt; raises ProviderError (a rate limit is
        a ProviderRateLimited)."""
        context = route.context
        # Comments first: they are never cached, so a failure fetching them cannot throw away
        # a diff fetched before it (the event's next try would fetch that again).
        comments = (
            self._comments(context.github_issue_comments, payload)
            if context.github_issue_comments is not None
            else ""
        )
        files = (
            self._pull_files(route, context.github_pr_files, payload)
            if context.github_pr_files is not None
            else NO_CONTEXT
        )
        text = "\n\n".join(section for section in (files.text, comments) if section)
        return Gathered(text, files.uncached)

    def prefetch(self, wanted: Iterable[tuple[Route, Any]]) -> None:
        """Read the cached context of a batch's events (route, payload) in one go."""
        if self._cache is None:
            return
        keys = [
            key
            for route, payload in wanted
            if route.context.github_pr_files is not None
            and (key := _files_key(route, route.context.github_pr_files, payload)) is not None
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
            self._cache.put(gathered.uncached.key, gathered.uncached.text)
        except Exception:
            logger.exception("fetched context could not be cached")

    def _pull_files(self, route: Route, spec: PrFilesContext, payload: Any) -> Gathered:
        target = github_target(payload)
        cache_key = _files_key(route, spec, payload)
        if cache_key is not None and self._cache is not None:
            cached = self._cache.get(cache_key)
            if cached is not None:
                return Gathered(cached)
        files = self._github().pull_files(target.repo, target.number, target.installation)
        diff = budget_diff(
            files,
            token_budget=spec.token_budget,
            max_patch_tokens=spec.max_patch_tokens_per_file,
            skip=spec.skip,
        )
        text = f"The pull request's changed files:\n<diff>\n{diff.text}</diff>"
        return Gathered(text, CacheEntry(cache_key, text) if cache_key is not None else None)

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


def _files_key(route: Route, spec: PrFilesContext, payload: Any) -> str | None:
    """Where a pull request's files at its head SHA are cached for a route; None without a
    head SHA, since the files could then change under the key."""
    sha = head_sha(payload)
    if not sha:
        return None
    subject = github_target(payload).subject
    key = json.dumps([route.name, subject, sha, spec.model_dump()], sort_keys=True)
    return hashlib.sha256(key.encode()).hexdigest()
