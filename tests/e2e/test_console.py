"""The console in a real headless Chromium against `hookwise dev`: events show up live and
complete, an event tells its story (timeline, cost, the comment's link), filters narrow the
list, a poisoned event is found in the DLQ, dry-run then redriven and completes, a replay runs
again, a payload's markup stays text, and requests without the token or from a foreign Host
are refused. Each page is usable at 390 and 1280 px, by keyboard, with labelled controls; the
screenshots in docs/screenshots/ are taken here."""

from __future__ import annotations

import json
import os
import re
import socket
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from bench.configs import UNLIMITED, config_with
from hookwise.config import load_config
from hookwise.console.security import cookie_name
from hookwise.local.process import dev_process
from hookwise.samples import sample_bytes
from hookwise.verifiers import verifier_for
from tests.conftest import CONFIG_PATH, ROOT
from tests.e2e.conftest import eventually

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SECRET = "e2e-console-secret"
# Every run takes them (a page that fails to render fails here); `make screenshots` writes
# them over the README's, so a test run leaves the work tree as it was.
SCREENSHOTS = Path(os.environ.get("HOOKWISE_SCREENSHOTS_DIR", ROOT / "build" / "screenshots"))
CONSOLE_LINE = re.compile(r"console: (http://127\.0\.0\.1:(\d+)/events\?token=(\S+))")
WIDTHS = {"wide": 1280, "narrow": 390}
SECONDS = 30_000  # Playwright counts milliseconds


