"""GitHub App auth: the JWT GitHub expects, installation tokens cached until shortly before
they expire, and GitHub's rate-limit answers read as waits (the HTTP edge is httpx's
MockTransport; nothing inside hookwise is mocked)."""

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
    GitHubAuth,
    GitHubClient,
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
    return GitHubClient("https://gh.test", GitHubAuth(token=lambda: "t"), http, clock=lambda: START)


def test_not_found_and_bad_credentials_are_permanent() -> None:
    for status in (401, 404):
        with pytest.raises(ProviderError) as failed:
            client_answering(answer(status)).pull_files("o/r", 1, None)
        assert not failed.value.transient


def test_a_secondary_limit_is_a_rate_limit_with_githubs_wait() -> None:
    with pytest.raises(ProviderRateLimited) as limited:
        client_answering(answer(403, {"retry-after": "12"})).pull_files("o/r", 1, None)
    assert limited.value.retry_after == 12.0


def test_without_an_installation_or_token_there_are_no_credentials() -> None:
    with pytest.raises(ProviderError):
        GitHubAuth().header(None)
