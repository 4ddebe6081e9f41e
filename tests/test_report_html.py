"""The HTML report's pieces: summary numbers, escaping of hostile content, redaction, the CSP, no
network loads, the table's rows and details, the charts. The page in a real browser: test_report_browser.py."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest

from scanner.filters.baseline import load_ignores
from scanner.report import Report
from scanner.reporters import render
from scanner.reporters.html import asset, summarize
from scanner.rules import Rule
from test_reporters import TOKEN_A, TOKEN_B, demo_report

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
TOKEN_C = "kst_Zr8Lm2Qp5Xw9Ty3Vb6Nc1Hd4"
HOSTILE_PATH = "<script>alert(1)</script>.env"
HOSTILE_AUTHOR = "<img src=x onerror=alert(2)>"
HOSTILE_MESSAGE = "</script><script>alert(3)</script> & \"quoted\" 'too'"


def history_report() -> Report:
    """Three keys from a history scan: one deleted and overdue, one live in HEAD under a hostile
    name, one overdue in HEAD from a rule the report does not carry."""
    demo = demo_report()
    a, b = demo.findings
    removed = a.replace(path="app/billing.py", line=3, commit="a" * 40, source="git", extra={
        "author": "Ada", "email": "ada@example.test", "date": "2025-01-02T10:00:00+00:00", "message": "add billing",
        "in_head": False, "first_seen": "2025-01-02T10:00:00+00:00", "age_days": 423, "overdue": True,
        "locations": [{"commit": "a" * 40, "path": "app/billing.py", "line": 3},
                      {"commit": "d" * 40, "path": "old/billing_v1.py", "line": 7}],
    })
    hostile = b.replace(path=HOSTILE_PATH, line=1, commit="b" * 40, source="git", extra={
        "author": HOSTILE_AUTHOR, "email": "eve@example.test", "date": "2026-02-20T09:00:00+00:00",
        "message": HOSTILE_MESSAGE, "in_head": True, "first_seen": "2026-02-20T09:00:00+00:00", "age_days": 9,
        "overdue": False, "locations": [{"commit": "b" * 40, "path": HOSTILE_PATH, "line": 1}],
        "verification": {"status": "live", "http_status": 200},
    })
    other = a.replace(rule_id="acme.key", rule_name="Acme key", provider="acme", severity="critical",
                      secret=TOKEN_C, path="config/prod.env", line=4, commit="c" * 40, source="git",
                      context_before="ACME_KEY=", context_after="", extra={
                          "author": "Ben", "email": "ben@example.test", "date": "2025-08-13T08:00:00+00:00",
                          "message": "prod config", "in_head": True, "first_seen": "2025-08-13T08:00:00+00:00",
                          "age_days": 200, "overdue": True,
                          "locations": [{"commit": "c" * 40, "path": "config/prod.env", "line": 4}],
                      })
    return Report(findings=[removed, hostile, other], suppressed=demo.suppressed, stats=demo.stats,
                  rules=demo.rules, duration_s=2.0)


class Page(HTMLParser):
    """Every element's tag and attributes, the text of <script> and <style>, in document order."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.raw: dict[str, list[str]] = {"script": [], "style": []}
        self._in: str | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))
        if tag in self.raw:
            self._in = tag
            self.raw[tag].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in:
            self.raw[self._in][-1] += data

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [a for t, a in self.elements if t == tag and all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())]


def page(report: Report | None = None, *, redact: bool = True) -> str:
    return render(report or history_report(), "html", redact=redact, finished_at=NOW, target="/srv/payments")


def counts(text: str) -> dict[str, str]:
    """The summary's numbers, by their data-count names."""
    found = {}
    for match in re.finditer(r'data-count="([^"]+)"(?: data-value="([^"]+)")?>([^<]*)<', text):
        found[match.group(1)] = match.group(2) or match.group(3)
    return found


# --- summary ------------------------------------------------------------------------------------


def test_summary_numbers() -> None:
    report = history_report()
    text = page(report)
    assert counts(text) == {
        "total": "3", "severity-critical": "1", "severity-high": "2", "in-head": "2", "history-only": "1",
        "overdue": "2", "live": "1", "verification-live": "1", "providers": "2",
    }
    assert "oldest first committed 423 days ago" in text
    assert "3 exposed keys, 2 still in HEAD" in text
    assert "1 candidate suppressed" in text


def test_summarize_on_records() -> None:
    records = [
        {"severity": "low", "provider": "p", "in_head": True, "age_days": 5},
        {"severity": "critical", "provider": "q", "in_head": False, "overdue": True, "age_days": 400,
         "verification": {"status": "invalid"}},
        {"severity": "critical", "provider": "q"},
    ]
    summary = summarize(records, suppressed=4, extra_stats={"verification": {"invalid": 1, "not-checkable": 2}})
    assert summary.by_severity == {"critical": 2, "low": 1}
    assert list(summary.by_severity) == ["critical", "low"]  # most severe first
    assert summary.by_provider == {"q": 2, "p": 1}
    assert (summary.total, summary.in_head, summary.history_only, summary.overdue, summary.oldest_days) == (3, 1, 1, 1, 400)
    assert summary.verification == {"invalid": 1, "not-checkable": 2} and summary.live == 0
    assert summary.revocation == {} and summary.suppressed == 4