class Stack:
    def __init__(self, port: int, model_port: int, console_url: str) -> None:
        self.api = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
        self.model = httpx.Client(base_url=f"http://127.0.0.1:{model_port}", timeout=30)
        self.console_url = console_url
        match = CONSOLE_LINE.search(f"console: {console_url}")
        assert match is not None
        self.console_port = int(match.group(2))
        self.token = match.group(3)
        self.base = f"http://127.0.0.1:{self.console_port}"
        self.signer = verifier_for(load_config(str(CONFIG_PATH)).sources["github"])

    def send_pr(self, title: str) -> str:
        payload = json.loads(sample_bytes("github", "pull_request.opened"))
        payload["number"] = int(uuid.uuid4().int % 100_000)
        payload["pull_request"]["number"] = payload["number"]
        payload["pull_request"]["title"] = title
        body = json.dumps(payload).encode()
        headers = self.signer.sign(
            body, SECRET, url="", event_type="pull_request.opened",
            delivery_id=str(uuid.uuid4()), timestamp=int(time.time()),
        )  # fmt: skip
        answer = self.api.post("/webhooks/github", content=body, headers=headers)
        assert answer.status_code == 202, answer.text
        return str(answer.json()["event_id"])

    def status(self, event_id: str) -> str:
        return str(self.api.get(f"/events/{event_id}").json()["status"])

    def poison(self, marker: str) -> None:
        faults = {"rules": [{"status": 500, "contains": marker, "times": None}]}
        assert self.model.post("/_control/faults", json=faults).status_code < 300

    def heal(self) -> None:
        assert self.model.delete("/_control/faults").status_code < 300


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    env = {
        "HOOKWISE_SECRET_GITHUB": SECRET,
        # Failures reach the DLQ quickly: two receives, a second apart.
        "HOOKWISE_VISIBILITY_TIMEOUT": "1",
        "HOOKWISE_MAX_RECEIVE_COUNT": "2",
        "HOOKWISE_MAX_BACKOFF": "1",
        "ANTHROPIC_API_KEY": "",
        "HOOKWISE_CONFIG": str(config_with(Path(tempfile.mkdtemp()), UNLIMITED)),
    }
    # The console's port is taken (as the default may be, by another stack): it takes another.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        held = taken.getsockname()[1]
        env["HOOKWISE_CONSOLE_PORT"] = str(held)
        with dev_process(ROOT, env, startup_seconds=60) as dev:

            def banner() -> re.Match[str] | None:
                """the banner names the console's URL"""
                return CONSOLE_LINE.search(dev.log.read_text())

            found = eventually(banner, timeout=30)
            assert int(found.group(2)) != held
            yield Stack(dev.port, dev.model_port, found.group(1))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("no /usr/bin/chromium: `make test` installs it (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, stack: Stack) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": WIDTHS["wide"], "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(SECONDS)
    # The printed URL: its token becomes a cookie, and the address loses it.
    opened.goto(stack.console_url)
    assert "token=" not in opened.url
    yield opened
    context.close()


def row(page: Page, event_id: str) -> Any:
    return page.locator(f'tr[data-event-id="{event_id}"]')


def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_a_pr_event_appears_live_and_completes(page: Page, stack: Stack) -> None:
    page.goto(f"{stack.base}/events")
    page.evaluate("window.notReloaded = true")
    event_id = stack.send_pr("Add a retry to the payout job")
    expect(row(page, event_id)).to_have_attribute("data-status", "completed")
    assert page.evaluate("window.notReloaded") is True  # the row came in without a reload
    expect(row(page, event_id).locator("td").nth(3)).to_have_text("github-pr-review")
    expect(row(page, event_id).locator("td").nth(6)).to_have_text(re.compile(r"^\$\d"))
    shoot(page, "events")


def test_an_event_page_shows_its_timeline_cost_and_comment_link(page: Page, stack: Stack) -> None:
    event_id = stack.send_pr("Tidy the ledger exports")
    eventually(lambda: stack.status(event_id) == "completed")
    page.goto(f"{stack.base}/events")
    row(page, event_id).get_by_role("link").click()
    expect(page).to_have_url(f"{stack.base}/events/{event_id}")
    timeline = page.locator("ol.timeline")
    for step in ("received", "claimed by a worker", "model call", "github.comment: done"):
        expect(timeline).to_contain_text(step)
    expect(timeline).to_contain_text(re.compile(r"\d+ tokens in, \d+ out"))
    expect(page.locator("#event-cost")).to_have_text(re.compile(r"^\$0\.\d{4}$"))
    link = timeline.get_by_role("link")
    expect(link).to_have_attribute("href", re.compile(r"^https://github\.com/.+#issuecomment-\d+$"))
    expect(page.locator(".result")).to_contain_text("risk_level")
    expect(page.locator(".tree")).to_contain_text("Tidy the ledger exports")
    # The stored headers keep no signature.
    headers = page.locator("section", has=page.locator("#headers-h"))
    expect(headers).to_contain_text("x-github-event")
    expect(headers).not_to_contain_text("sha256=")
    shoot(page, "event")


def test_filters_narrow_the_list_by_status_and_route(page: Page, stack: Stack) -> None:
    marker = f"FILTER-{uuid.uuid4().hex[:8]}"
    stack.poison(marker)
    try:
        failing = stack.send_pr(f"{marker} breaks the model")
        healthy = stack.send_pr("An ordinary change")
        eventually(lambda: stack.status(failing) == "failed")
        eventually(lambda: stack.status(healthy) == "completed")
    finally:
        stack.heal()
    page.goto(f"{stack.base}/events")
    page.get_by_label("Status").select_option("failed")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"status=failed"))
    expect(row(page, failing)).to_be_visible()
    expect(row(page, healthy)).to_have_count(0)
    statuses = page.locator("tbody tr[data-status]").evaluate_all(
        "rows => rows.map(r => r.dataset.status)"
    )
    assert set(statuses) == {"failed"}

    page.goto(f"{stack.base}/events")
    page.get_by_label("Route").select_option("github-pr-review")
    page.get_by_label("Status").select_option("completed")
    page.get_by_role("button", name="Apply").click()
    expect(row(page, healthy)).to_be_visible()
    expect(row(page, failing)).to_have_count(0)
    page.get_by_label("Route").select_option("slack-mentions")
    page.get_by_role("button", name="Apply").click()
    expect(row(page, healthy)).to_have_count(0)

    page.goto(f"{stack.base}/events")
    page.get_by_label("Event id, delivery id or subject").fill(healthy)
    page.keyboard.press("Enter")
    expect(page.locator("tbody tr[data-event-id]")).to_have_count(1)
    expect(row(page, healthy)).to_be_visible()


