"""The HTML report in a real browser: headless Chromium (Debian's `chromium`, driven by Playwright
through `executable_path`, no browser download) opens the page from disk with JavaScript on.

Skips, saying why, when Playwright or Chromium is missing; `.ci/run` installs Chromium where it can.
Set KEYSWEEP_CHROMIUM to use another Chromium binary. The README's screenshot comes from here:

    KEYSWEEP_REPORT_SCREENSHOT=docs/report.png pytest -q tests/test_report_browser.py
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import run_keysweep
from gitutil import GitRepo
from scanner.rules import load_rules

pytestmark = [pytest.mark.slow, pytest.mark.external]

DAY = 86400
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def chromium() -> str:
    configured = os.environ.get("KEYSWEEP_CHROMIUM")
    if configured:
        return configured
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no Chromium on PATH (install Debian's `chromium` package, or set KEYSWEEP_CHROMIUM)")


def example(rule_id: str) -> str:
    """A built-in rule's own synthetic example: a key shaped like the real thing, never a real one."""
    return next(r for r in load_rules() if r.id == rule_id).examples[0].text


def demo_repository(path: Path, *, now: float) -> GitRepo:
    """Two years of a small service's history: keys committed by several people, some deleted since,
    some overdue for rotation, one under a hostile file name and author."""
    repo = GitRepo(path)

    def commit(days_ago: int, message: str, files: dict[str, str] | None = None, *, author: str = "Ada",
               remove: tuple[str, ...] = ()) -> None:
        repo.clock = int(now - days_ago * DAY) - DAY  # commit() adds the day back
        repo.commit(message, files, author=author, remove=remove)

    commit(790, "Initial commit", {"README.md": "# payments-api\n"})
    commit(700, "Add Stripe client", {"app/billing.py": f"import stripe\n\n{example('stripe.secret-key')}\n"})
    commit(610, "CI: deploy with AWS", {"deploy/aws.ini": example("aws.secret-access-key") + "\n"}, author="Ben")
    commit(540, "Remove hard-coded AWS credentials", remove=("deploy/aws.ini",), author="Ben")
    commit(470, "Slack alerts", {"ops/alerts.env": f"{example('slack.bot-token')}\n{example('slack.webhook-url')}\n"},
           author="Chloé")
    commit(380, "Release bot", {"scripts/release.sh": f"#!/bin/sh\n{example('github.personal-access-token')}\n"},
           author="Dev")
    commit(300, "Release bot: token from the environment",
           {"scripts/release.sh": "#!/bin/sh\nGITHUB_TOKEN=${GITHUB_TOKEN:?}\n"}, author="Dev")
    commit(210, "Summarise tickets", {"svc/summary.py": example("openai.project-key") + "\n"}, author="Eve")
    commit(150, "Datadog agent", {"ops/datadog.env": example("datadog.api-key") + "\n"}, author="Ben")
    commit(90, "Transactional email", {"svc/mail.env": example("sendgrid.api-key") + "\n"}, author="Chloé")
    commit(40, "LLM fallback", {"svc/llm.env": example("anthropic.api-key") + "\n"}, author="Eve")
    commit(25, "Fixture <script>alert(1)</script>",
           {"<script>alert(1)</script>.env": example("twilio.auth-token") + "\n"}, author="Mallory")
    commit(12, "Stripe webhooks", {"app/webhooks.py": example("stripe.webhook-secret") + "\n"})
    commit(5, "Local dev settings", {"app/settings_dev.py": example("stripe.test-secret-key") + "\n"}, author="Fay")
    return repo