def test_a_file_scan_has_no_history_cards_and_no_git_columns() -> None:
    text = page(demo_report())
    assert 'data-count="in-head"' not in text and 'data-count="overdue"' not in text
    assert 'data-sort="commit"' not in text and 'data-sort="age"' not in text
    assert "When each key was first committed" not in text  # no timeline without history
    assert "By provider and severity" in text


def test_revocation_is_pointed_at_when_the_report_has_no_outcome() -> None:
    assert "earlier requests: <code>keysweep revoke status</code>" in page()


def test_revocation_outcomes_are_counted_when_the_report_carries_them() -> None:
    report = history_report()
    first = report.findings[0]
    carried = Report(findings=[first.replace(extra={**first.extra, "revocation": {"state": "delivered"}}),
                               *report.findings[1:]], suppressed=[], stats=report.stats, rules=report.rules)
    text = page(carried)
    assert counts(text)["revocation-delivered"] == "1"
    assert "keysweep revoke status" not in text


# --- escaping, redaction, self-containment ------------------------------------------------------


def test_hostile_names_render_as_text() -> None:
    text = page()
    parsed = Page(text)
    assert len(parsed.raw["script"]) == 1 and parsed.raw["script"][0] == asset("report.js")
    assert HOSTILE_PATH not in text and "<img src=x" not in text and "alert(3)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.env" in text
    assert "&lt;img src=x onerror=alert(2)&gt;" in text
    assert "&lt;/script&gt;&lt;script&gt;alert(3)&lt;/script&gt; &amp; &#34;quoted&#34; &#39;too&#39;" in text
    assert not [a for _, attrs in parsed.elements for a in attrs if a.startswith("on")]  # no event handler attributes
    assert [t for t, _ in parsed.elements if t == "img"] == []
    # ...and the attribute the script filters on holds the name, not markup.
    [row] = parsed.find("tr", data_path=HOSTILE_PATH)
    assert row["data-fingerprint"] == history_report().findings[1].fingerprint


@pytest.mark.parametrize("report", [history_report, demo_report], ids=["history", "files"])
def test_no_raw_secret_anywhere_when_redacted(report) -> None:
    text = page(report())
    for secret in (TOKEN_A, TOKEN_B, TOKEN_C):
        assert secret not in text
        assert secret[:10] not in text  # not even a longer prefix than redaction keeps
    assert "kst_Qm…" in text
    assert 'id="unredacted"' not in text


def test_no_redact_shows_secrets_under_a_banner() -> None:
    text = page(redact=False)
    assert TOKEN_A in text and TOKEN_C in text
    parsed = Page(text)
    body_start = next(i for i, (t, _) in enumerate(parsed.elements) if t == "body")
    assert parsed.elements[body_start + 1] == ("div", {"class": "banner", "role": "alert", "id": "unredacted"})
    assert "--no-redact" in text