def test_a_poisoned_event_is_found_in_the_dlq_dry_run_then_redriven(
    page: Page, stack: Stack
) -> None:
    marker = f"DLQ-{uuid.uuid4().hex[:8]}"
    stack.poison(marker)
    event_id = stack.send_pr(f"{marker} fails every time")
    eventually(lambda: stack.status(event_id) == "failed")

    def in_dlq() -> bool:
        """the DLQ page lists the event"""
        page.goto(f"{stack.base}/dlq")
        return page.locator(f'input[value="{event_id}"]').count() == 1

    eventually(in_dlq)
    expect(page.locator("table")).to_contain_text("model error")
    page.locator(f'input[value="{event_id}"]').check()
    page.get_by_role("button", name="Dry run for the selected").click()
    answer = page.locator(".answer")
    expect(answer).to_contain_text("Dry run")
    expect(answer).to_contain_text("would_redrive: 1")
    time.sleep(2)  # two visibility timeouts: a wrongly moved message would have run by now
    assert stack.status(event_id) == "failed"
    shoot(page, "dlq")

    stack.heal()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=re.compile(r"Redrive 1 now")).click()
    expect(page.locator(".answer")).to_contain_text("redriven: 1")
    page.goto(f"{stack.base}/events/{event_id}")
    expect(page.locator("#event-status")).to_have_text("completed")  # live, no reload
    expect(page.locator("ol.timeline")).to_contain_text("redriven or replayed 1 time(s)")


def test_an_event_is_replayed_from_its_page(page: Page, stack: Stack) -> None:
    event_id = stack.send_pr("Replay me")
    eventually(lambda: stack.status(event_id) == "completed")
    page.goto(f"{stack.base}/events/{event_id}")
    asked: list[str] = []

    def accept(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    page.get_by_role("button", name="Replay").click()
    expect(page.locator(".outcome")).to_have_text("replay: replayed (completed)")
    assert len(asked) == 1
    assert "completed" in asked[0]
    expect(page.locator("#event-status")).to_have_text("completed")
    expect(page.locator("ol.timeline")).to_contain_text("redriven or replayed 1 time(s)")


def test_a_dismissed_confirmation_does_nothing(page: Page, stack: Stack) -> None:
    event_id = stack.send_pr("Do not replay me")
    eventually(lambda: stack.status(event_id) == "completed")
    page.goto(f"{stack.base}/events/{event_id}")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Replay").click()
    time.sleep(1)
    expect(page.locator(".outcome")).to_have_count(0)
    assert stack.api.get(f"/events/{event_id}").json()["redrive_count"] == 0


def test_markup_in_a_payload_renders_as_text(page: Page, stack: Stack) -> None:
    title = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'
    event_id = stack.send_pr(title)
    eventually(lambda: stack.status(event_id) == "completed")
    page.goto(f"{stack.base}/events/{event_id}")
    expect(page.locator(".tree")).to_contain_text(title)
    assert page.evaluate("window.pwned") is None
    assert page.locator("main script, main img").count() == 0
    page.goto(f"{stack.base}/events")
    expect(row(page, event_id)).to_be_visible()
    assert page.evaluate("window.pwned") is None


def test_requests_without_the_token_or_from_a_foreign_host_are_refused(stack: Stack) -> None:
    assert httpx.get(f"{stack.base}/events").status_code == 403
    assert httpx.get(f"{stack.base}/events?token=wrong").status_code == 403
    entered = httpx.get(f"{stack.base}/events?token={stack.token}")
    assert entered.status_code == 303
    name = cookie_name(stack.console_port)
    cookie = {"cookie": f"{name}={entered.cookies[name]}"}
    assert httpx.get(f"{stack.base}/events", headers=cookie).status_code == 200
    assert httpx.get(f"http://localhost:{stack.console_port}/events", headers=cookie).is_success
    # DNS rebinding: a foreign name resolved to 127.0.0.1 still sends its own Host.
    rebound = {"host": f"attacker.example:{stack.console_port}"}
    assert httpx.get(f"{stack.base}/events", headers={**cookie, **rebound}).status_code == 403
    entry = f"{stack.base}/events?token={stack.token}"
    assert httpx.get(entry, headers=rebound).status_code == 403
    # An action without the page's CSRF token, or from another origin.
    event_id = stack.send_pr("CSRF target")
    eventually(lambda: stack.status(event_id) == "completed")
    replay = f"{stack.base}/events/{event_id}/replay"
    assert httpx.post(replay, headers=cookie, data={"force": "1"}).status_code == 403
    page = httpx.get(f"{stack.base}/events/{event_id}", headers=cookie).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf is not None
    foreign = {**cookie, "origin": "http://attacker.example"}
    form = {"force": "1", "csrf": csrf.group(1)}
    assert httpx.post(replay, data=form, headers=foreign).status_code == 403
    assert stack.api.get(f"/events/{event_id}").json()["redrive_count"] == 0


PAGES = ("events", "dlq", "routes")
CONTROLS = "input:not([type=hidden]), select, textarea, button"


@pytest.mark.parametrize("width", WIDTHS.values(), ids=list(WIDTHS))
def test_every_page_fits_its_width_and_labels_its_controls(
    browser: Browser, stack: Stack, width: int
) -> None:
    event_id = stack.send_pr("A change with a rather long title to wrap on a phone screen")
    eventually(lambda: stack.status(event_id) == "completed")
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    page.goto(stack.console_url)
    try:
        for path in (*PAGES, f"events/{event_id}"):
            page.goto(f"{stack.base}/{path}")
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"/{path} scrolls sideways at {width} px by {overflow} px"
            unlabelled = page.evaluate(
                f"[...document.querySelectorAll('{CONTROLS}')].filter(el => {{"
                "  const label = [...(el.labels || [])].map(l => l.textContent).join('');"
                "  const own = el.tagName === 'BUTTON' ? el.textContent : '';"
                "  return !(el.getAttribute('aria-label') || label || own).trim();"
                "}).map(el => el.outerHTML)"
            )
            assert unlabelled == [], f"/{path}: controls without a name: {unlabelled}"
        if width == WIDTHS["narrow"]:
            page.goto(f"{stack.base}/events")
            shoot(page, "events-narrow")
        else:
            page.goto(f"{stack.base}/routes")
            expect(page.locator("main")).to_contain_text("github-pr-review")
            expect(page.locator("main")).to_contain_text("Requests per minute")
            shoot(page, "routes")
    finally:
        context.close()


def test_the_pages_work_by_keyboard(page: Page, stack: Stack) -> None:
    event_id = stack.send_pr("Reach me by keyboard")
    eventually(lambda: stack.status(event_id) == "completed")
    page.goto(f"{stack.base}/events")
    expect(row(page, event_id)).to_be_visible()
    reached: list[str] = []
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "(() => { const el = document.activeElement;"
            " return (el.id || '') + ' ' + (el.getAttribute('href') || ''); })()"
        )
        reached.append(focused)
        if f"/events/{event_id}" in focused:
            break
    assert any(name.startswith("f-status") for name in reached), reached
    assert f"/events/{event_id}" in reached[-1], reached
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{stack.base}/events/{event_id}")
    # A focused live region is left alone: the keyboard user is not thrown out of it.
    page.goto(f"{stack.base}/events")
    link = row(page, event_id).get_by_role("link")
    link.focus()
    page.wait_for_timeout(2500)
    assert page.evaluate("document.activeElement.getAttribute('href')") == f"/events/{event_id}"


