"""Charts drawn on the server as SVG: horizontal bars (single, grouped, stacked) and lines by quarter.

The same markup is inlined in the pages (``{{ chart|safe }}``) and in the PDF reports (WeasyPrint), so it uses
presentation attributes only: no ``style`` attribute, no ``<style>`` element and no script, which the page's
Content-Security-Policy would refuse. Every text that reaches the markup goes through ``escape``; callers pass
finished labels (value and unit already formatted), the charts only place them.

Each chart is an image for assistive technology (``role="img"`` with ``<title>`` and ``<desc>``); the
description lists every value, so nothing is told by colour or position alone. Series differ in colour and in
marker shape. A suppressed value (a small number of persons) is drawn as a hatched block labelled with the
marker, never as a bar of its true length.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.translation import gettext as _

# Colours with at least 4.5:1 contrast on white (text and graphics), told apart also by colour-blind readers:
# blue, orange-brown, green, purple, grey.
PALETTE = ("#0070b4", "#a14c00", "#146c2e", "#6b2c91", "#4d4d4d")
INK = "#000000"
MUTED = "#595959"
GRID = "#d6d6d6"
HATCH = "#595959"
FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
MARKERS = ("circle", "square", "triangle", "diamond", "circle")


@dataclass(frozen=True)
class Point:
    """One value of a chart with the text shown for it.

    ``value`` is None when there is nothing to draw: either no data (``label`` says so, e.g. "–") or a
    suppressed value (``suppressed=True``, ``label`` is the marker such as "< 5").
    """

    value: float | None
    label: str
    suppressed: bool = False


@dataclass(frozen=True)
class Series:
    name: str
    points: Sequence[Point]


def _e(text: object) -> str:
    return str(escape(str(text)))


def _num(value: float) -> str:
    """A coordinate with at most one decimal, so the markup stays short and stable."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _chart_id(kind: str, title: str, parts: Sequence[object]) -> str:
    """A stable id for the chart's title, description and hatch pattern (ids share one page namespace)."""
    digest = hashlib.sha256(repr((kind, title, parts)).encode()).hexdigest()[:10]
    return f"chart-{digest}"


