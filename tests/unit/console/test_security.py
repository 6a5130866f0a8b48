"""The console's guard, in-process: the Host, the token and its cookie, an action's Origin and
CSRF token."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from hookwise.console.security import Guard, Secrets, action_form, cookie_name

PORT = 8788
COOKIE = cookie_name(PORT)
KEYS = Secrets()


async def page(_request: Request) -> Response:
    return PlainTextResponse("page")


async def act(request: Request) -> Response:
    await action_form(request, KEYS)
    return PlainTextResponse("done")


@pytest.fixture
def client() -> TestClient:
    app = Starlette(routes=[Route("/page", page), Route("/act", act, methods=["POST"])])
    guarded = Guard(app, port=PORT, keys=KEYS)
    return TestClient(guarded, base_url=f"http://127.0.0.1:{PORT}", follow_redirects=False)


def test_the_token_becomes_a_cookie_and_leaves_the_address(client: TestClient) -> None:
    entered = client.get(f"/page?token={KEYS.token}&status=failed")
    assert entered.status_code == 303
    assert entered.headers["location"] == "/page?status=failed"
    cookie = entered.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}={KEYS.token}")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert client.get("/page").text == "page"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"cookie": f"{COOKIE}=guessed"},
        {"cookie": f"{COOKIE}={KEYS.token}", "host": f"attacker.example:{PORT}"},
        {"cookie": f"{COOKIE}={KEYS.token}", "host": "127.0.0.1:9999"},
    ],
    ids=["no cookie", "wrong cookie", "foreign host", "other port"],
)
def test_a_request_without_the_cookie_or_from_a_foreign_host_is_refused(
    client: TestClient, headers: dict[str, str]
) -> None:
    assert client.get("/page", headers=headers).status_code == 403


def test_a_wrong_token_sets_nothing(client: TestClient) -> None:
    answer = client.get("/page?token=wrong")
    assert answer.status_code == 403
    assert "set-cookie" not in answer.headers


def test_localhost_is_this_machine_too(client: TestClient) -> None:
    cookie = {"cookie": f"{COOKIE}={KEYS.token}", "host": f"localhost:{PORT}"}
    assert client.get("/page", headers=cookie).status_code == 200


def test_an_action_needs_the_csrf_token_and_no_foreign_origin(client: TestClient) -> None:
    cookie = {"cookie": f"{COOKIE}={KEYS.token}"}
    assert client.post("/act", headers=cookie, data={}).status_code == 403
    assert client.post("/act", headers=cookie, data={"csrf": "guess"}).status_code == 403
    foreign = {**cookie, "origin": "http://attacker.example"}
    assert client.post("/act", headers=foreign, data={"csrf": KEYS.csrf}).status_code == 403
    own = {**cookie, "origin": f"http://127.0.0.1:{PORT}"}
    assert client.post("/act", headers=own, data={"csrf": KEYS.csrf}).text == "done"


def test_the_token_only_opens_the_door_it_does_not_act(client: TestClient) -> None:
    answer = client.post(f"/act?token={KEYS.token}", data={"csrf": KEYS.csrf})
    assert answer.status_code == 403


def test_two_consoles_keep_their_own_cookies() -> None:
    assert cookie_name(8788) != cookie_name(8789)