def test_the_routes_page_counts_a_failed_event_under_its_route(page: Page, stack: Stack) -> None:
    marker = f"ROUTES-{uuid.uuid4().hex[:8]}"
    page.goto(f"{stack.base}/routes")
    heading = page.get_by_role("heading", name="github-pr-review")
    section = page.locator("section.route", has=heading)
    before = section.locator("tbody tr").first.inner_text()
    stack.poison(marker)
    try:
        failing = stack.send_pr(f"{marker} fails")
        eventually(lambda: stack.status(failing) == "failed")
    finally:
        stack.heal()
    page.goto(f"{stack.base}/routes")
    today = section.locator("tbody tr").first
    expect(today).to_contain_text(re.compile(r"failed \d+"))
    assert today.inner_text() != before


def test_a_failed_event_in_the_dlq_is_redriven_from_its_own_page(page: Page, stack: Stack) -> None:
    marker = f"ONE-{uuid.uuid4().hex[:8]}"
    stack.poison(marker)
    try:
        event_id = stack.send_pr(f"{marker} fails every time")
        eventually(lambda: stack.status(event_id) == "failed")

        def offered() -> bool:
            """its page offers a redrive once the message is in the DLQ"""
            page.goto(f"{stack.base}/events/{event_id}")
            return page.get_by_role("button", name="Redrive").count() == 1

        eventually(offered)
        expect(page.locator("ol.timeline li.failed").first).to_contain_text("failure")
    finally:
        stack.heal()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Redrive").click()
    expect(page.locator(".outcome")).to_contain_text("redrive: redriven")
    expect(page.locator("#event-status")).to_have_text("completed")
    expect(page.get_by_role("button", name="Redrive")).to_have_count(0)
