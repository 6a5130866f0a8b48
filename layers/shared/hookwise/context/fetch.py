"""Fetch what a route declares under `context:` before the model call.

A pull request's changed files are budgeted (see `budget`) and cached per route, subject and
head SHA, so a redelivery or a retry after a rate limit does not fetch them again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from hookwise.actions.targets import github_target, head_sha
from hookwise.actions.text import MARKER
from hookwise.config import Route
from hookwise.config.models import IssueCommentsContext, PrFilesContext
from hookwise.context.budget import budget_diff

if TYPE_CHECKING:
    from hookwise.actions.github import GitHubClient

COMMENT_CHARS = 1_000


class ContextCache(Protocol):
    def get(self, key: str) -> str | None: ...

    def put(self, key: str, text: str) -> None: ...


class ContextFetcher:
    def __init__(self, github: Callable[[], GitHubClient], cache: ContextCache | None) -> None:
        self._github = github
        self._cache = cache

    def gather(self, route: Route, payload: Any) -> str:
        """The route's context sections for the prompt ("" when it declares none); raises
        ProviderError (a rate limit is a ProviderRateLimited)."""
        sections: list[str] = []
        if route.context.github_pr_files is not None:
            sections.append(self._pull_files(route, route.context.github_pr_files, payload))
        if route.context.github_issue_comments is not None:
            sections.append(self._comments(route.context.github_issue_comments, payload))
        return "\n\n".join(section for section in sections if section)

    def _pull_files(self, route: Route, spec: PrFilesContext, payload: Any) -> str:
        target = github_target(payload)
        sha = head_sha(payload)
        key = json.dumps([route.name, target.subject, sha, spec.model_dump()], sort_keys=True)
        cache_key = hashlib.sha256(key.encode()).hexdigest()
        if sha and self._cache is not None:
            cached = self._cache.get(cache_key)
            if cached is not None:
                return cached
        files = self._github().pull_files(target.repo, target.number, target.installation)
        diff = budget_diff(
            files,
            token_budget=spec.token_budget,
            max_patch_tokens=spec.max_patch_tokens_per_file,
            skip=spec.skip,
        )
        text = f"The pull request's changed files:\n<diff>\n{diff.text}</diff>"
        if sha and self._cache is not None:
            self._cache.put(cache_key, text)
        return text

    def _comments(self, spec: IssueCommentsContext, payload: Any) -> str:
        target = github_target(payload)
        comments = self._github().issue_comments(target.repo, target.number, target.installation)
        # hookwise's own comments are earlier answers, not discussion.
        marker_start = MARKER.split("{", 1)[0]
        theirs = [c for c in comments if marker_start not in str(c.get("body") or "")]
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
