"""The hidden lines in hookwise's own comments: the marker that finds a route's one comment
again, and the as-of stamp that keeps an older event from overwriting a newer review."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

MARKER = "<!-- hookwise:route={route} subject={subject} -->"
# When the subject was last updated as of the event a comment reflects: an older event's
# retry never overwrites a newer review.
AS_OF = re.compile(r"^<!-- hookwise:as-of=(\S+) -->$", re.MULTILINE)


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
