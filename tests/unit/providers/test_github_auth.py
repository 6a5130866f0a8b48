"""GitHub auth: the JWT GitHub expects, installation tokens cached until shortly before they
expire, the App or the token chosen per event, who our comments are written by, and GitHub's
rate-limit answers read as waits (the HTTP edge is httpx's MockTransport; nothing inside
hookwise is mocked)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from hookwise.providers.errors import ProviderError, ProviderRateLimited
from hookwise.providers.github import (
    TOKEN_REFRESH_MARGIN_SECONDS,
    AppCredentials,
    CommentAuthor,
    GitHubClient,
    GitHubCredentials,
    InstallationTokens,
    rate_limit_wait,
)

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PRIVATE_PEM = KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
START = 1_800_000_000.0
RESET_IN_90 = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(START) + 90)}
LIFETIME = 3_600


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


class TokenEndpoint:
    """GitHub's `POST /app/installations/{id}/access_tokens`, checking the App's JWT."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        token = request.headers["authorization"].removeprefix("Bearer ")
        claims = jwt.decode(
            token,
            KEY.public_key(),
            algorithms=["RS256"],
            options={"verify_exp": False, "verify_iat": False},
        )
        assert claims["iss"] == "42"
        assert claims["exp"] - claims["iat"] <= 600
        expires = datetime.fromtimestamp(self.clock() + LIFETIME, UTC).isoformat()
        installation = request.url.path.split("/")[3]
        body = {"token": f"ghs_{installation}_{len(self.requests)}", "expires_at": expires}
        return httpx.Response(201, json=body)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def tokens_with(clock: Clock) -> tuple[InstallationTokens, TokenEndpoint]:
    endpoint = TokenEndpoint(clock)
    http = httpx.Client(transport=httpx.MockTransport(endpoint))
    return (
        InstallationTokens("42", PRIVATE_PEM, base_url="https://gh.test", http=http, clock=clock),
        endpoint,
    )


def test_installation_token_is_cached_until_shortly_before_it_expires(clock: Clock) -> None:
    tokens, endpoint = tokens_with(clock)
    first = tokens.token(7)
    clock.now += LIFETIME - TOKEN_REFRESH_MARGIN_SECONDS - 1
    assert tokens.token(7) == first
    assert len(endpoint.requests) == 1
    clock.now += 2
    renewed = tokens.token(7)
    assert renewed != first
    assert len(endpoint.requests) == 2
    assert endpoint.requests[-1].url.path == "/app/installations/7/access_tokens"


def test_each_installation_has_its_own_token(clock: Clock) -> None:
    tokens, endpoint = tokens_with(clock)
    assert tokens.token(1) != tokens.token(2)
    assert tokens.token(1) == tokens.token(1)
    assert len(endpoint.requests) == 2


def test_the_app_jwt_is_backdated_and_short_lived(clock: Clock) -> None:
    tokens, _ = tokens_with(clock)
    claims = jwt.decode(
        tokens.app_jwt(),
        KEY.public_key(),
        algorithms=["RS256"],
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims["iat"] < START <= claims["exp"] - 500


def answer(status: int, headers: dict[str, str] | None = None, body: Any = None) -> httpx.Response:
    return httpx.Response(status, headers=headers or {}, content=json.dumps(body or {}).encode())


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (answer(403, {"retry-after": "30"}, {"message": "secondary rate limit"}), 30.0),
        (answer(429, {"retry-after": "5"}), 5.0),
        (
            answer(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(START) + 90)}),
            90.0,
        ),
        (answer(403, {}, {"message": "You have exceeded a secondary rate limit"}), 60.0),
        (answer(429), 60.0),
        (answer(403, {}, {"message": "Resource not accessible by integration"}), None),
        (answer(404), None),
    ],
)
def test_rate_limit_answers_become_waits(response: httpx.Response, expected: float | None) -> None:
    assert rate_limit_wait(response, START) == expected


def client_answering(response: httpx.Response) -> GitHubClient:
    http = httpx.Client(transport=httpx.MockTransport(lambda _request: response))
    credentials = GitHubCredentials(token=lambda: "t")
    return GitHubClient("https://gh.test", credentials, http, clock=lambda: START)


def test_not_found_and_bad_credentials_are_permanent() -> None:
    for status in (401, 404):
        with pytest.raises(ProviderError) as failed:
            client_answering(answer(status)).pull_files("o/r", 1, None)
        assert not failed.value.transient


def test_a_secondary_limit_is_a_rate_limit_with_githubs_wait() -> None:
    with pytest.raises(ProviderRateLimited) as limited:
        client_answering(answer(403, {"retry-after": "12"})).pull_files("o/r", 1, None)
    assert limited.value.retry_after == 12.0