@pytest.fixture(scope="module")
def browser() -> Any:
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install -e '.[test]')")
    executable = chromium()
    with sync_api.sync_playwright() as playwright:
        try:
            instance = playwright.chromium.launch(executable_path=executable, headless=True)
        except sync_api.Error as exc:  # e.g. a Chromium too old for this Playwright
            pytest.skip(f"Chromium at {executable} would not start under Playwright: {str(exc).splitlines()[0]}")
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def audit(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One real `keysweep git` run writing the page and, for the expected values, JSON."""
    root = tmp_path_factory.mktemp("browser")
    repo = demo_repository(root / "payments-api", now=time.time())
    result = run_keysweep("git", "-o", str(root / "audit.html"), "-o", str(root / "report.json"), cwd=repo.path)
    assert result.returncode == 1, result.stderr
    findings = json.loads((root / "report.json").read_text())["findings"]
    assert len(findings) == 12
    return {"page": root / "audit.html", "findings": findings, "root": root}


def open_page(browser: Any, path: Path, *, javascript: bool = True, scheme: str = "light") -> tuple[Any, list[str]]:
    context = browser.new_context(java_script_enabled=javascript, viewport={"width": 1400, "height": 1000},
                                  color_scheme=scheme)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(f"console {message.type}: {message.text}")
            if message.type in ("error", "warning") else None)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))  # alert() ran
    page.on("request", lambda request: problems.append(f"request: {request.url}")
            if not request.url.startswith(("file:", "data:")) else None)
    page.goto(path.as_uri())
    return page, problems


def visible(page: Any, attribute: str = "data-fingerprint") -> list[str]:
    return page.eval_on_selector_all(
        "tr.main", f"rows => rows.filter(r => r.offsetParent !== null).map(r => r.getAttribute('{attribute}'))")


def test_rows_sort_filter_and_expand(browser: Any, audit: dict[str, Any]) -> None:
    findings = audit["findings"]
    page, problems = open_page(browser, audit["page"])

    # One row per finding, each with its fingerprint, all shown, details collapsed by the script.
    assert page.locator("[data-fingerprint]").count() >= len(findings)  # rows, plus the timeline's dots
    assert sorted(visible(page)) == sorted(f["fingerprint"] for f in findings)
    assert page.locator("tr.detail:visible").count() == 0
    assert page.inner_text("#shown") == "12 of 12"

    # Filter: severity, then provider on top of it, then status, then a path fragment.
    page.select_option("#f-severity", "critical")
    assert sorted(visible(page)) == sorted(f["fingerprint"] for f in findings if f["severity"] == "critical")
    assert page.inner_text("#shown") == f"{len(visible(page))} of 12"
    page.select_option("#f-provider", "stripe")
    assert sorted(visible(page)) == sorted(
        f["fingerprint"] for f in findings if f["severity"] == "critical" and f["provider"] == "stripe")
    page.select_option("#f-severity", "")
    page.select_option("#f-provider", "")
    page.select_option("#f-status", "history-only")
    assert sorted(visible(page)) == sorted(f["fingerprint"] for f in findings if not f["in_head"])
    page.select_option("#f-status", "overdue")
    assert sorted(visible(page)) == sorted(f["fingerprint"] for f in findings if f["overdue"])
    page.select_option("#f-status", "")
    page.fill("#f-path", "SVC/")
    assert sorted(visible(page, "data-path")) == ["svc/llm.env", "svc/mail.env", "svc/summary.py"]
    page.fill("#f-path", "no such path")
    assert visible(page) == [] and page.locator("#no-match").is_visible()
    page.fill("#f-path", "")
    assert len(visible(page)) == 12

    # Sort: by age, ascending then descending; by location.
    page.click("th[data-sort=age] button")
    ages = [int(a) for a in visible(page, "data-sort-age")]
    assert ages == sorted(ages) and ages[0] < ages[-1]
    assert page.get_attribute("th[data-sort=age]", "aria-sort") == "ascending"
    page.click("th[data-sort=age] button")
    assert [int(a) for a in visible(page, "data-sort-age")] == sorted(ages, reverse=True)
    page.click("th[data-sort=path] button")
    paths = visible(page, "data-path")
    assert paths == sorted(paths, key=str.lower) and paths != sorted(paths, key=str.lower, reverse=True)

    # Expand a row: its snippet, locations and the ignore line appear; the hostile name is text.
    hostile = next(f for f in findings if f["path"].startswith("<script>"))
    row = page.locator(f'tr.main[data-fingerprint="{hostile["fingerprint"]}"]')
    row.click()
    detail = row.locator("xpath=following-sibling::tr[1]")
    assert detail.is_visible()
    assert hostile["fingerprint"] in detail.inner_text()
    assert "<script>alert(1)</script>.env:1" in detail.inner_text()
    assert page.locator("script").count() == 1
    row.click()
    assert not detail.is_visible()

    assert problems == []
    page.context.close()


def test_page_reads_the_same_without_javascript(browser: Any, audit: dict[str, Any]) -> None:
    page, problems = open_page(browser, audit["page"], javascript=False)
    assert len(visible(page)) == 12
    assert page.locator("tr.detail:visible").count() == 12  # every detail shown
    assert not page.locator("#filters").is_visible()  # the controls need the script
    assert page.locator("svg.chart").count() == 2
    assert problems == []
    page.context.close()


def test_screenshot_is_a_real_picture(browser: Any, audit: dict[str, Any]) -> None:
    for scheme in ("light", "dark"):
        page, problems = open_page(browser, audit["page"], scheme=scheme)
        shot = audit["root"] / f"report-{scheme}.png"
        page.screenshot(path=str(shot))
        assert problems == []
        # Measured by the browser itself: decode the PNG in a canvas and count its colours.
        blank = page.context.new_page()
        stats = blank.evaluate("""async (data) => {
            const image = new Image();
            image.src = "data:image/png;base64," + data;
            await image.decode();
            const canvas = document.createElement("canvas");
            canvas.width = image.width; canvas.height = image.height;
            const context = canvas.getContext("2d");
            context.drawImage(image, 0, 0);
            const pixels = context.getImageData(0, 0, image.width, image.height).data;
            const colours = new Set();
            for (let i = 0; i < pixels.length; i += 4 * 97) {
                colours.add((pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2]);
            }
            return {width: image.width, height: image.height, colours: colours.size};
        }""", __import__("base64").b64encode(shot.read_bytes()).decode())
        assert (stats["width"], stats["height"]) == (1400, 1000)
        assert stats["colours"] > 50, stats  # text, charts and badges, not a blank or single-colour page
        assert shot.stat().st_size > 40_000
        target = os.environ.get("KEYSWEEP_REPORT_SCREENSHOT")
        if target and scheme == "light":
            shutil.copyfile(shot, target)
        page.context.close()
