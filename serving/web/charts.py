"""Charts as inline SVG written here, server-side (no script, no CDN): the P10-P90 pay-date range of an invoice, the
13-week cash forecast with its P10-P90 band, aging by bucket over time. Each has a <title> and a text alternative."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from html import escape

import pandas as pd
from markupsafe import Markup

BUCKET_COLOURS = ("#2e7d32", "#9e9d24", "#ef6c00", "#c62828", "#6a1b9a")


def _day(value: object) -> dt.date | None:
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return pd.Timestamp(value).date()


def pay_range_svg(as_of: object, due: object, p10: object, p50: object, p90: object, width: int = 220) -> Markup:
    """A bar from P10 to P90 with a tick at P50, the due date and the as-of date marked."""
    days = [d for d in (_day(as_of), _day(due), _day(p10), _day(p50), _day(p90)) if d is not None]
    if _day(p10) is None or _day(p90) is None or not days:
        return Markup('<span class="muted">no pay-date range</span>')
    lo, hi = min(days), max(days)
    span = max((hi - lo).days, 1)

    def x(value: object) -> float:
        d = _day(value)
        return 6 + (width - 12) * ((d - lo).days / span) if d else 0.0

    label = f"pays between {_day(p10)} and {_day(p90)} (P10-P90), median {_day(p50) or '?'}; due {_day(due)}"
    parts = [
        f'<svg class="range" width="{width}" height="26" role="img" aria-label="{escape(label)}">',
        f"<title>{escape(label)}</title>",
        f'<line x1="6" x2="{width - 6}" y1="13" y2="13" stroke="#bbb"/>',
        f'<rect x="{x(p10):.1f}" y="7" width="{max(x(p90) - x(p10), 2):.1f}" height="12" fill="#90caf9" rx="3"/>',
    ]
    if _day(p50):
        parts.append(f'<line x1="{x(p50):.1f}" x2="{x(p50):.1f}" y1="4" y2="22" stroke="#0d47a1" stroke-width="2"/>')
    if _day(due):
        parts.append(
            f'<line x1="{x(due):.1f}" x2="{x(due):.1f}" y1="2" y2="24" stroke="#c62828" stroke-dasharray="2"/>'
        )
    parts.append(f'<line x1="{x(as_of):.1f}" x2="{x(as_of):.1f}" y1="2" y2="24" stroke="#333"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def forecast_svg(
    weeks: Sequence[str],
    expected: Sequence[float],
    p10: Sequence[float],
    p90: Sequence[float],
    actual: Sequence[float | None] | None = None,
    currency: str = "",
    width: int = 720,
    height: int = 280,
) -> Markup:
    """Expected cash per week as bars, the P10-P90 band as a shaded area, the cash that came in (when known) as dots."""
    n = len(weeks)
    if n == 0:
        return Markup('<p class="muted">no weeks to show</p>')
    top = max([*p90, *expected, *[a for a in (actual or []) if a is not None], 1.0])
    left, bottom, right, top_pad = 70, 30, 10, 10
    plot_w, plot_h = width - left - right, height - bottom - top_pad
    step = plot_w / n

    def y(value: float) -> float:
        return top_pad + plot_h * (1 - value / top)

    label = f"13-week cash forecast in {currency}: expected cash per week with its P10-P90 band"
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{escape(label)}"'
        ' data-chart="forecast">',
        f"<title>{escape(label)}</title>",
    ]
    for k in range(5):
        value = top * k / 4
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="#e0e0e0"/>'
            f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end" class="axis">{value:,.0f}</text>'
        )
    upper = " ".join(f"{left + step * (i + 0.5):.1f},{y(v):.1f}" for i, v in enumerate(p90))
    lower = " ".join(f"{left + step * (i + 0.5):.1f},{y(v):.1f}" for i, v in reversed(list(enumerate(p10))))
    parts.append(f'<polygon points="{upper} {lower}" fill="#bbdefb" opacity="0.8"><title>P10-P90</title></polygon>')
    for i, (week, value) in enumerate(zip(weeks, expected, strict=True)):
        x = left + step * i + step * 0.2
        parts.append(
            f'<rect class="week" x="{x:.1f}" y="{y(value):.1f}" width="{step * 0.6:.1f}" '
            f'height="{plot_h + top_pad - y(value):.1f}" fill="#1565c0"><title>week of {escape(week)}: '
            f"{value:,.0f} {escape(currency)} expected, P10 {p10[i]:,.0f}, P90 {p90[i]:,.0f}</title></rect>"
            f'<text x="{left + step * (i + 0.5):.1f}" y="{height - 12}" text-anchor="middle" class="axis">'
            f"{escape(week[5:])}</text>"
        )
    for i, came_in in enumerate(actual or []):
        if came_in is not None:
            parts.append(
                f'<circle cx="{left + step * (i + 0.5):.1f}" cy="{y(came_in):.1f}" r="5" fill="#ef6c00">'
                f"<title>came in: {came_in:,.0f} {escape(currency)}</title></circle>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def aging_svg(
    dates: Sequence[str], buckets: Sequence[str], amounts: Sequence[Sequence[float]], width: int = 720
) -> Markup:
    """Open amount by aging bucket at each date, as stacked bars (amounts[i][j]: date i, bucket j)."""
    height, left, bottom, top_pad = 240, 80, 30, 10
    if not dates:
        return Markup('<p class="muted">no dates</p>')
    top = max([sum(row) for row in amounts] + [1.0])
    plot_w, plot_h = width - left - 10, height - bottom - top_pad
    step = plot_w / len(dates)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        'aria-label="open receivables by aging bucket at each month-end"><title>aging over time</title>'
    ]
    for k in range(5):
        value = top * k / 4
        yv = top_pad + plot_h * (1 - value / top)
        parts.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{yv:.1f}" y2="{yv:.1f}" stroke="#e0e0e0"/>'
            f'<text x="{left - 6}" y="{yv + 4:.1f}" text-anchor="end" class="axis">{value:,.0f}</text>'
        )
    for i, (date, row) in enumerate(zip(dates, amounts, strict=True)):
        base = 0.0
        x = left + step * i + step * 0.15
        for j, value in enumerate(row):
            y0 = top_pad + plot_h * (1 - (base + value) / top)
            h = plot_h * value / top
            parts.append(
                f'<rect x="{x:.1f}" y="{y0:.1f}" width="{step * 0.7:.1f}" height="{h:.1f}" '
                f'fill="{BUCKET_COLOURS[j % len(BUCKET_COLOURS)]}"><title>{escape(date)} {escape(buckets[j])}: '
                f"{value:,.0f}</title></rect>"
            )
            base += value
        parts.append(
            f'<text x="{left + step * (i + 0.5):.1f}" y="{height - 12}" text-anchor="middle" class="axis">'
            f"{escape(date[:7])}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