class GitHubApi:
    """GitHub's token exchange, `GET /user` for a fine-grained token and an issue's comments,
    recording the Authorization header of every call."""

    def __init__(self, clock: Clock) -> None:
        self.tokens = TokenEndpoint(clock)
        self.calls: list[tuple[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append((request.url.path, request.headers["authorization"]))
        if request.url.path.endswith("/access_tokens"):
            return self.tokens(request)
        if request.url.path == "/user":
            login = request.headers["authorization"].removeprefix("token github_pat_")
            return httpx.Response(200, json={"login": login, "type": "User"})
        return httpx.Response(200, json=[])


def client_with(
    clock: Clock, app: AppCredentials | None, tokens: list[str | None]
) -> tuple[GitHubClient, GitHubApi]:
    """A client whose App is `app` and whose token is the last of `tokens` (None: no token),
    read at each call as the worker reads its secrets."""
    api = GitHubApi(clock)
    credentials = GitHubCredentials(
        app=lambda: app,
        token=lambda: tokens[-1],
        app_where="the App secret",
        pat_where="the token secret",
    )
    http = httpx.Client(transport=httpx.MockTransport(api))
    return GitHubClient("https://gh.test", credentials, http, clock=clock), api


APP = AppCredentials("42", PRIVATE_PEM)


def authorisations(api: GitHubApi, path: str) -> list[str]:
    return [header for called, header in api.calls if called == path]


def test_an_event_naming_an_installation_is_answered_by_the_app(clock: Clock) -> None:
    client, api = client_with(clock, APP, ["github_pat_robot"])
    client.issue_comments("o/r", 1, 7)
    assert authorisations(api, "/repos/o/r/issues/1/comments") == ["token ghs_7_1"]


def test_a_repository_webhook_is_answered_with_the_token(clock: Clock) -> None:
    client, api = client_with(clock, APP, ["github_pat_robot"])
    client.issue_comments("o/r", 1, None)
    assert authorisations(api, "/repos/o/r/issues/1/comments") == ["token github_pat_robot"]
    assert api.tokens.requests == []


def test_without_an_app_an_installation_is_answered_with_the_token(clock: Clock) -> None:
    client, api = client_with(clock, None, ["github_pat_robot"])
    client.issue_comments("o/r", 1, 7)
    assert authorisations(api, "/repos/o/r/issues/1/comments") == ["token github_pat_robot"]


@pytest.mark.parametrize(
    ("app", "installation", "expected"),
    [
        (
            None,
            7,
            "no GitHub credentials: configure the App secret (the event names installation 7) "
            "or the token secret",
        ),
        (
            APP,
            None,
            "no GitHub token: the event names no App installation (a repository or organisation "
            "webhook), so it needs the token secret",
        ),
        (
            None,
            None,
            "no GitHub token: the event names no App installation (a repository or organisation "
            "webhook), so it needs the token secret",
        ),
    ],
)
def test_without_a_credential_for_the_event_the_failure_says_what_to_configure(
    clock: Clock, app: AppCredentials | None, installation: int | None, expected: str
) -> None:
    client, api = client_with(clock, app, [None])
    with pytest.raises(ProviderError) as failed:
        client.issue_comments("o/r", 1, installation)
    assert not failed.value.transient
    assert str(failed.value) == expected
    assert api.calls == []


def test_a_new_app_key_gets_new_installation_tokens(clock: Clock) -> None:
    app = [APP]
    api = GitHubApi(clock)
    credentials = GitHubCredentials(app=lambda: app[-1])
    client = GitHubClient(
        "https://gh.test", credentials, httpx.Client(transport=httpx.MockTransport(api)), clock
    )
    client.issue_comments("o/r", 1, 7)
    client.issue_comments("o/r", 1, 7)
    assert len(api.tokens.requests) == 1
    app.append(AppCredentials("42", PRIVATE_PEM + "\n"))
    client.issue_comments("o/r", 1, 7)
    assert len(api.tokens.requests) == 2


def test_the_apps_comments_are_those_performed_via_the_app(clock: Clock) -> None:
    client, api = client_with(clock, APP, ["github_pat_robot"])
    author = client.author(7)
    assert author == CommentAuthor(app_id="42")
    assert authorisations(api, "/user") == []
    assert author.wrote({"user": {"login": "x[bot]"}, "performed_via_github_app": {"id": 42}})
    assert not author.wrote({"user": {"login": "x[bot]"}, "performed_via_github_app": {"id": 43}})
    assert not author.wrote({"user": {"login": "mallory"}, "performed_via_github_app": None})
    assert not author.wrote({"user": {"login": "mallory"}})
    by_client_id = CommentAuthor(app_id="Iv23li42")
    assert by_client_id.wrote({"performed_via_github_app": {"id": 42, "client_id": "Iv23li42"}})
    assert not by_client_id.wrote({"performed_via_github_app": {"id": 42, "client_id": "Iv23"}})


def test_the_tokens_comments_are_its_users_asked_once_per_token(clock: Clock) -> None:
    tokens: list[str | None] = ["github_pat_robot"]
    client, api = client_with(clock, APP, tokens)
    author = client.author(None)
    assert author == CommentAuthor(login="robot")
    assert client.author(None) == author
    assert authorisations(api, "/user") == ["token github_pat_robot"]
    assert author.wrote({"user": {"login": "robot"}, "performed_via_github_app": None})
    assert not author.wrote({"user": {"login": "mallory"}, "performed_via_github_app": None})
    assert not author.wrote({"user": None})
    # A rotated token may belong to another user: it is asked again.
    tokens.append("github_pat_robot2")
    assert client.author(None) == CommentAuthor(login="robot2")
    assert len(authorisations(api, "/user")) == 2
