"""The Slack Web API as hookwise uses it, through slack_sdk's WebClient.

slack_sdk is Slack's own client: it knows every method's HTTP verb and encoding, parses errors
into SlackApiError, and takes `base_url`, so the local fake stands in for slack.com unchanged.
Its retry handlers would sleep through a 429; hookwise has none installed and hands the wait to
the queue instead.
"""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from hookwise.providers.errors import (
    DEFAULT_RATE_LIMIT_SECONDS,
    ProviderRateLimited,
    permanent,
    transient,
)

TIMEOUT_SECONDS = 10
# The metadata event type that marks hookwise's own replies in a thread.
REPLY_EVENT_TYPE = "hookwise_reply"
THREAD_PAGE = 200
TRANSIENT_ERRORS = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


class SlackClient:
    def __init__(self, client: WebClient) -> None:
        self._client = client
        self.calls = 0

    @classmethod
    def with_token(cls, token: str, base_url: str) -> SlackClient:
        client = WebClient(token=token, base_url=base_url, timeout=TIMEOUT_SECONDS)
        client.retry_handlers = []
        return cls(client)

    def _call(self, method: str, **arguments: Any) -> dict[str, Any]:
        self.calls += 1
        try:
            return dict(getattr(self._client, method)(**arguments).data)
        except SlackApiError as error:
            response = error.response
            if response.status_code == 429 or response.get("error") == "ratelimited":
                wait = str(response.headers.get("Retry-After") or "")
                seconds = float(wait) if wait.isdigit() else DEFAULT_RATE_LIMIT_SECONDS
                raise ProviderRateLimited(
                    f"Slack {method}: rate limited", max(1.0, seconds)
                ) from error
            code = str(response.get("error") or response.status_code)
            if response.status_code >= 500 or code in TRANSIENT_ERRORS:
                raise transient(f"Slack {method}: {code}") from error
            raise permanent(f"Slack {method}: {code}") from error
        except (SlackClientError, OSError) as error:
            raise transient(f"Slack {method}: {type(error).__name__}") from error

    def find_reply(self, channel: str, thread_ts: str, event_id: str) -> dict[str, Any] | None:
        """Our earlier reply for this event in the thread, found by its message metadata."""
        cursor: str | None = None
        while True:
            page = self._call(
                "conversations_replies",
                channel=channel,
                ts=thread_ts,
                include_all_metadata=True,
                limit=THREAD_PAGE,
                cursor=cursor,
            )
            for message in page.get("messages", []):
                metadata = message.get("metadata") or {}
                if (
                    metadata.get("event_type") == REPLY_EVENT_TYPE
                    and (metadata.get("event_payload") or {}).get("event_id") == event_id
                ):
                    return dict(message)
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return None

    def post_reply(
        self, channel: str, thread_ts: str, text: str, event_id: str, route: str
    ) -> dict[str, Any]:
        return self._call(
            "chat_postMessage",
            channel=channel,
            thread_ts=thread_ts,
            text=text,
            # Plain text: no link unfurls, no @-name parsing of model output.
            unfurl_links=False,
            unfurl_media=False,
            link_names=False,
            metadata={
                "event_type": REPLY_EVENT_TYPE,
                "event_payload": {"event_id": event_id, "route": route},
            },
        )
