"""Server-rendered SVG charts: the geometry of a bar chart and a line chart, for templates to draw.

No JavaScript and no `style=` (the Content Security Policy forbids inline
styles): templates write these numbers into SVG presentation attributes
(x, y, width, height, points) and colour them with CSS classes. Every chart
is shown next to a table of the same figures (the accessible version, and
what is printed and exported).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

# Labels longer than this are shortened in the drawing; the table beside it has them whole.
LABEL_CHARACTERS = 28


def shorten(label: str, limit: int = LABEL_CHARACTERS) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    y: float  # top of the bar
    width: float
    label_y: float  # the text's baseline, centred on the bar
    value_x: float  # where the value is written, after the bar


@dataclass(frozen=True)
class BarChart:
    """Horizontal bars: a label column on the left, bars from `plot_x`, the value after each bar."""

    width: int
    height: int
    plot_x: int
    bar_height: int
    bars: list[Bar]

    @property
    def label_x(self) -> int:
        return self.plot_x - 8


def bar_chart(
    rows: list[tuple[str, int]], *, width: int = 640, label_width: int = 220, bar_height: int = 22, gap: int = 10
) -> BarChart:
    """Bars for (label, value) rows, in the order given; the longest bar fills the plot (with room for its value)."""
    plot_width = width - label_width - 56  # room for the value after the longest bar
    largest = max((value for _label, value in rows), default=0)
    bars = []
    for index, (label, value) in enumerate(rows):
        y = gap + index * (bar_height + gap)
        bars.append(
            Bar(
                label=shorten(label),
                value=value,
                y=y,
                width=round(plot_width * value / largest, 1) if largest else 0,
                label_y=y + bar_height * 0.7,
                value_x=label_width + (round(plot_width * value / largest, 1) if largest else 0) + 6,
            )
        )
    return BarChart(
        width=width,
        height=gap + len(rows) * (bar_height + gap),
        plot_x=label_width,
        bar_height=bar_height,
        bars=bars,
    )


@dataclass(frozen=True)
class Point:
    day: date
    value: int
    x: float
    y: float


@dataclass(frozen=True)
class LineChart:
    """Values over days: a polyline with the lowest and highest value marked on the left axis."""

    width: int
    height: int
    left: int
    top: int
    bottom: int
    points: list[Point]
    low: int
    high: int

    @property
    def polyline(self) -> str:
        return " ".join(f"{point.x},{point.y}" for point in self.points)

    @property
    def first(self) -> Point:
        return self.points[0]

    @property
    def last(self) -> Point:
        return self.points[-1]

    @property
    def right(self) -> int:
        return self.width - 16

    @property
    def high_y(self) -> int:
        return self.top + 5

    @property
    def low_y(self) -> int:
        return self.bottom + 5

    @property
    def day_y(self) -> int:
        return self.bottom + 24


def line_chart(series: list[tuple[date, int]], *, width: int = 640, height: int = 220) -> LineChart | None:
    """A line through (day, value) points in day order; None with fewer than two points (nothing to draw)."""
    if len(series) < 2:
        return None
    left, top, bottom, right = 72, 16, height - 36, width - 16
    first_day, last_day = series[0][0], series[-1][0]
    span_days = max((last_day - first_day).days, 1)
    low, high = min(value for _day, value in series), max(value for _day, value in series)
    span_values = max(high - low, 1)
    points = [
        Point(
            day=day,
            value=value,
            x=round(left + (right - left) * (day - first_day).days / span_days, 1),
            # A flat line sits in the middle rather than on the axis.
            y=round(bottom - (bottom - top) * (value - low) / span_values, 1) if high > low else (top + bottom) / 2,
        )
        for day, value in series
    ]
    return LineChart(width=width, height=height, left=left, top=top, bottom=bottom, points=points, low=low, high=high)