def nice_max(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten that is at least ``value`` (and at least 1)."""
    if value <= 1:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return float(step * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def _ticks(maximum: float, count: int = 5) -> list[float]:
    return [maximum * i / count for i in range(count + 1)]


def _scale_max(values: Sequence[float], percent: bool) -> float:
    """The end of the value axis: 100 % for shares; for counts and days a round number, at least 5, so that the
    five ticks fall on whole numbers."""
    if percent:
        return 1.0
    return max(nice_max(max(values, default=0.0)), 5.0)


def _tick_label(value: float, percent: bool) -> str:
    if percent:
        return f"{value * 100:.0f} %"
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _open(chart_id: str, width: int, height: int, title: str, description: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'font-family="{FONT}" font-size="12">',
        f'<title id="{chart_id}-title">{_e(title)}</title>',
        f'<desc id="{chart_id}-desc">{_e(description)}</desc>',
        "<defs>",
        f'<pattern id="{chart_id}-hatch" patternUnits="userSpaceOnUse" width="6" height="6" '
        'patternTransform="rotate(45)">',
        '<rect x="0" y="0" width="6" height="6" fill="#ffffff"/>',
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{HATCH}" stroke-width="2"/>',
        "</pattern>",
        "</defs>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]


def _describe(categories: Sequence[str], series: Sequence[Series], suppressed_note: str) -> str:
    parts = []
    for index, category in enumerate(categories):
        values = ", ".join(
            (f"{s.name}: " if len(series) > 1 else "") + s.points[index].label for s in series if index < len(s.points)
        )
        parts.append(f"{category}: {values}")
    text = "; ".join(parts)
    if any(p.suppressed for s in series for p in s.points):
        text += ". " + suppressed_note
    return text


def _legend(series: Sequence[Series], x: float, y: float, shapes: bool) -> list[str]:
    out = []
    for index, item in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        if shapes:
            out.append(_marker(MARKERS[index % len(MARKERS)], x + 6, y - 4, colour))
        else:
            out.append(f'<rect x="{_num(x)}" y="{_num(y - 10)}" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text x="{_num(x + 17)}" y="{_num(y)}" fill="{INK}">{_e(item.name)}</text>')
        x += 30 + 7.6 * len(item.name)
    return out


def _marker(shape: str, cx: float, cy: float, colour: str) -> str:
    if shape == "square":
        return f'<rect x="{_num(cx - 4.5)}" y="{_num(cy - 4.5)}" width="9" height="9" fill="{colour}"/>'
    if shape == "triangle":
        points = f"{_num(cx)},{_num(cy - 5.5)} {_num(cx + 5.5)},{_num(cy + 4.5)} {_num(cx - 5.5)},{_num(cy + 4.5)}"
        return f'<polygon points="{points}" fill="{colour}"/>'
    if shape == "diamond":
        points = (
            f"{_num(cx)},{_num(cy - 6)} {_num(cx + 6)},{_num(cy)} {_num(cx)},{_num(cy + 6)} {_num(cx - 6)},{_num(cy)}"
        )
        return f'<polygon points="{points}" fill="{colour}"/>'
    return f'<circle cx="{_num(cx)}" cy="{_num(cy)}" r="4.5" fill="{colour}"/>'


def _suppressed_block(chart_id: str, x: float, y: float, width: float, height: float) -> str:
    return (
        f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(width)}" height="{_num(height)}" '
        f'fill="url(#{chart_id}-hatch)" stroke="{HATCH}" stroke-width="1" stroke-dasharray="3 2"/>'
    )


def _suppressed_note() -> str:
    return str(_("Schraffiert: aus Datenschutzgründen unterdrückter Wert."))


def bar_chart(
    *,
    title: str,
    description: str,
    categories: Sequence[str],
    series: Sequence[Series],
    value_axis_label: str,
    category_axis_label: str,
    percent: bool = False,
    stacked: bool = False,
    width: int = 720,
    suppressed_note: str = "",
) -> str:
    """Horizontal bars: one bar per category, grouped side by side (several series) or stacked end to end.

    Horizontal bars keep long names (institutions, districts) readable without rotating text.
    """
    suppressed_note = suppressed_note or _suppressed_note()
    chart_id = _chart_id("bar", title, [categories, series, stacked])
    many = len(series) > 1
    label_width = 230
    right = 70
    top = 34 if many else 12
    bar_height = 18 if (stacked or not many) else 13
    band = (bar_height if stacked else bar_height * len(series)) + 12
    plot_height = max(band * len(categories), band)
    bottom = 48
    height = int(top + plot_height + bottom)
    plot_width = width - label_width - right
    visible: list[float] = []
    for index in range(len(categories)):
        values = [s.points[index].value or 0.0 for s in series if index < len(s.points)]
        visible.extend([sum(values)] if stacked else values)
    maximum = _scale_max(visible, percent)
    scale = plot_width / maximum

    out = _open(chart_id, width, height, title, _describe(categories, series, suppressed_note) + ". " + description)
    if many:
        out += _legend(series, label_width, 18, shapes=False)
    for tick in _ticks(maximum):
        x = label_width + tick * scale
        out.append(f'<line x1="{_num(x)}" y1="{top}" x2="{_num(x)}" y2="{_num(top + plot_height)}" stroke="{GRID}"/>')
        out.append(
            f'<text x="{_num(x)}" y="{_num(top + plot_height + 16)}" text-anchor="middle" fill="{INK}">'
            f"{_e(_tick_label(tick, percent))}</text>"
        )
    out.append(
        f'<line x1="{label_width}" y1="{top}" x2="{label_width}" y2="{_num(top + plot_height)}" stroke="{INK}"/>'
    )
    for index, category in enumerate(categories):
        y0 = top + index * band + 6
        out.append(
            f"<g><title>{_e(category)}</title>"
            f'<text x="{label_width - 8}" y="{_num(y0 + (band - 12) / 2 + 4)}" text-anchor="end" fill="{INK}">'
            f"{_e(_shorten(category, 28))}</text></g>"
        )
        x_stack = float(label_width)
        for number, item in enumerate(series):
            if index >= len(item.points):
                continue
            point = item.points[index]
            colour = PALETTE[number % len(PALETTE)]
            y = y0 if stacked else y0 + number * bar_height
            h = bar_height - 2
            x = x_stack if stacked else float(label_width)
            if point.suppressed:
                out.append(_suppressed_block(chart_id, x, y, 26, h))
                end = x + 26
            elif point.value is None:
                end = x
            else:
                length = max(point.value * scale, 0.0)
                if length > 0:
                    out.append(
                        f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(length)}" height="{_num(h)}" fill="{colour}">'
                        f"<title>{_e(category)}, {_e(item.name)}: {_e(point.label)}</title></rect>"
                    )
                end = x + length
            if stacked:
                if point.suppressed or (point.value and point.value * scale >= 28):
                    # Inside the segment, in white on the colour (or black on the hatch).
                    fill = INK if point.suppressed else "#ffffff"
                    mid = (x + end) / 2
                    out.append(
                        f'<text x="{_num(mid)}" y="{_num(y + h / 2 + 4)}" text-anchor="middle" fill="{fill}" '
                        f'font-size="11" font-weight="bold">{_e(point.label)}</text>'
                    )
                x_stack = end
            else:
                fill = MUTED if point.value is None and not point.suppressed else INK
                out.append(
                    f'<text x="{_num(end + 5)}" y="{_num(y + h / 2 + 4)}" fill="{fill}" font-size="11">'
                    f"{_e(point.label)}</text>"
                )
        if stacked:
            total = sum(p.value or 0.0 for p in (s.points[index] for s in series if index < len(s.points)))
            hidden = any(s.points[index].suppressed for s in series if index < len(s.points))
            if total or hidden:
                out.append(
                    f'<text x="{_num(x_stack + 5)}" y="{_num(y0 + bar_height / 2 + 3)}" fill="{INK}" font-size="11">'
                    f"{_e(_tick_label(total, percent) if not hidden else '…')}</text>"
                )
    out.append(
        f'<text x="{_num(label_width + plot_width / 2)}" y="{height - 8}" text-anchor="middle" fill="{INK}" '
        f'font-weight="bold">{_e(value_axis_label)}</text>'
    )
    out.append(
        f'<text x="12" y="{_num(top + plot_height / 2)}" text-anchor="middle" fill="{INK}" font-weight="bold" '
        f'transform="rotate(-90 12 {_num(top + plot_height / 2)})">{_e(category_axis_label)}</text>'
    )
    out.append("</svg>")
    return "\n".join(out)


def line_chart(
    *,
    title: str,
    description: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    value_axis_label: str,
    x_axis_label: str,
    percent: bool = False,
    width: int = 720,
    height: int = 260,
    caption: str = "",
    suppressed_note: str = "",
) -> str:
    """Lines over quarters; a missing or suppressed value breaks the line and is marked on the axis.

    ``caption`` is drawn as a visible heading inside the chart (for small multiples without their own heading).
    """
    suppressed_note = suppressed_note or _suppressed_note()
    chart_id = _chart_id("line", title, [x_labels, series, caption])
    many = len(series) > 1
    head = 22 if caption else 0
    left, right, top, bottom = 56, 24, (34 if many else 16) + head, 52
    plot_width, plot_height = width - left - right, height - top - bottom
    values = [p.value for s in series for p in s.points if p.value is not None]
    maximum = _scale_max(values, percent)
    step = plot_width / max(len(x_labels), 1)

    def x_at(index: int) -> float:
        return left + step * (index + 0.5)

    def y_at(value: float) -> float:
        return top + plot_height - value / maximum * plot_height

    out = _open(chart_id, width, height, title, _describe(x_labels, series, suppressed_note) + ". " + description)
    if caption:
        out.append(f'<text x="8" y="18" fill="{INK}" font-size="14" font-weight="bold">{_e(caption)}</text>')
    if many:
        out += _legend(series, left, 18 + head, shapes=True)
    for tick in _ticks(maximum, 5):
        y = y_at(tick)
        out.append(f'<line x1="{left}" y1="{_num(y)}" x2="{width - right}" y2="{_num(y)}" stroke="{GRID}"/>')
        out.append(
            f'<text x="{left - 6}" y="{_num(y + 4)}" text-anchor="end" fill="{INK}">'
            f"{_e(_tick_label(tick, percent))}</text>"
        )
    out.append(
        f'<line x1="{left}" y1="{_num(top + plot_height)}" x2="{width - right}" y2="{_num(top + plot_height)}" '
        f'stroke="{INK}"/>'
    )
    for index, label in enumerate(x_labels):
        out.append(
            f'<text x="{_num(x_at(index))}" y="{_num(top + plot_height + 16)}" text-anchor="middle" fill="{INK}" '
            f'font-size="11">{_e(label)}</text>'
        )
    for number, item in enumerate(series):
        colour = PALETTE[number % len(PALETTE)]
        dash = "" if number == 0 else f' stroke-dasharray="{["", "6 3", "2 3", "8 3 2 3", "4 4"][number % 5]}"'
        run: list[str] = []
        runs: list[list[str]] = []
        for index, point in enumerate(item.points):
            if point.value is None:
                if run:
                    runs.append(run)
                run = []
                continue
            run.append(f"{_num(x_at(index))},{_num(y_at(point.value))}")
        if run:
            runs.append(run)
        for segment in runs:
            if len(segment) > 1:
                out.append(
                    f'<polyline points="{" ".join(segment)}" fill="none" stroke="{colour}" stroke-width="2.5"{dash}/>'
                )
        for index, point in enumerate(item.points):
            cx = x_at(index)
            if point.suppressed:
                base = top + plot_height
                offset = number * 12
                out.append(_suppressed_block(chart_id, cx - 9, base - 12 - offset, 18, 10))
                out.append(
                    f'<text x="{_num(cx)}" y="{_num(base - 16 - offset)}" text-anchor="middle" fill="{INK}" '
                    f'font-size="10">{_e(point.label)}</text>'
                )
            elif point.value is None:
                out.append(
                    f'<text x="{_num(cx)}" y="{_num(top + plot_height - 5)}" text-anchor="middle" fill="{MUTED}" '
                    f'font-size="10">{_e(point.label)}</text>'
                )
            else:
                cy = y_at(point.value)
                out.append(_marker(MARKERS[number % len(MARKERS)], cx, cy, colour))
                if not many or len(series) <= 2:
                    dy = -9 if number == 0 else 17
                    out.append(
                        f'<text x="{_num(cx)}" y="{_num(cy + dy)}" text-anchor="middle" fill="{INK}" font-size="10">'
                        f"{_e(point.label)}</text>"
                    )
    out.append(
        f'<text x="{_num(left + plot_width / 2)}" y="{height - 8}" text-anchor="middle" fill="{INK}" '
        f'font-weight="bold">{_e(x_axis_label)}</text>'
    )
    out.append(
        f'<text x="14" y="{_num(top + plot_height / 2)}" text-anchor="middle" fill="{INK}" font-weight="bold" '
        f'transform="rotate(-90 14 {_num(top + plot_height / 2)})">{_e(value_axis_label)}</text>'
    )
    out.append("</svg>")
    return "\n".join(out)
