"""Tiny inline-SVG charts for the self-contained reports: grouped bars with intervals, radar, line curves."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import NamedTuple

CHART_CSS = "svg.chart{max-width:100%;height:auto}table{display:block;overflow-x:auto;max-width:100%}"
"""What a report's style needs for its charts and tables to fit a phone's width (charts scale by their viewBox; a
wide table scrolls inside itself instead of widening the page)."""

PALETTE = ("#3b6fb6", "#d9822b", "#3f9a5a", "#b8434e", "#7a5bb0", "#8c6d3f", "#c2549d", "#5f6b73")


def _open(kind: str, width: float, height: float) -> str:
    """A chart's opening tag: drawn at its size, and with a viewBox so that a narrow page can scale it down."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {kind}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}">'
    )


class Bar(NamedTuple):
    """One bar: value and optional interval."""

    value: float
    low: float | None = None
    high: float | None = None


def _legend(names: Sequence[str], x: float, y: float) -> str:
    out = []
    for i, name in enumerate(names):
        color = PALETTE[i % len(PALETTE)]
        yy = y + 16 * i
        out.append(f'<rect x="{x}" y="{yy - 9}" width="10" height="10" fill="{color}"/>')
        out.append(f'<text x="{x + 14}" y="{yy}" font-size="11">{escape(name)}</text>')
    return "".join(out)


def bar_chart(
    groups: Sequence[str], series: Sequence[tuple[str, Sequence[Bar | None]]], ymax: float, ymin: float = 0.0
) -> str:
    """Grouped vertical bars (one group per label, one bar per series) with 95 % interval whiskers."""
    per_group = 55 + 30 * max(1, len(series))
    width, height, left, bottom, top = max(360, per_group * len(groups) + 210), 240, 40, 50, 12
    plot_w, plot_h = width - left - 170, height - bottom - top
    n = max(1, len(series))
    group_w = plot_w / max(1, len(groups))
    bar_w = group_w * 0.8 / n

    def y_of(v: float) -> float:
        return top + plot_h * (1 - (min(max(v, ymin), ymax) - ymin) / ((ymax - ymin) or 1))

    parts = [_open("bars", width, height)]
    for k in range(5):
        v = ymin + (ymax - ymin) * k / 4
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y_of(v):.1f}" y2="{y_of(v):.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 4}" y="{y_of(v) + 4:.1f}" font-size="10" text-anchor="end">{v:g}</text>')
    for g, label in enumerate(groups):
        x0 = left + g * group_w + group_w * 0.1
        for s, (_, bars) in enumerate(series):
            bar = bars[g] if g < len(bars) else None
            if bar is None:
                continue
            x = x0 + s * bar_w
            y = y_of(bar.value)
            color = PALETTE[s % len(PALETTE)]
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w * 0.9:.1f}" height="{y_of(ymin) - y:.1f}" '
                f'fill="{color}"><title>{escape(series[s][0])}: {bar.value:.3f}</title></rect>'
            )
            if bar.low is not None and bar.high is not None:
                cx = x + bar_w * 0.45
                parts.append(
                    f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{y_of(bar.low):.1f}" y2="{y_of(bar.high):.1f}" '
                    'stroke="#222" stroke-width="1.2"/>'
                )
        parts.append(
            f'<text x="{x0 + group_w * 0.4:.1f}" y="{height - bottom + 14}" font-size="10" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y_of(ymin)}" y2="{y_of(ymin)}" stroke="#444"/>')
    parts.append(_legend([name for name, _ in series], left + plot_w + 14, top + 10))
    parts.append("</svg>")
    return "".join(parts)


def radar_chart(axes: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], size: int = 260) -> str:
    """A radar (spider) chart on a 0..1 scale, one polygon per series."""
    cx, cy, r = size / 2, size / 2 + 6, size / 2 - 46
    n = len(axes)

    def point(i: int, v: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * i / n
        return cx + r * v * math.cos(angle), cy + r * v * math.sin(angle)

    parts = [_open("radar", size + 120, size + 10)]
    for ring in (0.25, 0.5, 0.75, 1.0):
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (point(i, ring) for i in range(n)))
        parts.append(f'<polygon points="{pts}" fill="none" stroke="#ddd"/>')
    for i, axis in enumerate(axes):
        x, y = point(i, 1.0)
        lx, ly = point(i, 1.16)
        parts.append(f'<line x1="{cx}" y1="{cy}" x2="{x:.1f}" y2="{y:.1f}" stroke="#ccc"/>')
        parts.append(f'<text x="{lx:.1f}" y="{ly + 4:.1f}" font-size="10" text-anchor="middle">{escape(axis)}</text>')
    for s, (name, values) in enumerate(series):
        color = PALETTE[s % len(PALETTE)]
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (point(i, v or 0.0) for i, v in enumerate(values)))
        dash = ' stroke-dasharray="4 3"' if s == 0 else ""
        parts.append(
            f'<polygon points="{pts}" fill="{color}" fill-opacity="0.15" stroke="{color}" stroke-width="2"{dash}>'
            f"<title>{escape(name)}</title></polygon>"
        )
    parts.append(_legend([name for name, _ in series], size + 4, 20))
    parts.append("</svg>")
    return "".join(parts)


