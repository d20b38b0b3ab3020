"""Charts of offload ratios, as matplotlib figures and as inline SVG.

The HTML report (:mod:`ovsflow.report`) embeds these figures as SVG text and
a notebook shows the same figures inline, so both tell the same story.

Why matplotlib: the report must open with no network, so a chart library
whose charts are drawn by JavaScript (plotly.js, about 3.5 MB, or Vega and
Vega-Lite for altair, about 1 MB plus a converter with its own engine) would
have to be inlined in every page.  matplotlib writes static SVG: no script
at all, a few kilobytes per chart, text kept as text (so it stays sharp and
searchable), and the same figures show in a notebook.

Every value shown comes from dumps, which are untrusted: matplotlib escapes
SVG text itself, and maths parsing is turned off so that a ``$`` in a port
name is printed as it is.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ovsflow.errors import OvsflowError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: The three ratios and the colour of each (Okabe-Ito, safe for colour-blind
#: readers); the report test looks for these colours in a screenshot.
SERIES: tuple[tuple[str, str, str], ...] = (
    ("flows", "flows", "#0072b2"),
    ("packets", "packets", "#e69f00"),
    ("bytes", "bytes", "#009e73"),
)

#: Longest group label drawn in a chart; the tables under it give it whole.
LABEL_CHARS = 28

_STYLE = {
    "svg.fonttype": "none",  # text stays <text>, in the page's font
    "text.parse_math": False,  # a "$" in a port name is not TeX
    "font.size": 10,
    "axes.edgecolor": "#888888",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": "#444444",
    "ytick.color": "#222222",
}


def _matplotlib() -> Any:
    try:
        import matplotlib
    except ModuleNotFoundError:
        raise OvsflowError(
            "charts need matplotlib: pip install 'ovsflow[report]'"
        ) from None
    return matplotlib


@contextmanager
def _style(salt: str = "ovsflow") -> Iterator[None]:
    matplotlib = _matplotlib()
    # The salt makes the ids matplotlib derives for clip paths and markers
    # differ between charts, and repeatable from one run to the next.
    with matplotlib.rc_context({**_STYLE, "svg.hashsalt": salt}):
        yield


def percent(value: float | None) -> str:
    """A fraction of 1 as a percentage that never rounds to all or nothing.

    >>> percent(0.99995), percent(1.0), percent(0.0004), percent(0.1234), percent(None)
    ('>99.9%', '100.0%', '<0.1%', '12.3%', '-')
    """
    if value is None or value != value:  # None or NaN
        return "-"
    text = f"{100 * value:.1f}%"
    if text == "100.0%" and value < 1:
        return ">99.9%"
    if text == "0.0%" and value > 0:
        return "<0.1%"
    return text


def _label(value: object) -> str:
    text = "(none)" if value is None else str(value)
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def ratio_figure(
    groups: Sequence[str],
    ratios: Sequence[dict[str, float | None]],
    *,
    title: str = "",
    notes: Sequence[str] = (),
) -> Figure:
    """Horizontal bars: the hardware share of flows, packets and bytes per group.

    ``ratios[i]`` maps ``flows``, ``packets`` and ``bytes`` to a fraction of 1
    (None when the group has none of them).  A group with nothing in
    hardware gets one "none in hardware" label instead of three "0%".
    ``notes[i]``, when given, is printed under the group's name.
    """
    _matplotlib()
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    with _style():
        fig = Figure(figsize=(7.5, 1.1 + 0.62 * max(len(groups), 1)))
        ax = fig.add_subplot()
        height = 0.26
        for k, (key, label, colour) in enumerate(SERIES):
            ys = [i + (k - 1) * height for i in range(len(groups))]
            values = [r.get(key) for r in ratios]
            widths = [v or 0.0 for v in values]
            ax.barh(ys, widths, height=height * 0.92, color=colour, label=label)
            for y, value in zip(ys, values, strict=True):
                if value:
                    ax.text(value + 0.01, y, percent(value), va="center", fontsize=8)
        for i, ratio in enumerate(ratios):
            if not any(ratio.values()):
                none = all(v is None for v in ratio.values())
                text = "no traffic" if none else "none in hardware"
                ax.text(0.01, i, text, va="center", fontsize=8, color="#555555")
        names = [_label(g) for g in groups]
        if notes:
            names = [f"{n}\n{note}" for n, note in zip(names, notes, strict=True)]
        ax.set_yticks(range(len(groups)), names)
        ax.invert_yaxis()  # the first group on top
        ax.set_xlim(0, 1.12)
        ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.grid(axis="x", color="#dddddd", linewidth=0.8)
        ax.set_axisbelow(True)
        ax.tick_params(axis="y", length=0)
        ax.set_xlabel("share in hardware")
        _title_and_legend(fig, ax, title, ncol=3)
    return fig


def _title_and_legend(fig: Figure, ax: Any, title: str, ncol: int) -> None:
    """The legend in one row above the plot, under the title if any."""
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=ncol, frameon=False)
    if title:
        fig.suptitle(title, x=0.02, ha="left", fontsize=11, fontweight="bold")
    fig.tight_layout()


def timeline_figure(
    times: Sequence[datetime],
    ratios: Sequence[dict[str, float | None]],
    *,
    title: str = "",
    interval_times: Sequence[datetime] = (),
    interval_ratios: Sequence[float | None] = (),
) -> Figure:
    """Lines: the hardware share of each dump's counters over capture time.

    ``interval_times``/``interval_ratios``, when given, add the hardware share
    of the packets sent between one dump and the next (dashed, drawn at the
    end of each interval): the counters in a dump add up a flow's whole life,
    while the interval shows what is offloaded now.
    """
    _matplotlib()
    import matplotlib.dates as mdates
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    with _style():
        fig = Figure(figsize=(7.5, 3.4))
        ax = fig.add_subplot()
        xs = _days(mdates, times)
        for key, label, colour in SERIES:
            ys = [_nan(r.get(key)) for r in ratios]
            ax.plot(xs, ys, marker="o", color=colour, label=f"{label} (counters)")
        if interval_times:
            ys = [_nan(v) for v in interval_ratios]
            ax.plot(
                _days(mdates, interval_times),
                ys,
                marker="s",
                linestyle="--",
                color="#cc79a7",
                label="packets between dumps",
            )
        ax.set_ylim(-0.03, 1.05)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        # matplotlib's date helpers carry no type hints.
        locator = mdates.AutoDateLocator()  # type: ignore[no-untyped-call]
        formatter = mdates.ConciseDateFormatter(locator)  # type: ignore[no-untyped-call]
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(formatter)
        ax.grid(color="#dddddd", linewidth=0.8)
        ax.set_axisbelow(True)
        ax.set_ylabel("share in hardware")
        ax.set_xlabel("capture time (UTC)")
        _title_and_legend(fig, ax, title, ncol=2 if interval_times else 3)
    return fig


def _days(mdates: Any, times: Sequence[datetime]) -> list[float]:
    """Times as matplotlib's date numbers (its date helpers are untyped)."""
    return [float(mdates.date2num(t)) for t in times]


