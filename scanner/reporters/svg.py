"""Charts for the HTML report, drawn as inline SVG in Python: no charting library, no CDN.

Every function returns SVG markup as a string in which each piece of text has been escaped here
(names and paths come from scanned content). Colours are CSS classes (`sev-high`, `overdue`, …)
that the page's stylesheet defines for its light and dark schemes, so a chart follows the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

SEVERITIES = ("critical", "high", "medium", "low", "info")
WIDTH = 640  # viewBox units, about a panel's width on a laptop; the SVG scales to its container


def esc(text: object) -> str:
    return escape(str(text), quote=True)


# --- bars: findings by provider, stacked by severity -------------------------------------------


@dataclass(frozen=True)
class Bar:
    label: str
    counts: dict[str, int]  # severity -> findings

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def provider_bars(bars: Sequence[Bar], *, title: str = "Findings by provider and severity") -> str:
    """Horizontal bars, one per provider, each split into its severities, with a legend."""
    if not bars:
        return ""
    label_w, count_w, row_h, top = 130, 40, 24, 34
    plot_w = WIDTH - label_w - count_w
    most = max(bar.total for bar in bars) or 1
    height = top + row_h * len(bars) + 6
    present = [s for s in SEVERITIES if any(bar.counts.get(s) for bar in bars)]
    parts = [svg_open(height, title)]
    parts.append(legend([(f"sev-{s}", s) for s in present], x=label_w, y=12))
    for i, bar in enumerate(bars):
        y = top + i * row_h
        parts.append(f'<text class="axis-label" x="{label_w - 10}" y="{y + 13}" text-anchor="end">'
                     f'{esc(shorten(bar.label, 18))}<title>{esc(bar.label)}</title></text>')
        x = float(label_w)
        for severity in SEVERITIES:
            count = bar.counts.get(severity, 0)
            if not count:
                continue
            w = plot_w * count / most
            parts.append(f'<rect class="sev-{severity}" x="{x:.1f}" y="{y}" width="{max(w, 1.5):.1f}" height="18" rx="2">'
                         f'<title>{esc(bar.label)}: {count} {severity}</title></rect>')
            x += w
        parts.append(f'<text class="count-label" x="{x + 6:.1f}" y="{y + 13}">{bar.total}</text>')
    parts.append("</svg>")
    return "".join(parts)


# --- timeline: when each key was introduced ----------------------------------------------------


@dataclass(frozen=True)
class Point:
    when: datetime
    in_head: bool
    overdue: bool
    severity: str
    label: str  # the tooltip: where, which rule, how old
    fingerprint: str


def timeline(points: Sequence[Point], *, now: datetime | None = None,
             title: str = "When each key was first committed") -> str:
    """Keys by the date of the commit that introduced them, in two lanes (still in HEAD, only in
    history); overdue keys get a ring. A dashed line marks the report's date when known."""
    if not points:
        return ""
    left, right, r = 128, 14, 6
    plot_w = WIDTH - left - right
    start = min(p.when for p in points)
    end = max([p.when for p in points] + ([now] if now else []))
    if end - start < timedelta(days=30):
        middle = start + (end - start) / 2
        start, end = middle - timedelta(days=15), middle + timedelta(days=15)
    pad = (end - start) * 0.03
    start, end = start - pad, end + pad
    span = (end - start).total_seconds()

    def x_of(when: datetime) -> float:
        return left + plot_w * (when - start).total_seconds() / span

    lanes = [("Still in HEAD", True), ("History only", False)]
    placed: dict[bool, list[tuple[float, int, Point]]] = {True: [], False: []}
    for lane_head, _ in ((True, 0), (False, 1)):
        level_ends: list[float] = []
        for point in sorted((p for p in points if p.in_head == lane_head), key=lambda p: p.when):
            x = x_of(point.when)
            # Stack keys introduced close together instead of drawing them over each other.
            level = next((n for n, last in enumerate(level_ends) if x - last >= 2 * r + 3), len(level_ends))
            level = min(level, 7)
            if level == len(level_ends):
                level_ends.append(x)
            else:
                level_ends[level] = x
            placed[lane_head].append((x, level, point))
    lane_heights = {head: max(64, 34 + 15 * max([lvl for _, lvl, _ in placed[head]] + [0])) for _, head in lanes}
    top = 30
    axis_y = top + sum(lane_heights.values()) + 8
    height = axis_y + 30
    parts = [svg_open(height, title)]
    parts.append(legend([("sev-high", "key (colour: severity)"), ("ring", "overdue for rotation")], x=left, y=12))
    y0 = top
    for name, head in lanes:
        h = lane_heights[head]
        parts.append(f'<rect class="lane" x="{left}" y="{y0}" width="{plot_w}" height="{h - 4}" rx="3"/>')
        parts.append(f'<text class="axis-label" x="{left - 10}" y="{y0 + h / 2 + 2:.0f}" text-anchor="end">'
                     f'{esc(name)} ({len(placed[head])})</text>')
        levels = 1 + max([lvl for _, lvl, _ in placed[head]] + [0])
        base = y0 + (h - 4) / 2 + (levels - 1) * 15 / 2  # the stack centred in its lane
        for x, level, point in placed[head]:
            cy = f"{base - level * 15:.1f}"
            ring = (f'<circle class="ring" cx="{x:.1f}" cy="{cy}" r="{r + 3}"/>') if point.overdue else ""
            parts.append(f'<g class="dot" data-fingerprint="{esc(point.fingerprint)}">{ring}'
                         f'<circle class="sev-{esc(point.severity)}" cx="{x:.1f}" cy="{cy}" r="{r}"/>'
                         f'<title>{esc(point.label)}</title></g>')
        y0 += h
    parts.append(f'<line class="axis" x1="{left}" y1="{axis_y}" x2="{left + plot_w}" y2="{axis_y}"/>')
    for when, text in ticks(start, end):
        x = x_of(when)
        parts.append(f'<line class="axis" x1="{x:.1f}" y1="{axis_y}" x2="{x:.1f}" y2="{axis_y + 5}"/>'
                     f'<text class="tick-label" x="{x:.1f}" y="{axis_y + 18}" text-anchor="middle">{esc(text)}</text>')
    if now is not None:
        x = x_of(now)
        parts.append(f'<line class="today" x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{axis_y}"/>'
                     f'<text class="tick-label" x="{x - 4:.1f}" y="{top - 8}" text-anchor="end">report date</text>')
    parts.append("</svg>")
    return "".join(parts)


