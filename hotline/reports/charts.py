"""Charts as SVG text, drawn on the server: bars for counts, a line for rates.

Pure: a series in, an SVG document out. Labels are escaped; the font list names the CJK font
the machine has (WenQuanYi Micro Hei on Debian) so Chinese labels render, not boxes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

FONTS = "'WenQuanYi Micro Hei','Noto Sans CJK SC','Noto Sans SC',sans-serif"
WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 28, 40  # margins: axis labels live there
TICKS = 4


@dataclass(frozen=True, slots=True)
class Point:
    label: str  # the x axis label
    value: float | None  # None: no figure (drawn as a gap)


def _plot_box() -> tuple[float, float, float, float]:
    return LEFT, TOP, WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM


def _nice_max(top: float) -> float:
    """A round axis maximum at or above `top` (1, 2, 2.5 or 5 times a power of ten)."""
    if top <= 0:
        return 1.0
    scale = 10 ** len(str(int(top))) / 10 if top >= 1 else 1.0
    for step in (1, 2, 2.5, 5, 10):
        if top <= step * scale:
            return step * scale
    return 10 * scale  # pragma: no cover - the loop always ends at 10 * scale


def _text(x: float, y: float, body: str, anchor: str = "middle", size: int = 11) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}">'
        f"{escape(body)}</text>"
    )


def _frame(title: str, y_max: float, percent: bool, body: list[str]) -> str:
    x0, y0, w, h = _plot_box()
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label={quoteattr(title)} '
        f'font-family="{FONTS}">',
        f"<title>{escape(title)}</title>",
        _text(x0, 16, title, anchor="start", size=13),
    ]
    for n in range(TICKS + 1):
        value = y_max * n / TICKS
        y = y0 + h - h * n / TICKS
        parts.append(
            f'<line x1="{x0}" y1="{y:.1f}" x2="{x0 + w}" y2="{y:.1f}" '
            'stroke="#ddd" stroke-width="1"/>'
        )
        label = f"{value * 100:.0f}%" if percent else f"{value:g}"
        parts.append(_text(x0 - 6, y + 4, label, anchor="end", size=10))
    parts.extend(body)
    parts.append(f'<line x1="{x0}" y1="{y0 + h}" x2="{x0 + w}" y2="{y0 + h}" stroke="#333"/>')
    parts.append("</svg>")
    return "\n".join(parts)


def _x_labels(points: Sequence[Point], slot: float) -> list[str]:
    x0, y0, _, h = _plot_box()
    every = max(1, len(points) // 12)  # at most a dozen labels, so they never overlap
    return [
        _text(x0 + slot * (i + 0.5), y0 + h + 16, p.label, size=10)
        for i, p in enumerate(points)
        if i % every == 0
    ]


def bar_chart(title: str, points: Sequence[Point]) -> str:
    """Bars proportional to the values, on an axis from 0 to a round maximum."""
    x0, y0, w, h = _plot_box()
    values = [p.value or 0.0 for p in points]
    if any(v < 0 for v in values):
        raise ValueError("a bar chart shows counts, not negative values")
    y_max = _nice_max(max(values, default=0.0))
    slot = w / max(1, len(points))
    body = []
    for i, (point, value) in enumerate(zip(points, values, strict=True)):
        bar = h * value / y_max
        body.append(
            f'<rect class="chart-bar" x="{x0 + slot * i + slot * 0.15:.1f}" y="{y0 + h - bar:.1f}" '
            f'width="{slot * 0.7:.1f}" height="{bar:.1f}" fill="#2f6fb0">'
            f"<title>{escape(point.label)}: {value:g}</title></rect>"
        )
    return _frame(title, y_max, False, body + _x_labels(points, slot))


def line_chart(title: str, points: Sequence[Point]) -> str:
    """A rate (0-1) as a line; a point with no figure breaks the line."""
    x0, y0, w, h = _plot_box()
    for p in points:
        if p.value is not None and not 0 <= p.value <= 1:
            raise ValueError("a line chart shows rates between 0 and 1")
    slot = w / max(1, len(points))
    runs: list[list[str]] = [[]]
    body = []
    for i, point in enumerate(points):
        if point.value is None:
            runs.append([])
            continue
        x, y = x0 + slot * (i + 0.5), y0 + h - h * point.value
        runs[-1].append(f"{x:.1f},{y:.1f}")
        body.append(
            f'<circle class="chart-dot" cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#c0392b">'
            f"<title>{escape(point.label)}: {point.value * 100:.1f}%</title></circle>"
        )
    lines = [
        f'<polyline class="chart-line" points="{" ".join(run)}" fill="none" stroke="#c0392b" '
        'stroke-width="2"/>'
        for run in runs
        if len(run) > 1
    ]
    return _frame(title, 1.0, True, lines + body + _x_labels(points, slot))
