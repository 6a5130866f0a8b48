"""One changed file of a pull request, as GitHub lists it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChangedFile:
    """One entry of `GET /repos/{owner}/{repo}/pulls/{number}/files`."""

    filename: str
    status: str = "modified"
    additions: int = 0
    deletions: int = 0
    # None for binaries, and for diffs too large for GitHub to show.
    patch: str | None = None

    @property
    def changes(self) -> int:
        return self.additions + self.deletions
