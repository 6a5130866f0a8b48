"""Local fakes of the GitHub REST API and the Slack Web API, for `hookwise dev` and tests.

The real clients (httpx for GitHub, slack_sdk for Slack) are pointed at them by base URL. Each
keeps what was posted, answers rate limits on demand, and has `_control` endpoints:

- both: `GET /_control/state` (what was posted, and every call), `DELETE /_control/state`,
  `POST /_control/faults {"rules": [{"method", "path", "status", "retry_after", "reset_in",
  "times"}]}` (the next matching calls answer a rate limit), `DELETE /_control/faults`;
- GitHub: `POST /_control/pulls {"repo", "number", "files": [...]}` seeds a pull request's
  changed files, or `{"repo", "number", "large": N}` a large PR of N files with a lock file,
  generated files and binaries; with `"head": SHA` (the head those files are at) and `"pushes":
  [{"sha", "files", "force_pushed"}]` (later heads, each with the files its push changed), the
  compare of two of them (`GET /repos/{o}/{r}/compare/BASE...HEAD`) answers `ahead` with the
  files the pushes between changed, `diverged` across a force-push, `behind`, `identical`, and
  404 for a SHA it was not given; `POST /_control/comments {"repo", "number", "comments":
  [{"user", "body"}]}` seeds an issue's comments (by `BOT_LOGIN`: written through the App).

The GitHub fake accepts the App's installation tokens and one fine-grained token, and answers
as GitHub does for each: a comment written with an installation token is the App's bot user's,
with the App in `performed_via_github_app`; one written with the token is its user's, with no
App; `GET /user` names the token's user and refuses an installation token.
"""

from __future__ import annotations

import json
import re
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any, Self
from urllib.parse import parse_qsl, urlencode, urlsplit

import jwt

from hookwise.local.gateway import LoopbackServer
from hookwise.local.http_handler import LocalHandler

JsonReply = tuple[int, Any, dict[str, str]]
DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100
TOKEN_LIFETIME_SECONDS = 3600
# The development App, and the user its bot comments as (`<slug>[bot]`, as on GitHub).
DEV_GITHUB_APP_ID = "424242"
DEV_GITHUB_APP_SLUG = "hookwise-dev"
DEV_GITHUB_APP_CLIENT_ID = "Iv23lihookwisedev"
BOT_LOGIN = f"{DEV_GITHUB_APP_SLUG}[bot]"
# The user a fine-grained token acts as (a machine user, say).
PAT_LOGIN = "hookwise-dev-user"
SLACK_BOT_USER = "U0HOOKWISE"


@dataclass
class FaultRule:
    """The next `times` calls whose method and path match answer `status` (a rate limit)."""

    status: int = 429
    method: str = ""
    path: str = ""
    retry_after: int | None = None
    # Seconds until the primary limit resets (GitHub: x-ratelimit-remaining: 0).
    reset_in: int | None = None
    times: int = 1

    def matches(self, method: str, path: str) -> bool:
        return (not self.method or self.method == method) and self.path in path


@dataclass
class FakeState:
    lock: threading.Lock = field(default_factory=threading.Lock)
    rules: list[FaultRule] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)


