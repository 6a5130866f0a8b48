"""Signed callbacks (the `http` action): a route may POST its result to a configured HTTPS
endpoint, signed the Standard Webhooks way. Targets come from configuration, never from the
payload, and private, loopback and link-local addresses are refused unless local development
allows them."""

from __future__ import annotations

import ipaddress
import json
import socket
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from hookwise.adapters.secrets import SecretsProvider
from hookwise.config import Route, SourceConfig
from hookwise.config.models import HttpAction
from hookwise.domain.events import EventRecord
from hookwise.verifiers.standard import StandardWebhooksVerifier

Resolver = Callable[..., list[tuple[Any, ...]]]
TIMEOUT_SECONDS = 10.0


def callback_secret_name(route: str, action: HttpAction) -> str:
    """The Secrets Manager name of a route's signing secret: the stack grants exactly these to
    the functions that run actions."""
    return action.secret_name or f"hookwise/callback-{route}"


class CallbackRefused(Exception):
    """The target may never be called (scheme or address): retrying cannot help."""


class CallbackFailed(Exception):
    """The target did not take the callback this time: retry later, without the model."""


def check_target(url: str, allow_private: bool, resolve: Resolver = socket.getaddrinfo) -> str:
    """The address to connect to for `url`, once checked: resolved here and only here, so a
    DNS answer that changes before the connect (rebinding) cannot reach a private address."""
    parts = urlsplit(url)
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        raise CallbackRefused(f"callback URL must be https: {url}")
    if not parts.hostname:
        raise CallbackRefused(f"callback URL has no host: {url}")
    try:
        infos = resolve(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except OSError as error:
        raise CallbackFailed(f"cannot resolve {parts.hostname}: {error}") from error
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not addresses:
        raise CallbackFailed(f"{parts.hostname} resolves to no address")
    if not allow_private:
        for address in addresses:
            if not address.is_global:
                raise CallbackRefused(f"{parts.hostname} resolves to non-public {address}")
    return str(addresses[0])


class CallbackSender:
    def __init__(
        self,
        secrets: SecretsProvider,
        *,
        allow_private: bool,
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
        resolve: Resolver = socket.getaddrinfo,
    ) -> None:
        self._secrets = secrets
        self._allow_private = allow_private
        self._resolve = resolve
        self._client = client or httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False)
        self._clock = clock
        self._signer = StandardWebhooksVerifier(SourceConfig(name="callback", scheme="standard"))

    def send(self, record: EventRecord, route: Route) -> None:
        action = route.http_action
        if action is None:
            return
        url = action.url
        address = check_target(url, self._allow_private, self._resolve)
        secret_name = callback_secret_name(route.name, action)
        secrets = self._secrets.source_secrets(f"callback_{route.name}", secret_name)
        if not secrets:
            # The secret is there but holds no active secret: put right in the store, without
            # a deploy, so the next try may sign.
            raise CallbackFailed(f"secret {secret_name} holds no signing secret")
        secret = secrets[0]
        body = json.dumps(record.public_view()).encode()
        headers = self._signer.sign(
            body,
            secret,
            url=url,
            event_type=route.name,
            delivery_id=record.event_id,
            timestamp=int(self._clock()),
        )
        target = httpx.URL(url)
        try:
            # Connect to the checked address; the URL's own host still names the server for
            # TLS (SNI and certificate verification) and in the Host header.
            answer = self._client.post(
                target.copy_with(host=address),
                content=body,
                headers={**headers, "Host": target.netloc.decode("ascii")},
                extensions={"sni_hostname": target.host},
            )
        except httpx.HTTPError as error:
            raise CallbackFailed(f"callback to {url} failed: {type(error).__name__}") from error
        if answer.status_code >= 300:
            raise CallbackFailed(f"callback to {url} answered {answer.status_code}")
