"""Model text made safe to post: mass mentions neutralised, the result rendered as Markdown."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# A zero-width space after "@" keeps the text readable and stops the provider's mention parser.
ZERO_WIDTH_SPACE = "\u200b"
SLACK_SPECIAL_MENTION = re.compile(
    r"<!(?P<kind>channel|here|everyone|subteam\^[^>|]*)(?:\|(?P<label>[^>]*))?>", re.IGNORECASE
)
BROADCAST_MENTION = re.compile(r"@(?=(?:channel|here|everyone)\b)", re.IGNORECASE)
# GitHub team mentions: @org/team.
TEAM_MENTION = re.compile(r"@(?=[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9][\w.-]*)")


def neutralise_mentions(text: str) -> str:
    """Mass mentions in model text never notify anyone: `@channel`, `@here`, `@everyone`,
    `<!channel>`, `<!here>`, `<!subteam^...>` and `@org/team`."""

    def slack_special(match: re.Match[str]) -> str:
        kind = match.group("kind").lower()
        name = match.group("label") or ("team" if kind.startswith("subteam") else kind)
        return f"@{ZERO_WIDTH_SPACE}{name.lstrip('@')}"

    text = SLACK_SPECIAL_MENTION.sub(slack_special, text)
    text = BROADCAST_MENTION.sub("@" + ZERO_WIDTH_SPACE, text)
    return TEAM_MENTION.sub("@" + ZERO_WIDTH_SPACE, text)


def _heading(field: str) -> str:
    return field.replace("_", " ").capitalize()


def render_result(result: Mapping[str, Any], fields: list[str], bold: str = "**") -> str:
    """The result as Markdown (Slack's mrkdwn bolds with one `*`), the chosen fields in order
    (all of them when none are chosen), mass mentions and HTML comments neutralised."""
    lines: list[str] = []
    for field in fields or list(result):
        value = result.get(field)
        if value in (None, "", []):
            continue
        if isinstance(value, list):
            lines.append(f"{bold}{_heading(field)}{bold}")
            lines.extend(f"- {item}" for item in value)
        else:
            lines.append(f"{bold}{_heading(field)}{bold}: {value}")
        lines.append("")
    # Model text may not forge hookwise's hidden markers or stamps (HTML comments).
    text = "\n".join(lines).strip().replace("<!--", "&lt;!--")
    return neutralise_mentions(text)