class FakeServer:
    """A loopback HTTP server answering JSON; subclasses route the provider's paths."""

    def __init__(self, port: int = 0) -> None:
        self.state = FakeState()
        self.server = LoopbackServer(("127.0.0.1", port), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def start(self) -> Self:
        threading.Thread(
            target=self.server.serve_forever, daemon=True, name=type(self).__name__
        ).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def route(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> JsonReply:
        raise NotImplementedError

    def fault_reply(self, rule: FaultRule) -> JsonReply:
        raise NotImplementedError

    def snapshot(self) -> dict[str, Any]:
        raise NotImplementedError

    def reset(self) -> None:
        with self.state.lock:
            self.state.calls.clear()
            self.state.rules.clear()

    def _control(self, method: str, path: str, body: bytes) -> JsonReply:
        if path == "/_control/state" and method == "GET":
            with self.state.lock:
                return 200, {**self.snapshot(), "calls": list(self.state.calls)}, {}
        if path == "/_control/state" and method == "DELETE":
            self.reset()
            return 200, {"reset": True}, {}
        if path == "/_control/faults" and method == "POST":
            rules = [FaultRule(**rule) for rule in json.loads(body or b"{}").get("rules", [])]
            with self.state.lock:
                self.state.rules = rules
            return 200, {"rules": len(rules)}, {}
        if path == "/_control/faults" and method == "DELETE":
            with self.state.lock:
                self.state.rules.clear()
            return 200, {"rules": 0}, {}
        return self.control(method, path, body)

    def control(self, method: str, path: str, body: bytes) -> JsonReply:
        return 404, {"message": "Not Found"}, {}

    def _serve(self, method: str, target: str, headers: dict[str, str], body: bytes) -> JsonReply:
        parts = urlsplit(target)
        if parts.path.startswith("/_control/"):
            return self._control(method, parts.path, body)
        with self.state.lock:
            self.state.calls.append({"method": method, "path": parts.path})
            rule = next((r for r in self.state.rules if r.matches(method, parts.path)), None)
            if rule is not None:
                rule.times -= 1
                if rule.times <= 0:
                    self.state.rules.remove(rule)
        if rule is not None:
            return self.fault_reply(rule)
        return self.route(method, parts.path, dict(parse_qsl(parts.query)), headers, body)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(LocalHandler):
            def _any(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, answer, extra = fake._serve(self.command, self.path, headers, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json; charset=utf-8")
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _any

        return Handler


def _now_iso(offset: float = 0) -> str:
    moment = datetime.fromtimestamp(time.time() + offset, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _source_patch(name: str, lines: int) -> str:
    added = "\n".join(f"+    total_{i} = compute_{i}(order)  # {name}" for i in range(lines))
    return f"@@ -1,3 +1,{lines + 3} @@\n def handler(order):\n{added}\n     return order"


def sample_pull_files() -> list[dict[str, Any]]:
    """What a pull request not seeded through `_control/pulls` has changed."""
    return [
        {
            "filename": "src/ledger/reconcile.py",
            "status": "modified",
            "additions": 12,
            "deletions": 3,
            "patch": _source_patch("reconcile", 12),
        },
        {
            "filename": "tests/test_reconcile.py",
            "status": "added",
            "additions": 6,
            "deletions": 0,
            "patch": _source_patch("test", 6),
        },
        {
            "filename": "poetry.lock",
            "status": "modified",
            "additions": 40,
            "deletions": 38,
            "patch": "@@ -1 +1 @@\n-a = 1\n+a = 2",
        },
    ]


def large_pull_files(count: int) -> list[dict[str, Any]]:
    """A large pull request: a big lock file, generated files, a binary and `count` files in
    all, of varied sizes (deterministic)."""
    lock = "\n".join(f'+    "node_modules/pkg-{i}": {{"version": "1.{i}.0"}},' for i in range(3000))
    files: list[dict[str, Any]] = [
        {
            "filename": "package-lock.json",
            "status": "modified",
            "additions": 3000,
            "deletions": 2900,
            "patch": "@@ -1 +1 @@\n" + lock,
        },
        {
            "filename": "web/dist/app.min.js",
            "status": "modified",
            "additions": 1,
            "deletions": 1,
            "patch": "@@ -1 +1 @@\n+" + "var a=1;" * 4000,
        },
        {
            "filename": "proto/ledger_pb2.py",
            "status": "modified",
            "additions": 400,
            "deletions": 380,
            "patch": "@@ -1 +1 @@\n+# Generated by the protocol buffer compiler.  DO NOT EDIT!\n"
            + "+x = 1\n" * 400,
        },
        {"filename": "docs/diagram.png", "status": "added", "additions": 0, "deletions": 0},
    ]
    for index in range(max(0, count - len(files))):
        lines = 3 + (index * 37) % 120
        files.append(
            {
                "filename": f"src/module_{index:03d}/service.py",
                "status": "modified",
                "additions": lines,
                "deletions": lines // 3,
                "patch": _source_patch(f"module_{index:03d}", lines),
            }
        )
    return files


REPO = r"/repos/(?P<repo>[^/]+/[^/]+)"


def _user(login: str) -> dict[str, Any]:
    """A user as GitHub shows one in a comment or answers `GET /user`."""
    user_id = zlib.crc32(login.encode())
    return {
        "login": login,
        "id": user_id,
        "node_id": f"U_dev{user_id}",
        "type": "Bot" if login.endswith("[bot]") else "User",
        "site_admin": False,
        "html_url": f"https://github.com/{login}",
    }


def _app(app_id: str) -> dict[str, Any]:
    """The development App, as a comment's `performed_via_github_app` shows it."""
    return {
        "id": int(app_id),
        "client_id": DEV_GITHUB_APP_CLIENT_ID,
        "slug": DEV_GITHUB_APP_SLUG,
        "node_id": f"A_dev{app_id}",
        "name": "hookwise (development)",
        "owner": _user("harbor-labs"),
        "html_url": f"https://github.com/apps/{DEV_GITHUB_APP_SLUG}",
        "permissions": {"issues": "write", "pull_requests": "write", "metadata": "read"},
        "events": ["issues", "pull_request"],
    }


class GitHubFake(FakeServer):
    """The GitHub REST endpoints hookwise calls, with App installation tokens and a token."""

    def __init__(
        self,
        port: int = 0,
        app_public_key: str | None = None,
        pat: str | None = None,
        app_id: str = DEV_GITHUB_APP_ID,
    ) -> None:
        super().__init__(port)
        # With the App's public key, the JWT is checked as GitHub does; without, any JWT passes.
        self._app_public_key = app_public_key
        self._app_id = app_id
        # Every token accepted, and whom it writes as.
        self._tokens: dict[str, str] = {pat: PAT_LOGIN} if pat else {}
        self._pulls: dict[str, list[dict[str, Any]]] = {}
        # A pull request's heads in push order: {"sha", "files" its push changed, "force_pushed"}.
        self._heads: dict[str, list[dict[str, Any]]] = {}
        self._comments: dict[str, list[dict[str, Any]]] = {}
        self._labels: dict[str, list[str]] = {}
        self._next_id = 1000
        self._routes: list[tuple[str, re.Pattern[str], Callable[..., JsonReply]]] = [
            (
                "POST",
                re.compile(r"/app/installations/(?P<installation>\d+)/access_tokens"),
                self._access_token,
            ),
            ("GET", re.compile(r"/user"), self._authenticated_user),
            ("GET", re.compile(REPO + r"/pulls/(?P<number>\d+)/files"), self._pull_files),
            (
                "GET",
                re.compile(REPO + r"/compare/(?P<base>[^/]+?)\.\.\.(?P<head>[^/]+)"),
                self._compare,
            ),
            ("GET", re.compile(REPO + r"/issues/(?P<number>\d+)/comments"), self._list_comments),
            ("POST", re.compile(REPO + r"/issues/(?P<number>\d+)/comments"), self._create_comment),
            (
                "PATCH",
                re.compile(REPO + r"/issues/comments/(?P<comment_id>\d+)"),
                self._update_comment,
            ),
            ("POST", re.compile(REPO + r"/issues/(?P<number>\d+)/labels"), self._add_labels),
        ]

    def reset(self) -> None:
        super().reset()
        with self.state.lock:
            self._pulls.clear()
            self._heads.clear()
            self._comments.clear()
            self._labels.clear()

    def snapshot(self) -> dict[str, Any]:
        return {"comments": self._comments, "labels": self._labels}

    def control(self, method: str, path: str, body: bytes) -> JsonReply:
        if path == "/_control/pulls" and method == "POST":
            spec = json.loads(body)
            files = large_pull_files(int(spec["large"])) if "large" in spec else spec["files"]
            heads = [{"sha": spec["head"], "files": files}] if "head" in spec else []
            heads += spec.get("pushes", [])
            with self.state.lock:
                self._pulls[f"{spec['repo']}#{spec['number']}"] = files
                self._heads[f"{spec['repo']}#{spec['number']}"] = heads
            return 200, {"files": len(files), "heads": len(heads)}, {}
        if path == "/_control/comments" and method == "POST":
            spec = json.loads(body)
            with self.state.lock:
                for seeded in spec["comments"]:
                    self._add_comment(
                        f"{spec['repo']}#{spec['number']}", seeded["body"], seeded["user"]
                    )
            return 200, {"comments": len(spec["comments"])}, {}
        return super().control(method, path, body)

    def fault_reply(self, rule: FaultRule) -> JsonReply:
        headers: dict[str, str] = {}
        message = "You have exceeded a secondary rate limit. Please wait before you try again."
        if rule.retry_after is not None:
            headers["retry-after"] = str(rule.retry_after)
        if rule.reset_in is not None:
            message = "API rate limit exceeded for installation."
            headers["x-ratelimit-remaining"] = "0"
            headers["x-ratelimit-reset"] = str(int(time.time()) + rule.reset_in)
        return rule.status, {"message": message}, headers

    def route(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> JsonReply:
        for verb, pattern, answer in self._routes:
            match = pattern.fullmatch(path)
            if verb == method and match:
                author = self._authorised(headers)
                if answer != self._access_token and author is None:
                    return 401, {"message": "Bad credentials"}, {}
                return answer(
                    query=query,
                    headers=headers,
                    body=body,
                    path=path,
                    author=author,
                    **match.groupdict(),
                )
        return 404, {"message": "Not Found"}, {}

    def _authorised(self, headers: dict[str, str]) -> str | None:
        """Whom the call's token writes as, or None for a token the fake never issued."""
        scheme, _space, token = headers.get("authorization", "").partition(" ")
        with self.state.lock:
            return self._tokens.get(token) if scheme.lower() in ("token", "bearer") else None

    def _access_token(self, *, installation: str, headers: dict[str, str], **_: Any) -> JsonReply:
        scheme, _space, token = headers.get("authorization", "").partition(" ")
        try:
            if scheme.lower() != "bearer":
                raise jwt.InvalidTokenError("not a bearer JWT")
            if self._app_public_key:
                claims = jwt.decode(token, self._app_public_key, algorithms=["RS256"])
                # GitHub takes the App's id or its client id as the issuer.
                if str(claims.get("iss")) not in (self._app_id, DEV_GITHUB_APP_CLIENT_ID):
                    raise jwt.InvalidIssuerError("not the App")
            else:
                jwt.decode(token, options={"verify_signature": False})
        except jwt.InvalidTokenError:
            return 401, {"message": "A JSON web token could not be decoded"}, {}
        with self.state.lock:
            self._next_id += 1
            issued = f"ghs_dev{installation}x{self._next_id}"
            self._tokens[issued] = BOT_LOGIN
        return 201, {"token": issued, "expires_at": _now_iso(TOKEN_LIFETIME_SECONDS)}, {}

    def _page(self, items: list[Any], path: str, query: dict[str, str]) -> JsonReply:
        per_page = min(MAX_PER_PAGE, int(query.get("per_page", DEFAULT_PER_PAGE)))
        page = int(query.get("page", 1))
        chunk = items[(page - 1) * per_page : page * per_page]
        last = max(1, -(-len(items) // per_page))
        links = []
        if page < last:
            for relation, number in (("next", page + 1), ("last", last)):
                query_string = urlencode({"per_page": per_page, "page": number})
                links.append(f'<{self.url}{path}?{query_string}>; rel="{relation}"')
        return 200, chunk, {"link": ", ".join(links)} if links else {}

    def _authenticated_user(self, *, author: str, **_: Any) -> JsonReply:
        if author == BOT_LOGIN:
            # As GitHub answers an installation token.
            return 403, {"message": "Resource not accessible by integration"}, {}
        return 200, _user(author), {}

    def _pull_files(
        self, *, repo: str, number: str, query: dict[str, str], path: str, **_: Any
    ) -> JsonReply:
        with self.state.lock:
            files = self._pulls.get(f"{repo}#{number}") or sample_pull_files()
        return self._page(files, path, query)

    def _compare(self, *, repo: str, base: str, head: str, **_: Any) -> JsonReply:
        with self.state.lock:
            heads = next(
                (
                    pushes
                    for subject, pushes in self._heads.items()
                    if subject.startswith(f"{repo}#")
                    and {base, head} <= {pushed["sha"] for pushed in pushes}
                ),
                None,
            )
        if heads is None:
            return 404, {"message": "Not Found"}, {}
        shas = [pushed["sha"] for pushed in heads]
        start, end = shas.index(base), shas.index(head)
        between = heads[start + 1 : end + 1]
        changed: dict[str, dict[str, Any]] = {}
        for pushed in between:
            changed.update((f["filename"], f) for f in pushed["files"])
        if end <= start:
            status = "identical" if end == start else "behind"
        else:
            status = "diverged" if any(p.get("force_pushed") for p in between) else "ahead"
        answer = {
            "status": status,
            "ahead_by": max(0, end - start),
            "behind_by": max(0, start - end),
            "total_commits": max(0, end - start),
            "commits": [],
            "files": list(changed.values()),
        }
        return 200, answer, {}

    def _list_comments(
        self, *, repo: str, number: str, query: dict[str, str], path: str, **_: Any
    ) -> JsonReply:
        with self.state.lock:
            comments = list(self._comments.get(f"{repo}#{number}", []))
        return self._page(comments, path, query)

    def _add_comment(self, subject: str, text: str, login: str) -> dict[str, Any]:
        """Called with the state lock held."""
        self._next_id += 1
        repo, number = subject.split("#")
        comment = {
            "id": self._next_id,
            "body": text,
            "user": _user(login),
            # GitHub names the App a comment was written through (with its installation token).
            "performed_via_github_app": _app(self._app_id) if login == BOT_LOGIN else None,
            "html_url": f"https://github.com/{repo}/pull/{number}#issuecomment-{self._next_id}",
            "created_at": _now_iso(),
            "updated_at": _now_iso(),
        }
        self._comments.setdefault(subject, []).append(comment)
        return comment

    def _create_comment(
        self, *, repo: str, number: str, body: bytes, author: str, **_: Any
    ) -> JsonReply:
        text = json.loads(body)["body"]
        with self.state.lock:
            comment = self._add_comment(f"{repo}#{number}", text, author)
        return 201, comment, {}

    def _update_comment(self, *, repo: str, comment_id: str, body: bytes, **_: Any) -> JsonReply:
        text = json.loads(body)["body"]
        with self.state.lock:
            for subject, comments in self._comments.items():
                for comment in comments:
                    if subject.startswith(f"{repo}#") and comment["id"] == int(comment_id):
                        comment.update(body=text, updated_at=_now_iso())
                        return 200, comment, {}
        return 404, {"message": "Not Found"}, {}

    def _add_labels(self, *, repo: str, number: str, body: bytes, **_: Any) -> JsonReply:
        wanted = json.loads(body)["labels"]
        with self.state.lock:
            labels = self._labels.setdefault(f"{repo}#{number}", [])
            labels.extend(label for label in wanted if label not in labels)
            answer = [{"name": label} for label in labels]
        return 200, answer, {}


class SlackFake(FakeServer):
    """`auth.test`, `chat.postMessage` and `conversations.replies`, under `/api/`."""

    def __init__(self, bot_token: str, port: int = 0) -> None:
        super().__init__(port)
        self._token = bot_token
        self._messages: list[dict[str, Any]] = []
        self._clock = 1_763_900_000

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def reset(self) -> None:
        super().reset()
        with self.state.lock:
            self._messages.clear()

    def snapshot(self) -> dict[str, Any]:
        return {"messages": self._messages}

    def fault_reply(self, rule: FaultRule) -> JsonReply:
        headers = {"retry-after": str(rule.retry_after)} if rule.retry_after is not None else {}
        return rule.status, {"ok": False, "error": "ratelimited"}, headers

    def route(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> JsonReply:
        arguments: dict[str, Any] = dict(query)
        if body:
            if headers.get("content-type", "").startswith("application/json"):
                arguments.update(json.loads(body))
            else:
                arguments.update(parse_qsl(body.decode()))
        if headers.get("authorization", "") != f"Bearer {self._token}":
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        name = path.removeprefix("/api/")
        if name == "auth.test":
            return 200, {"ok": True, "user_id": SLACK_BOT_USER, "team_id": "T0HOOKWISE"}, {}
        if name == "chat.postMessage":
            return self._post(arguments)
        if name == "conversations.replies":
            return self._replies(arguments)
        return 200, {"ok": False, "error": "unknown_method"}, {}

    def _post(self, arguments: dict[str, Any]) -> JsonReply:
        metadata = arguments.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        with self.state.lock:
            self._clock += 1
            message = {
                "type": "message",
                "user": SLACK_BOT_USER,
                "ts": f"{self._clock}.000100",
                "channel": arguments.get("channel"),
                "thread_ts": arguments.get("thread_ts"),
                "text": arguments.get("text", ""),
                "metadata": metadata,
            }
            self._messages.append(message)
        return (
            200,
            {"ok": True, "channel": message["channel"], "ts": message["ts"], "message": message},
            {},
        )

    def _replies(self, arguments: dict[str, Any]) -> JsonReply:
        with_metadata = str(arguments.get("include_all_metadata", "")).lower() in ("1", "true")
        with self.state.lock:
            thread = [
                {key: value for key, value in message.items() if with_metadata or key != "metadata"}
                for message in self._messages
                if message["channel"] == arguments.get("channel")
                and message["thread_ts"] == arguments.get("ts")
            ]
        parent = {"type": "message", "ts": arguments.get("ts"), "text": "(the triggering message)"}
        return 200, {"ok": True, "messages": [parent, *thread], "has_more": False}, {}


# Development credentials for the fakes (never valid anywhere else).
DEV_GITHUB_PAT = "github_pat_hookwise_local_development"
DEV_SLACK_BOT = "xoxb-hookwise-local-development"


@dataclass
class ProviderFakes:
    """Running fakes, the credentials they accept (Secrets Manager name -> value) and the
    environment that points the worker's clients at them."""

    github: GitHubFake | None
    slack: SlackFake | None
    secrets: dict[str, str]
    environment: dict[str, str]

    def stop(self) -> None:
        for fake in (self.github, self.slack):
            if fake is not None:
                fake.stop()


def _dev_app_key() -> tuple[str, str]:
    """A fresh RSA key pair for the development GitHub App: (private PEM, public PEM)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


def start_provider_fakes(
    *,
    github_app_secret_name: str,
    github_pat_secret_name: str,
    slack_bot_secret_name: str,
    github: bool = True,
    slack: bool = True,
    github_port: int = 0,
    slack_port: int = 0,
) -> ProviderFakes:
    """Start the fakes asked for, with a GitHub App key pair made now, a fine-grained token
    (for events that name no installation) and a bot token."""
    secrets: dict[str, str] = {}
    environment: dict[str, str] = {}
    github_fake = slack_fake = None
    if github:
        private_pem, public_pem = _dev_app_key()
        github_fake = GitHubFake(
            port=github_port, app_public_key=public_pem, pat=DEV_GITHUB_PAT
        ).start()
        environment["HOOKWISE_GITHUB_API_URL"] = github_fake.url
        secrets[github_app_secret_name] = json.dumps(
            {"app_id": DEV_GITHUB_APP_ID, "private_key": private_pem}
        )
        secrets[github_pat_secret_name] = DEV_GITHUB_PAT
    if slack:
        slack_fake = SlackFake(DEV_SLACK_BOT, port=slack_port).start()
        environment["HOOKWISE_SLACK_API_URL"] = slack_fake.api_url
        secrets[slack_bot_secret_name] = DEV_SLACK_BOT
    return ProviderFakes(github_fake, slack_fake, secrets, environment)
