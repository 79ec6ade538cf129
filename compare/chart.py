"""A bar chart of the authentication measurements, drawn as SVG on the server (no script)."""

from dataclasses import dataclass

from compare.measurements import StyleMeasurement

WIDTH = 960
LABEL_WIDTH = 360
BAR_HEIGHT = 26
GAP = 12


@dataclass(frozen=True)
class Bar:
    label: str
    value_label: str
    y: int
    width: int
    text_y: int


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    label_width: int
    bar_height: int
    bars: list[Bar]


def bar_chart(*, measurements: list[StyleMeasurement]) -> Chart:
    """One bar per style, its length the median microseconds per request."""
    longest = max((m.median_us for m in measurements), default=1) or 1
    room = WIDTH - LABEL_WIDTH - 280  # what the value label after the bar needs
    bars = []
    for index, measurement in enumerate(measurements):
        y = index * (BAR_HEIGHT + GAP)
        bars.append(
            Bar(
                label=measurement.label,
                value_label=(
                    f"{measurement.median_us:,.0f} µs · {measurement.queries_per_request:g} "
                    f"queries · {measurement.ratio_to_baseline:.2f}x baseline"
                ),
                y=y,
                width=max(2, round(room * measurement.median_us / longest)),
                text_y=y + BAR_HEIGHT // 2 + 5,
            )
        )
    return Chart(
        width=WIDTH,
        height=len(bars) * (BAR_HEIGHT + GAP),
        label_width=LABEL_WIDTH,
        bar_height=BAR_HEIGHT,
        bars=bars,
    )
