"""The changed files of a pull request, or of the commits between two of its heads, as GitHub
lists them."""

from __future__ import annotations

from dataclasses import dataclass

# GitHub lists at most this many files of a comparison: one listing that many may lack some.
MAX_COMPARE_FILES = 300


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


@dataclass(frozen=True)
class Comparison:
    """`GET /repos/{owner}/{repo}/compare/{base}...{head}`: how `head` stands to `base`
    ("ahead", "behind", "diverged" or "identical") and the files changed between them."""

    status: str
    files: list[ChangedFile]