def line_chart(series: Sequence[tuple[str, Sequence[float | None]]], ymax: float = 1.0, xlabel: str = "turn") -> str:
    """Lines over integer x (turns), one per series, on 0..ymax."""
    width, height, left, bottom, top = 460, 220, 40, 34, 12
    plot_w, plot_h = width - left - 150, height - bottom - top
    count = max((len(v) for _, v in series), default=1)

    def xy(i: int, v: float) -> tuple[float, float]:
        x = left + (plot_w * i / (count - 1) if count > 1 else plot_w / 2)
        return x, top + plot_h * (1 - min(max(v, 0.0), ymax) / ymax)

    parts = [_open("lines", width, height)]
    for k in range(5):
        _, y = xy(0, ymax * k / 4)
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{ymax * k / 4:g}</text>')
    for i in range(count):
        x, _ = xy(i, 0)
        parts.append(f'<text x="{x:.1f}" y="{height - bottom + 14}" font-size="10" text-anchor="middle">{i + 1}</text>')
    parts.append(
        f'<text x="{left + plot_w / 2}" y="{height - 4}" font-size="10" text-anchor="middle">{escape(xlabel)}</text>'
    )
    for s, (name, values) in enumerate(series):
        color = PALETTE[s % len(PALETTE)]
        pts = [xy(i, v) for i, v in enumerate(values) if v is not None]
        if not pts:
            continue
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"/>' for x, y in pts]
        _ = name
    parts.append(_legend([name for name, _ in series], left + plot_w + 14, top + 10))
    parts.append("</svg>")
    return "".join(parts)


class DiffBar(NamedTuple):
    """One row of a difference chart: a label, the difference, its interval, and whether it is flagged."""

    label: str
    value: float
    low: float | None
    high: float | None
    flagged: bool


def diff_chart(rows: Sequence[DiffBar], span: float) -> str:
    """Horizontal bars of differences around a zero line (−span..span) with interval whiskers; flagged bars red."""
    row_h, left, top = 18, 170, 8
    width, plot_w = 560, 560 - 170 - 70  # 70 px right of the plot for the values
    height = top * 2 + row_h * max(1, len(rows)) + 16
    span = span or 1.0

    def x_of(v: float) -> float:
        return left + plot_w * (min(max(v, -span), span) + span) / (2 * span)

    parts = [_open("diffs", width, height)]
    for tick in (-span, -span / 2, 0.0, span / 2, span):
        x = x_of(tick)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{height - 16}" stroke="#eee"/>')
        parts.append(f'<text x="{x:.1f}" y="{height - 4}" font-size="10" text-anchor="middle">{tick:+.2g}</text>')
    for i, row in enumerate(rows):
        y = top + i * row_h
        zero, end = x_of(0.0), x_of(row.value)
        color = PALETTE[3] if row.flagged else PALETTE[0]
        label_y = y + row_h * 0.7
        parts.append(
            f'<text x="{left - 6}" y="{label_y:.1f}" font-size="11" text-anchor="end">{escape(row.label)}</text>'
        )
        parts.append(
            f'<rect x="{min(zero, end):.1f}" y="{y + 3}" width="{abs(end - zero):.1f}" height="{row_h - 6}" '
            f'fill="{color}"><title>{escape(row.label)}: {row.value:+.3f}</title></rect>'
        )
        if row.low is not None and row.high is not None:
            cy = y + row_h / 2
            parts.append(
                f'<line x1="{x_of(row.low):.1f}" x2="{x_of(row.high):.1f}" y1="{cy:.1f}" y2="{cy:.1f}" '
                'stroke="#222" stroke-width="1.2"/>'
            )
        mark = " ⚑" if row.flagged else ""
        parts.append(
            f'<text x="{left + plot_w + 6}" y="{y + row_h * 0.7:.1f}" font-size="10">{row.value:+.3f}{mark}</text>'
        )
    parts.append(f'<line x1="{x_of(0.0):.1f}" x2="{x_of(0.0):.1f}" y1="{top}" y2="{height - 16}" stroke="#444"/>')
    parts.append("</svg>")
    return "".join(parts)