def _nan(value: float | None) -> float:
    return float("nan") if value is None else value


_ID = re.compile(r'\sid="([^"]+)"')
_REF = re.compile(r'url\(#([^)]+)\)|href="#([^"]+)"')


def figure_svg(fig: Figure, prefix: str, label: str = "") -> str:
    """The figure as an ``<svg>`` element to put inside an HTML page.

    The XML prolog and DOCTYPE go (a page needs neither, and the DOCTYPE names
    a URL); ids nothing refers to go; the others get ``prefix`` so that
    several charts on one page never share an id.  ``label`` becomes the
    element's accessible name.
    """
    buffer = io.StringIO()
    with _style(prefix):
        fig.savefig(
            buffer,
            format="svg",
            metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
        )
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    used = {a or b for a, b in _REF.findall(text)}

    def rename(match: re.Match[str]) -> str:
        name = match[1]
        return f' id="{prefix}-{name}"' if name in used else ""

    text = _ID.sub(rename, text)
    text = re.sub(r"url\(#", f"url(#{prefix}-", text)
    text = text.replace('href="#', f'href="#{prefix}-')
    # Scale with the page: keep the viewBox, drop the fixed size in points.
    text = re.sub(
        r'<svg([^>]*?) width="[^"]+" height="[^"]+"', r"<svg\1", text, count=1
    )
    name = html.escape(label or prefix, quote=True)
    tag = f'<svg class="chart" role="img" aria-label="{name}"'
    return text.replace("<svg", tag, 1)


__all__ = [
    "LABEL_CHARS",
    "SERIES",
    "figure_svg",
    "percent",
    "ratio_figure",
    "timeline_figure",
]
