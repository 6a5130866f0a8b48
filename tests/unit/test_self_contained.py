"""The suite and the benchmark run from a bare clone: nothing reads files beside the repository
(CI has nothing beside its clone); payloads come from the package's own samples."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hookwise.samples import sample_bytes, samples
from tests.conftest import ROOT

OUTSIDE_THE_REPOSITORY = re.compile(
    r"""shared[/\\]fixtures|\.\./shared|\bROOT\.parent\b|parent\s*/\s*["']shared["']"""
)


def code_files() -> list[Path]:
    found = [path for folder in ("tests", "bench") for path in (ROOT / folder).rglob("*.py")]
    return [path for path in found if path != Path(__file__).resolve()]


def test_no_test_or_bench_file_reads_outside_the_repository() -> None:
    files = code_files()
    assert len(files) > 20  # the scan really covers the suite and the benchmark
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in files
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if OUTSIDE_THE_REPOSITORY.search(line)
    ]
    assert offenders == []


# Written in pieces, so that this file itself names nothing outside the repository.
BESIDE = "shared"


@pytest.mark.parametrize(
    "line",
    [
        'FIXTURES = ROOT.parent / "' + BESIDE + '" / "fixtures"',
        "body = open('../" + BESIDE + "/fixtures/github/push.json').read()",
        "published = ROOT.parent / 'elsewhere'",
    ],
)
def test_the_scan_catches_references_outside(line: str) -> None:
    assert OUTSIDE_THE_REPOSITORY.search(line)


def test_samples_the_suite_and_benchmark_use_are_shipped() -> None:
    github = samples("github")
    for event in (
        "pull_request.opened",
        "pull_request.synchronize",
        "issues.opened",
        "issue_comment.created",
        "ping",
        "push",
    ):
        assert event in github
        assert sample_bytes("github", event).startswith(b"{")
