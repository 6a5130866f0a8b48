"""Prompt economy: project the payload to what the route needs, cap it, delimit it."""

from __future__ import annotations

import json

import pytest

from hookwise.config import load_config
from hookwise.samples import sample_bytes
from hookwise.worker.prompt import build_prompt, project, subject_of, whole_payload_bytes
from hookwise.worker.routing import route_for
from hookwise.worker.schemas import OutputSchemas
from tests.conftest import CONFIG_PATH

CONFIG = load_config(str(CONFIG_PATH))
SCHEMAS = OutputSchemas(CONFIG)


def fixture(name: str) -> dict:
    return json.loads(sample_bytes("github", name))


def prompt_for(name: str, max_bytes: int | None = None, history=None):
    payload = fixture(name)
    route = route_for(CONFIG, "github", name, payload) or CONFIG.route_named("standard-summary")
    assert route is not None
    return payload, build_prompt(
        route,
        "github",
        name,
        payload,
        tool=SCHEMAS.tool(route.output),
        max_prompt_bytes=max_bytes or CONFIG.defaults.max_prompt_bytes,
        history=history,
    )


def test_pull_request_prompt_is_a_tenth_of_the_payload_and_keeps_what_matters() -> None:
    payload, prompt = prompt_for("pull_request.opened")
    assert prompt.size_bytes * 10 <= whole_payload_bytes(payload)
    pr = payload["pull_request"]
    for needed in (
        pr["title"],
        json.dumps(pr["body"], ensure_ascii=False)[:40],  # as the prompt encodes it
        pr["user"]["login"],
        payload["repository"]["full_name"],
        pr["base"]["ref"],
        pr["head"]["ref"],
        f'"additions":{pr["additions"]}',
        f'"deletions":{pr["deletions"]}',
        f'"changed_files":{pr["changed_files"]}',
        f'"commits":{pr["commits"]}',
    ):
        assert needed in prompt.user, needed


def test_payload_is_delimited_in_the_user_turn_and_never_in_the_system_prompt() -> None:
    payload, prompt = prompt_for("pull_request.opened")
    assert payload["pull_request"]["title"] not in prompt.system
    assert "<payload>\n" in prompt.user
    assert "untrusted" in prompt.user


def test_default_projection_drops_links_ids_and_empties_and_caps_strings() -> None:
    projected = project(
        {
            "html_url": "https://x",
            "node_id": "MDQ",
            "avatar_url": "https://a",
            "id": 5,
            "title": "kept",
            "empty": "",
            "none": None,
            "list": [],
            "nested": {"url": "u"},
            "long": "x" * 5000,
            "_links": {"self": {"href": "h"}},
        },
        fields=[],
    )
    assert set(projected) == {"title", "long"}
    assert len(projected["long"]) < 2100


def test_hard_cap_holds_for_any_payload() -> None:
    _, prompt = prompt_for("issue_comment.created", max_bytes=1500)
    assert prompt.size_bytes <= 1500


def test_earlier_results_are_included_and_forgotten_first_under_the_cap() -> None:
    history = [{"summary": f"earlier review {n}", "risk_level": "low"} for n in range(3)]
    _, roomy = prompt_for("pull_request.opened", history=history)
    assert "earlier review 2" in roomy.user
    _, tight = prompt_for("pull_request.opened", max_bytes=roomy.size_bytes - 40, history=history)
    assert "earlier review 0" not in tight.user
    assert "earlier review 2" in tight.user


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{repository.full_name}#{number}", "harbor-labs/ledger-api#418"),
        ("{repository.missing}", None),
        # A null or empty part names no one (a guest): no subject, not "None".
        ("{repository.full_name}#{repository.mirror_url}", None),
    ],
)
def test_subject_comes_from_the_route_template(template: str, expected: str | None) -> None:
    route = CONFIG.route_named("github-pr-review")
    assert route is not None
    payload = fixture("pull_request.opened")
    assert subject_of(route.model_copy(update={"subject": template}), payload) == expected


@pytest.mark.parametrize("customer", [None, ""])
def test_a_null_or_empty_subject_part_names_no_subject(customer: str | None) -> None:
    route = CONFIG.route_named("stripe-payments")
    assert route is not None
    assert subject_of(route, {"data": {"object": {"customer": customer}}}) is None
    assert subject_of(route, {"data": {"object": {"customer": "cus_1"}}}) == "cus_1"


def test_deeply_nested_lists_are_cut_at_the_depth_cap_not_a_recursion_error() -> None:
    from hookwise.worker.prompt import DEPTH_CAP, project

    nested: list[object] = ["bottom"]
    for _ in range(900):
        nested = [nested]
    # Past the cap nothing is left of the nesting, and the rest of the payload is kept.
    assert DEPTH_CAP < 900
    assert project({"title": "Fix the build", "data": nested}, []) == {"title": "Fix the build"}
