"""Model text made safe to post: the hidden marker that finds our own comment again, mass
mentions neutralised, and the result rendered as Markdown."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

# A zero-width space after "@" keeps the text readable and stops the provider's mention parser.
ZERO_WIDTH_SPACE = "\u200b"
SLACK_SPECIAL_MENTION = re.compile(
    r"<!(?P<kind>channel|here|everyone|subteam\^[^>|]*)(?:\|(?P<label>[^>]*))?>", re.IGNORECASE
)
BROADCAST_MENTION = re.compile(r"@(?=(?:channel|here|everyone)\b)", re.IGNORECASE)
# GitHub team mentions: @org/team.
TEAM_MENTION = re.compile(r"@(?=[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9][\w.-]*)")
MARKER = "<!-- hookwise:route={route} subject={subject} -->"
# When the subject was last updated as of the event a comment reflects: an older event's
# retry never overwrites a newer review.
AS_OF = re.compile(r"^<!-- hookwise:as-of=(\S+) -->$", re.MULTILINE)


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


def comment_marker(route: str, subject: str) -> str:
    """The hidden line that identifies the route's one comment on an issue or PR."""
    return MARKER.format(route=route, subject=subject)


def as_of_stamp(moment: str) -> str:
    return f"<!-- hookwise:as-of={moment} -->"


def stamp_of(body: str) -> str | None:
    found = AS_OF.search(body)
    return found.group(1) if found else None


def find_marked(comments: Iterable[Mapping[str, Any]], marker: str) -> Mapping[str, Any] | None:
    """Our comment among the issue's comments: the first whose body carries the marker on a
    line of its own (quoting it in a reply does not count: quoted lines start with `>`)."""
    for comment in comments:
        body = comment.get("body") or ""
        if any(line.strip() == marker for line in str(body).splitlines()):
            return comment
    return None


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
