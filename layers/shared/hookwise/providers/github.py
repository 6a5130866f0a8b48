"""The GitHub REST API as hookwise uses it: App or token auth per event, pagination, rate limits.

Plain httpx (already in the worker through anthropic) and PyJWT for the App's JWT (about 0.1 s
to import together), rather than githubkit or PyGithub: we call eight endpoints, and githubkit
brings 57 MB of generated schema packages into a layer capped at 250 MB (`pip install githubkit`,
then `du -sch githubkit*`; its import also failed against the hishel release pip picked);
PyGithub sleeps through rate limits, where hookwise must hand the wait to the queue. Every call
goes through `_send`, which turns GitHub's answers into ProviderError: 401/404 are permanent,
rate limits (primary and secondary) carry the wait GitHub asked for.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import jwt

from hookwise.providers.changed_files import ChangedFile, Comparison
from hookwise.providers.errors import (
    DEFAULT_RATE_LIMIT_SECONDS,
    ProviderRateLimited,
    permanent,
    transient,
)

API_VERSION = "2022-11-28"
TIMEOUT_SECONDS = 10.0
PER_PAGE = 100
# GitHub lists at most 3,000 files of a pull request.
MAX_PAGES = 30
# An installation token lives an hour; it is renewed this long before it expires.
TOKEN_REFRESH_MARGIN_SECONDS = 300
# The App's JWT: issued a minute in the past (clock drift), valid for at most ten minutes.
JWT_BACKDATE_SECONDS = 60
JWT_LIFETIME_SECONDS = 540

Clock = Callable[[], float]


def rate_limit_wait(response: httpx.Response, now: float) -> float | None:
    """Seconds GitHub asks us to wait, or None if the answer is not a rate limit.

    `retry-after` first (secondary limits), then `x-ratelimit-reset` when the primary limit is
    spent, then at least a minute for a 429 or a 403 that says it is a secondary limit.
    """
    if response.status_code not in (403, 429):
        return None
    retry_after = response.headers.get("retry-after")
    if retry_after is not None and retry_after.strip().isdigit():
        return max(1.0, float(retry_after))
    if response.headers.get("x-ratelimit-remaining") == "0":
        reset = response.headers.get("x-ratelimit-reset", "")
        if reset.isdigit():
            return max(1.0, float(reset) - now)
        return float(DEFAULT_RATE_LIMIT_SECONDS)
    if response.status_code == 429 or "rate limit" in response.text.lower():
        return float(DEFAULT_RATE_LIMIT_SECONDS)
    return None


def _send(http: httpx.Client, request: httpx.Request, clock: Clock) -> httpx.Response:
    try:
        response = http.send(request)
    except httpx.HTTPError as error:
        raise transient(f"GitHub {request.url.path}: {type(error).__name__}") from error
    what = f"GitHub {request.method} {request.url.path} answered {response.status_code}"
    if response.is_success:
        return response
    wait = rate_limit_wait(response, clock())
    if wait is not None:
        raise ProviderRateLimited(f"{what} (rate limited, {wait:.0f} s)", wait)
    if response.status_code >= 500 or response.status_code in (408, 409):
        raise transient(what)
    raise permanent(what)


def _changed_file(item: Mapping[str, Any]) -> ChangedFile:
    """A pull request's or a comparison's entry of `files` (the same shape in both)."""
    return ChangedFile(
        filename=str(item["filename"]),
        status=str(item.get("status", "modified")),
        additions=int(item.get("additions", 0)),
        deletions=int(item.get("deletions", 0)),
        patch=item.get("patch"),
    )


class InstallationTokens:
    """A GitHub App's installation tokens: a JWT signed with the App's key is exchanged for
    a token per installation, kept until shortly before it expires."""

    def __init__(
        self,
        app_id: str,
        private_key: str,
        *,
        base_url: str,
        http: httpx.Client,
        clock: Clock = time.time,
    ) -> None:
        self._app_id = app_id
        self._private_key = private_key
        self._base_url = base_url.rstrip("/")
        self._http = http
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[int, tuple[str, float]] = {}

    def app_jwt(self) -> str:
        now = int(self._clock())
        claims = {
            "iat": now - JWT_BACKDATE_SECONDS,
            "exp": now + JWT_LIFETIME_SECONDS,
            "iss": self._app_id,
        }
        return jwt.encode(claims, self._private_key, algorithm="RS256")

    def token(self, installation_id: int) -> str:
        with self._lock:
            cached = self._tokens.get(installation_id)
            if cached and self._clock() < cached[1] - TOKEN_REFRESH_MARGIN_SECONDS:
                return cached[0]
            request = self._http.build_request(
                "POST",
                f"{self._base_url}/app/installations/{installation_id}/access_tokens",
                headers={
                    "authorization": f"Bearer {self.app_jwt()}",
                    "accept": "application/vnd.github+json",
                    "x-github-api-version": API_VERSION,
                },
            )
            answer = _send(self._http, request, self._clock).json()
            expires = datetime.fromisoformat(str(answer["expires_at"]).replace("Z", "+00:00"))
            self._tokens[installation_id] = (str(answer["token"]), expires.timestamp())
            return str(answer["token"])


@dataclass(frozen=True)
class AppCredentials:
    """A GitHub App: its id and its private key (PEM)."""

    app_id: str
    private_key: str


@dataclass(frozen=True)
class GitHubCredentials:
    """Where a client's credentials come from, asked on each call (the reader caches them):
    `app()` the App, `token()` the fine-grained token, each None where none is configured;
    `app_where` and `pat_where` say where to configure them, for the error without either."""

    app: Callable[[], AppCredentials | None] = lambda: None
    token: Callable[[], str | None] = lambda: None
    app_where: str = "a GitHub App"
    pat_where: str = "a fine-grained token"


@dataclass(frozen=True)
class CommentAuthor:
    """Who our comments are written by with the credential an event uses: the App (GitHub
    names it in a comment's `performed_via_github_app`) or the token's user (by login). Only
    their comments are ours: a marker in anyone else's is ignored."""

    app_id: str | None = None
    login: str | None = None

    def wrote(self, comment: Mapping[str, Any]) -> bool:
        if self.app_id is not None:
            app = comment.get("performed_via_github_app")
            # The App's secret may name it by its id or its client id (GitHub takes either as the
            # JWT's issuer).
            return isinstance(app, Mapping) and self.app_id in (
                str(app.get("id")),
                app.get("client_id"),
            )
        user = comment.get("user")
        return (
            self.login is not None and isinstance(user, Mapping) and user.get("login") == self.login
        )


@dataclass(frozen=True)
class Credential:
    """What one call is authorised with; `app_id` when it is the App's installation token."""

    header: str
    app_id: str | None = None


class GitHubAuth:
    """The credential for an event: the App's installation token when the event names an
    installation and an App is configured, else the fine-grained token. A repository or
    organisation webhook names no installation, so it needs the token."""

    def __init__(
        self, credentials: GitHubCredentials, *, base_url: str, http: httpx.Client, clock: Clock
    ) -> None:
        self._credentials = credentials
        self._base_url = base_url
        self._http = http
        self._clock = clock
        self._lock = threading.Lock()
        self._app: tuple[AppCredentials, InstallationTokens] | None = None

    def credential(self, installation_id: int | None) -> Credential:
        if installation_id is not None:
            app = self._credentials.app()
            if app is not None:
                installation_token = self._installation_tokens(app).token(installation_id)
                return Credential(f"token {installation_token}", app_id=app.app_id)
        token = self._credentials.token()
        if token:
            return Credential(f"token {token}")
        raise permanent(self._missing(installation_id))

    def _installation_tokens(self, app: AppCredentials) -> InstallationTokens:
        """One InstallationTokens per App key, so its tokens stay cached until the key turns."""
        with self._lock:
            if self._app is None or self._app[0] != app:
                tokens = InstallationTokens(
                    app.app_id,
                    app.private_key,
                    base_url=self._base_url,
                    http=self._http,
                    clock=self._clock,
                )
                self._app = (app, tokens)
            return self._app[1]

    def _missing(self, installation_id: int | None) -> str:
        where = self._credentials
        if installation_id is None:
            return (
                "no GitHub token: the event names no App installation (a repository or "
                f"organisation webhook), so it needs {where.pat_where}"
            )
        return (
            f"no GitHub credentials: configure {where.app_where} (the event names installation "
            f"{installation_id}) or {where.pat_where}"
        )


class GitHubClient:
    def __init__(
        self,
        base_url: str,
        credentials: GitHubCredentials,
        http: httpx.Client | None = None,
        clock: Clock = time.time,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._http = http or httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False)
        self._clock = clock
        self._auth = GitHubAuth(credentials, base_url=self._base_url, http=self._http, clock=clock)
        # The token's user, per token (`GET /user`): the author of the comments it writes.
        self._logins: dict[str, str] = {}
        self._logins_lock = threading.Lock()
        # Calls made, for the benchmark's "provider calls per event".
        self.calls = 0

    def _request(
        self,
        method: str,
        url: str,
        installation: int | None,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        return self._send_with(
            self._auth.credential(installation), method, url, json=json, params=params
        )

    def _send_with(
        self,
        credential: Credential,
        method: str,
        url: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        request = self._http.build_request(
            method,
            url if url.startswith("http") else f"{self._base_url}{url}",
            json=json,
            params=params,
            headers={
                "authorization": credential.header,
                "accept": "application/vnd.github+json",
                "x-github-api-version": API_VERSION,
            },
        )
        self.calls += 1
        return _send(self._http, request, self._clock)

    def author(self, installation: int | None) -> CommentAuthor:
        """Who writes the comments of an event's calls: the App, or the token's user (asked
        of `GET /user` once per token)."""
        credential = self._auth.credential(installation)
        if credential.app_id is not None:
            return CommentAuthor(app_id=credential.app_id)
        with self._logins_lock:
            login = self._logins.get(credential.header)
            if login is None:
                login = str(self._send_with(credential, "GET", "/user").json()["login"])
                self._logins[credential.header] = login
        return CommentAuthor(login=login)

    def _pages(self, path: str, installation: int | None) -> Iterator[Any]:
        """Every item of a list endpoint, following the Link header's `next`."""
        url: str | None = path
        params: dict[str, Any] | None = {"per_page": PER_PAGE}
        for _ in range(MAX_PAGES):
            if url is None:
                return
            response = self._request("GET", url, installation, params=params)
            yield from response.json()
            url = response.links.get("next", {}).get("url")
            # The next link carries its own query.
            params = None

    def pull_files(self, repo: str, number: int, installation: int | None) -> list[ChangedFile]:
        return [
            _changed_file(item)
            for item in self._pages(f"/repos/{repo}/pulls/{number}/files", installation)
        ]

    def compare_files(
        self, repo: str, base: str, head: str, installation: int | None
    ) -> Comparison:
        """How `head` stands to `base`, and the files changed between them (at most
        MAX_COMPARE_FILES: GitHub lists no more). A base GitHub does not know (gone with a
        force-push) answers 404, a permanent ProviderError."""
        # Paged, the comparison lists every changed file on its first page, and one commit
        # there rather than up to 250 we do not read.
        answer = self._request(
            "GET", f"/repos/{repo}/compare/{base}...{head}", installation, params={"per_page": 1}
        ).json()
        return Comparison(
            status=str(answer.get("status", "")),
            files=[_changed_file(item) for item in answer.get("files") or []],
        )

    def issue_comments(self, repo: str, number: int, installation: int | None) -> list[Any]:
        return list(self._pages(f"/repos/{repo}/issues/{number}/comments", installation))

    def create_comment(
        self, repo: str, number: int, body: str, installation: int | None
    ) -> dict[str, Any]:
        return dict(
            self._request(
                "POST", f"/repos/{repo}/issues/{number}/comments", installation, json={"body": body}
            ).json()
        )

    def update_comment(
        self, repo: str, comment_id: int, body: str, installation: int | None
    ) -> dict[str, Any]:
        return dict(
            self._request(
                "PATCH",
                f"/repos/{repo}/issues/comments/{comment_id}",
                installation,
                json={"body": body},
            ).json()
        )

    def add_labels(
        self, repo: str, number: int, labels: list[str], installation: int | None
    ) -> list[str]:
        answer = self._request(
            "POST", f"/repos/{repo}/issues/{number}/labels", installation, json={"labels": labels}
        ).json()
        return [str(label["name"]) for label in answer]
