"""Who may use the console: the one who started it, from this machine, on purpose.

- Bound to loopback (server.py), and every request's Host must be `127.0.0.1:<port>` or
  `localhost:<port>`: a page elsewhere that rebinds its own name to 127.0.0.1 (DNS rebinding)
  still sends its own Host, and is refused.
- A random token, printed at start in the console's URL (as Jupyter does): the first request
  that carries it gets it as a cookie (HttpOnly, SameSite=Strict) and is sent on without it.
  Any other request without the cookie is refused.
- Actions are POSTs carrying a CSRF token from the page's form, compared in constant time; a
  foreign Origin is refused outright.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

COOKIE_PREFIX = "hookwise_console_"
# The query parameter of the printed URL.
ENTRY_PARAMETER = "token"
LOOPBACK_NAMES = ("127.0.0.1", "localhost")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def cookie_name(port: int) -> str:
    """Per port: cookies are not, and two consoles must not overwrite each other's."""
    return f"{COOKIE_PREFIX}{port}"


@dataclass(frozen=True)
class Secrets:
    """The session's token (in the URL, then the cookie) and the CSRF token (in forms)."""

    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))


def same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


async def action_form(request: Request, keys: Secrets) -> FormData:
    """An action's form, once its CSRF token is checked (HTTP 403 otherwise)."""
    form = await request.form()
    csrf = form.get("csrf")
    if not same(csrf if isinstance(csrf, str) else None, keys.csrf):
        raise HTTPException(403, "missing or wrong CSRF token")
    return form


class Guard:
    """ASGI middleware: the Host, then the token or its cookie, then an action's Origin (each
    action checks its CSRF token: `action_form`)."""

    def __init__(self, app: ASGIApp, *, port: int, keys: Secrets) -> None:
        self._app = app
        self._hosts = frozenset(f"{name}:{port}" for name in LOOPBACK_NAMES)
        self._keys = keys
        self._cookie = cookie_name(port)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        request = Request(scope, receive)
        refusal = self._refusal(request)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        token = request.query_params.get(ENTRY_PARAMETER)
        if token is not None and request.method == "GET":
            await self._enter(request)(scope, receive, send)
            return
        await self._app(scope, receive, send)

    def _refusal(self, request: Request) -> Response | None:
        if request.headers.get("host") not in self._hosts:
            return PlainTextResponse("this console answers on 127.0.0.1 only", 403)
        token = request.query_params.get(ENTRY_PARAMETER)
        if token is not None and not same(token, self._keys.token):
            return PlainTextResponse("wrong token", 403)
        # Only the printed URL's first visit goes by the token; everything else, the cookie.
        entering = token is not None and request.method == "GET"
        if not entering and not same(request.cookies.get(self._cookie), self._keys.token):
            return PlainTextResponse(
                "open the console with the URL it printed at start (it carries a token)", 403
            )
        origin = request.headers.get("origin")
        foreign = origin is not None and origin.removeprefix("http://") not in self._hosts
        if request.method in UNSAFE_METHODS and foreign:
            return PlainTextResponse("foreign origin", 403)
        return None

    def _enter(self, request: Request) -> Response:
        """The token's first use: set the cookie and drop the token from the address."""
        kept = [(k, v) for k, v in request.query_params.multi_items() if k != ENTRY_PARAMETER]
        answer = RedirectResponse(request.url.path + (f"?{urlencode(kept)}" if kept else ""), 303)
        answer.set_cookie(self._cookie, self._keys.token, httponly=True, samesite="strict")
        return answer
