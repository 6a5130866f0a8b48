"""The hidden lines in hookwise's own comments: the marker that finds a route's one comment
again, and the as-of stamp that keeps an older event from overwriting a newer review."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

MARKER = "<!-- hookwise:route={route} subject={subject} -->"
# Any route's marker, for telling our answers from the discussion.
ANY_MARKER = re.compile(r"<!-- hookwise:route=\S+ subject=\S+ -->")
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


def _lines(comment: Mapping[str, Any]) -> Iterator[str]:
    """A comment's lines, where a marker stands on a line of its own (quoting one in a reply
    does not count: quoted lines start with `>`)."""
    body = comment.get("body") or ""
    return (line.strip() for line in str(body).splitlines())


def find_marked(
    comments: Iterable[Mapping[str, Any]], marker: str, ours: Callable[[Mapping[str, Any]], bool]
) -> Mapping[str, Any] | None:
    """Our comment among the issue's comments: the first that we wrote (`ours`) whose body
    carries the marker. Anyone can post a marker and a stamp: in their comment both are text."""
    for comment in comments:
        if ours(comment) and marker in _lines(comment):
            return comment
    return None


def is_our_answer(comment: Mapping[str, Any], ours: Callable[[Mapping[str, Any]], bool]) -> bool:
    """Whether a comment is one of hookwise's own (any route's): we wrote it and it carries a
    marker."""
    return ours(comment) and any(ANY_MARKER.fullmatch(line) for line in _lines(comment))
