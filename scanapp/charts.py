"""Charts drawn on the server as inline SVG: a bar chart and a line chart, readable on a phone, no JavaScript.

Colours and fonts come from CSS classes (`static/css/app.css`, section "Reports"), so the charts follow the light
and dark themes and print in black and white. Each chart carries its figures as text, too: a title, the value of
every bar or point, and an accessible description listing them.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from markupsafe import Markup, escape

WIDTH, HEIGHT = 360, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 24, 18, 40  # room for the axis labels
MAX_LABELS = 6  # labels under the x axis, at most: more would overlap on a phone


@dataclass(frozen=True)
class Series:
    """What a chart shows: one value per label. `style` is "bar" or "line"."""

    title: str
    labels: Sequence[str]
    values: Sequence[int | Decimal]
    style: str = "bar"
    unit: str = ""


def render(series: Series) -> Markup:
    """The chart of `series` as an inline SVG element."""
    return (line_chart if series.style == "line" else bar_chart)(series)


def bar_chart(series: Series) -> Markup:
    """Bars, one per label, each with its value above it."""
    n = max(len(series.values), 1)
    top = nice_ceiling(max(series.values, default=0))
    slot = (WIDTH - LEFT - RIGHT) / n
    bar = min(slot * 0.7, 56)
    parts = [_grid(top)]
    for i, (label, value) in enumerate(zip(series.labels, series.values, strict=True)):
        x = LEFT + i * slot + (slot - bar) / 2
        y = _y(value, top)
        parts.append(
            f'<rect class="chart-bar" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{_y(0, top) - y:.1f}"/>'
        )
        parts.append(f'<text class="chart-value" x="{x + bar / 2:.1f}" y="{y - 4:.1f}">{_short(value)}</text>')
        parts.append(_x_label(label, x + bar / 2, i, n))
    return _svg(series, parts)


def line_chart(series: Series) -> Markup:
    """A line through one point per label, with the values of the highest point and the last one shown."""
    n = len(series.values)
    top = nice_ceiling(max(series.values, default=0))
    step = (WIDTH - LEFT - RIGHT) / max(n - 1, 1)
    points = [
        (LEFT + i * step if n > 1 else (WIDTH + LEFT - RIGHT) / 2, _y(v, top)) for i, v in enumerate(series.values)
    ]
    parts = [_grid(top)]
    if points:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(f'<polyline class="chart-line" points="{path}"/>')
        marked = {max(range(n), key=lambda i: series.values[i]), n - 1}
        for i, (x, y) in enumerate(points):
            parts.append(f'<circle class="chart-dot" cx="{x:.1f}" cy="{y:.1f}" r="3"/>')
            if i in marked:
                value = _short(series.values[i])
                parts.append(f'<text class="chart-value" x="{x:.1f}" y="{y - 7:.1f}">{value}</text>')
            parts.append(_x_label(series.labels[i], x, i, n))
    return _svg(series, parts)


def nice_ceiling(value: int | Decimal) -> Decimal:
    """The smallest 1, 2 or 5 × 10ⁿ at or above `value` (1 for nothing), so the axis has round numbers."""
    value = Decimal(value)
    if value <= 0:
        return Decimal(1)
    magnitude = Decimal(10) ** value.adjusted()  # value < 10 × magnitude, so one of the steps fits
    return next(step * magnitude for step in (1, 2, 5, 10) if value <= step * magnitude)


def _y(value, top: Decimal) -> float:
    plot = HEIGHT - TOP - BOTTOM
    return TOP + plot - float(Decimal(value) / top) * plot


def _grid(top: Decimal) -> str:
    """Four horizontal grid lines with their values on the left, and the base line."""
    lines = []
    for k in range(5):
        value = top * k / 4
        y = _y(value, top)
        cls = "chart-axis" if k == 0 else "chart-grid"
        lines.append(f'<line class="{cls}" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        lines.append(f'<text class="chart-tick" x="{LEFT - 4}" y="{y + 4:.1f}">{_short(value)}</text>')
    return "".join(lines)


def _x_label(label: str, x: float, i: int, n: int) -> str:
    """The label under a bar or point; with many of them only every few, so that they do not overlap."""
    if i % -(-n // MAX_LABELS):
        return ""
    return f'<text class="chart-label" x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}">{escape(label)}</text>'


def _short(value) -> str:
    """A value as a short axis label: 950, 1.2k, 3.4M."""
    value = Decimal(value)
    for limit, suffix in ((Decimal(10) ** 6, "M"), (Decimal(1000), "k")):
        if abs(value) >= limit:
            return f"{(value / limit).quantize(Decimal('0.1')).normalize():f}{suffix}"
    if value == value.to_integral_value():
        return f"{value.quantize(Decimal(1)):f}"
    return f"{value.quantize(Decimal('0.1')):f}"


def _svg(series: Series, parts: list[str]) -> Markup:
    unit = f" ({series.unit})" if series.unit else ""
    described = "; ".join(f"{label}: {value}" for label, value in zip(series.labels, series.values, strict=True))
    return Markup(
        f'<svg class="chart chart-{escape(series.style)}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(series.title + unit)}" preserveAspectRatio="xMidYMid meet">'
        f"<title>{escape(series.title + unit)}</title><desc>{escape(described)}</desc>" + "".join(parts) + "</svg>"
    )