def ticks(start: datetime, end: datetime, *, most: int = 9) -> list[tuple[datetime, str]]:
    """Month-aligned ticks (every 1, 2, 3, 6, 12, 24 or 60 months), or weekly ones for a short span."""
    days = (end - start).days
    if days <= 60:
        first = (start + timedelta(days=(7 - start.weekday()) % 7)).replace(hour=0, minute=0, second=0, microsecond=0)
        return [(first + timedelta(weeks=n), (first + timedelta(weeks=n)).strftime("%d %b"))
                for n in range(most) if first + timedelta(weeks=n) <= end]
    months = next(m for m in (1, 2, 3, 6, 12, 24, 60, 120) if days / 30.4 / m <= most)
    index = start.year * 12 + start.month - 1
    index += (-index) % months  # the first aligned month at or after start
    result: list[tuple[datetime, str]] = []
    while True:
        when = start.replace(year=index // 12, month=index % 12 + 1, day=1, hour=0, minute=0, second=0, microsecond=0)
        if when > end:
            return result
        if when >= start:
            result.append((when, when.strftime("%Y" if months >= 12 else "%b %Y")))
        index += months


# --- shared pieces ----------------------------------------------------------------------------


def svg_open(height: float, title: str) -> str:
    return (f'<svg class="chart" viewBox="0 0 {WIDTH} {height:.0f}" role="img" aria-label="{esc(title)}" '
            f'xmlns="http://www.w3.org/2000/svg"><title>{esc(title)}</title>')


def legend(items: Sequence[tuple[str, str]], *, x: float, y: float) -> str:
    parts = []
    for css, text in items:
        if css == "ring":
            parts.append(f'<circle class="ring" cx="{x + 6}" cy="{y - 4}" r="6"/>')
        else:
            parts.append(f'<rect class="{esc(css)}" x="{x}" y="{y - 10}" width="12" height="12" rx="2"/>')
        parts.append(f'<text class="legend" x="{x + 17}" y="{y}">{esc(text)}</text>')
        x += 30 + 7 * len(text)
    return "".join(parts)


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