def test_csp_forbids_every_load_and_allows_only_this_page_s_own_style_and_script() -> None:
    parsed = Page(page())
    metas = parsed.find("meta", http_equiv="Content-Security-Policy")
    assert len(metas) == 1
    tags = [t for t, _ in parsed.elements]
    assert tags.index("meta") < tags.index("style")  # in force before anything it governs
    policy = dict((part.split(" ", 1) + [""])[:2] for part in metas[0]["content"].split("; "))
    assert policy["default-src"] == "'none'" and policy["img-src"] == "data:"
    assert policy["base-uri"] == "'none'" and policy["form-action"] == "'none'"

    def sha(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"

    assert policy["script-src"] == sha(parsed.raw["script"][0])
    assert policy["style-src"] == sha(parsed.raw["style"][0])
    assert "unsafe-inline" not in metas[0]["content"] and "unsafe-eval" not in metas[0]["content"]


def test_nothing_is_loaded_from_a_url() -> None:
    text = page()
    parsed = Page(text)
    loads = [(tag, attrs) for tag, attrs in parsed.elements
             if tag in ("script", "link", "img", "image", "source", "iframe", "embed", "object", "use", "video",
                        "audio", "track", "input", "frame")
             and any(k in attrs for k in ("src", "href", "xlink:href", "data", "srcset"))]
    assert loads == [("link", {"rel": "icon", "href": "data:,"})]  # the empty favicon, so none is requested
    css = parsed.raw["style"][0]
    assert "url(" not in css and "@import" not in css and "@font-face" not in css
    assert "fetch(" not in parsed.raw["script"][0] and "XMLHttpRequest" not in parsed.raw["script"][0]
    # The only URLs on the page are links a reader may follow: the rules' rotation docs.
    hrefs = [attrs["href"] for tag, attrs in parsed.elements if tag == "a"]
    assert hrefs and set(hrefs) == {"https://example.test/docs/tokens"}


def test_dark_and_light_schemes_and_a_print_stylesheet() -> None:
    css = Page(page()).raw["style"][0]
    assert "@media (prefers-color-scheme: dark)" in css and "@media print" in css
    assert '<meta name="color-scheme" content="light dark">' in page()


# --- the table ----------------------------------------------------------------------------------


def test_one_row_per_finding_with_its_fingerprint_and_filter_attributes() -> None:
    report = history_report()
    parsed = Page(page(report))
    rows = [attrs for tag, attrs in parsed.elements if tag == "tr" and "data-fingerprint" in attrs]
    assert sorted(r["data-fingerprint"] for r in rows) == sorted(f.fingerprint for f in report.findings)
    by_path = {r["data-path"]: r for r in rows}
    assert [r["data-severity"] for r in rows] == ["critical", "high", "high"]  # most severe first
    assert by_path["app/billing.py"]["data-status"] == "history-only overdue"
    assert by_path[HOSTILE_PATH]["data-status"] == "in-head live"
    assert by_path["config/prod.env"]["data-provider"] == "acme"
    assert by_path["app/billing.py"]["data-sort-age"] == "423"


def test_details_are_in_the_page_without_javascript() -> None:
    """Rows start expanded in the HTML (the script collapses them), so a reader with JavaScript off
    sees every snippet, location and fix; the controls that need the script are hidden without it."""
    parsed = Page(page())
    details = parsed.find("tr", **{"class": "detail"})
    assert len(details) == 3 and not [d for d in details if "hidden" in d]
    assert parsed.find("form", **{"class": "controls js-only"})
    assert ".js-only { display: none !important; }" in parsed.raw["style"][0]


def test_detail_lists_every_location_the_snippet_and_the_commit() -> None:
    text = page()
    assert "<code>app/billing.py:3</code> <span class=\"muted\">in</span> <code title=\"" + "a" * 40 in text
    assert "<code>old/billing_v1.py:7</code>" in text
    assert '<span class="more-loc" title="added in more places">+1</span>' in text
    assert "<pre class=\"snippet\"><code>ACME_KEY=kst_Zr…</code></pre>" in text
    assert "Introduced by Ada &lt;ada@example.test&gt; on 2025-01-02, 423 days ago: overdue for rotation." in text


def test_accept_line_is_one_that_the_ignore_file_reads(tmp_path: Path) -> None:
    report = history_report()
    parsed = Page(page(report))
    lines = [a["data-copy"] for a in parsed.find("button", **{"class": "copy js-only"})]
    assert len(lines) == 3
    ignore = tmp_path / ".keysweepignore"
    ignore.write_text("\n".join(lines) + "\n", encoding="utf-8")
    accepted = {(i.rule_id, i.secret_sha256, i.path) for i in load_ignores(ignore)}
    assert accepted == {(f.rule_id, f.secret_sha256, None) for f in report.findings}


def test_rotation_docs_link_comes_from_the_rule_and_only_if_it_is_a_web_link() -> None:
    report = history_report()
    assert '<a href="https://example.test/docs/tokens" rel="noopener noreferrer">' in page(report)
    hostile_rule = Rule(id="acme.key", name="Acme key", description="d", pattern="(x)", keywords=("x",),
                        severity="critical", confidence="high", provider="acme", origin="t",
                        references=("javascript:alert(4)", "https://acme.example/rotate"))
    text = page(Report(findings=report.findings, suppressed=[], stats=report.stats,
                       rules=(*report.rules, hostile_rule)))
    assert "javascript:" not in text
    assert '<a href="https://acme.example/rotate"' in text


def test_suppressed_candidates_are_listed_with_the_reason() -> None:
    text = page()
    assert "Suppressed (1)" in text and "inline &#39;keysweep:allow&#39; comment" in text


# --- charts -------------------------------------------------------------------------------------


def test_timeline_marks_each_history_key_in_its_lane_and_rings_the_overdue() -> None:
    report = history_report()
    parsed = Page(page(report))
    dots = [attrs for tag, attrs in parsed.elements if tag == "g" and attrs.get("class") == "dot"]
    assert sorted(d["data-fingerprint"] for d in dots) == sorted(f.fingerprint for f in report.findings)
    assert len(parsed.find("circle", **{"class": "ring"})) == 2 + 1  # two overdue keys, one in the legend
    text = page(report)
    assert "Still in HEAD (2)" in text and "History only (1)" in text
    assert "report date" in text


def test_bar_chart_has_a_bar_segment_per_provider_and_severity() -> None:
    parsed = Page(page())
    segments = [a for t, a in parsed.elements if t == "rect" and a.get("class", "").startswith("sev-")
                and "height" in a and a["height"] == "18"]
    assert sorted(s["class"] for s in segments) == ["sev-critical", "sev-high"]  # acme: critical; demo: high
