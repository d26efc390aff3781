"""The report's charts, drawn server-side by matplotlib as SVG to inline in the page.

Texts stay text (``svg.fonttype: none``) so the reader's browser renders them with the page's
font stack, Hangul included; matplotlib escapes every text it writes (titles are applicants'
input), and ``$`` never starts mathtext (``text.parse_math: False``). Each SVG gets a ``<title>``
and an ``aria-label`` (its text alternative); the page puts a table beside each.

matplotlib's settings are process-wide, so charts are drawn one at a time (``_LOCK``)."""

import html
import io
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import matplotlib
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

matplotlib.use("Agg")

HANGUL_FONTS = ("NanumGothic", "Noto Sans CJK KR", "Noto Sans KR", "UnDotum")
"""Fonts that render Hangul, in order of preference: the first installed draws (and measures)
the charts' text; Debian's fonts-nanum provides NanumGothic (.ci/setup, the Dockerfile)."""
CSS_FONT_STACK = (
    '"NanumGothic", "Noto Sans CJK KR", "Noto Sans KR", "Apple SD Gothic Neo", '
    '"Malgun Gothic", "DejaVu Sans", sans-serif'
)
LABEL_CHARS = 40
LEGEND_INCHES = 0.3
SCATTER_POINTS = 500
SHORTLISTED, NOT_SELECTED, UNRANKED, CUTOFF = "#1b7837", "#8c8c8c", "#d6604d", "#2166ac"
_LOCK = threading.Lock()


HANGUL_FONT_FILES = ("NanumGothic.ttf", "NotoSansCJK-Regular.ttc", "NotoSansKR-Regular")
_FAMILIES: list[str] = []


def _families() -> list[str]:
    """The installed fonts of ``HANGUL_FONTS``, then DejaVu Sans. matplotlib lists the system's
    fonts once and caches the list: a font installed after that (fonts-nanum on a machine
    whose cache was made before) is added from its file here."""
    if not _FAMILIES:
        installed = {f.name for f in font_manager.fontManager.ttflist}
        if not installed & set(HANGUL_FONTS):
            for path in font_manager.findSystemFonts():
                if path.endswith(HANGUL_FONT_FILES) or Path(path).stem in HANGUL_FONT_FILES:
                    font_manager.fontManager.addfont(path)
            installed = {f.name for f in font_manager.fontManager.ttflist}
        _FAMILIES.extend([f for f in HANGUL_FONTS if f in installed] + ["DejaVu Sans"])
    return _FAMILIES


@contextmanager
def _drawing() -> Iterator[None]:
    """matplotlib set for the report, one chart at a time. Without a Hangul font, matplotlib
    warns of each glyph it cannot measure: the SVG keeps the text, which the reader's browser
    renders with its own fonts, so the warning is not the reader's concern."""
    with (
        _LOCK,
        warnings.catch_warnings(),
        matplotlib.rc_context(
            {
                "svg.fonttype": "none",
                "svg.hashsalt": "shortlist-report",
                "font.family": _families(),
                "font.size": 9,
                "text.parse_math": False,
                "axes.spines.top": False,
                "axes.spines.right": False,
            }
        ),
    ):
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from", category=UserWarning)
        yield


def _legend_above(ax: Axes, entries: int) -> None:
    """The legend in one row above the plot, outside it: inside, it hid the bars beneath it
    (issue 19). ``tight_layout`` then makes room for it; the figure is ``LEGEND_INCHES`` taller."""
    ax.legend(
        loc="lower left", bbox_to_anchor=(0, 1.02), ncols=entries, frameon=False, borderaxespad=0
    )


def short(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def _svg(fig: Figure, label: str) -> str:
    """The figure as an ``<svg>`` element to inline, with ``label`` as its text alternative."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    escaped = html.escape(label, quote=True)
    head_end = text.index(">") + 1
    return (
        text[:4]
        + f' role="img" aria-label="{escaped}" class="chart"'
        + text[4:head_end]
        + f"<title>{escaped}</title>"
        + text[head_end:]
    )


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    total: float
    shortlisted: bool
    ranked: bool


def ranking_chart(
    bars: Sequence[Bar], cutoff: float | None, n_shortlisted: int, *, label: str, axis: str
) -> str:
    """Horizontal bars of the totals in the result's order, shortlisted first, the cut-off
    drawn as a line between the last shortlisted and the first row below it, and at its total."""
    with _drawing():
        fig = Figure(figsize=(7.5, 0.9 + 0.28 * max(len(bars), 1)))
        ax = fig.add_subplot()
        positions = list(range(len(bars)))
        colours = [
            SHORTLISTED if b.shortlisted else NOT_SELECTED if b.ranked else UNRANKED for b in bars
        ]
        ax.barh(positions, [b.total for b in bars], color=colours)
        ax.set_yticks(positions, labels=[short(b.label) for b in bars])
        ax.invert_yaxis()
        ax.set_xlabel(axis)
        if cutoff is not None:
            ax.axvline(cutoff, color=CUTOFF, linestyle="--", linewidth=1)
        if 0 < n_shortlisted < len(bars):
            ax.axhline(n_shortlisted - 0.5, color=CUTOFF, linewidth=1.5)
        fig.tight_layout()
        return _svg(fig, label)


def spread_chart(series: Sequence[tuple[str, Sequence[float]]], *, label: str, axis: str) -> str:
    """One box plot per criterion of its scores, each score drawn as a point beside it."""
    with _drawing():
        fig = Figure(figsize=(7.5, 0.9 + 0.5 * max(len(series), 1)))
        ax = fig.add_subplot()
        if series:
            ax.boxplot(
                [list(values) for _, values in series],
                orientation="horizontal",
                tick_labels=[short(name) for name, _ in series],
            )
            for i, (_, values) in enumerate(series, start=1):
                if len(values) > SCATTER_POINTS:
                    continue  # thousands of points: the box says it, the SVG stays small
                ax.scatter(list(values), [i + 0.25] * len(values), s=8, color=CUTOFF, alpha=0.5)
            ax.invert_yaxis()
        ax.set_xlabel(axis)
        fig.tight_layout()
        return _svg(fig, label)


def paired_bars(
    names: Sequence[str],
    first: Sequence[float],
    second: Sequence[float | None],
    legend: tuple[str, str],
    *,
    label: str,
    axis: str,
) -> str:
    """Two bars per name (a reviewer's mean before and after calibration)."""
    with _drawing():
        fig = Figure(figsize=(7.5, 0.9 + LEGEND_INCHES + 0.4 * max(len(names), 1)))
        ax = fig.add_subplot()
        positions = list(range(len(names)))
        ax.barh(
            [p - 0.2 for p in positions], first, height=0.4, color=NOT_SELECTED, label=legend[0]
        )
        ax.barh(
            [p + 0.2 for p in positions],
            [v if v is not None else 0 for v in second],
            height=0.4,
            color=CUTOFF,
            label=legend[1],
        )
        ax.set_yticks(positions, labels=[short(n) for n in names])
        ax.invert_yaxis()
        ax.set_xlabel(axis)
        _legend_above(ax, 2)
        fig.tight_layout()
        return _svg(fig, label)


def stacked_bars(
    names: Sequence[str],
    parts: Sequence[tuple[str, str, Sequence[int]]],
    *,
    label: str,
    axis: str,
) -> str:
    """Horizontal stacked counts per name: ``parts`` are (legend, colour, counts)."""
    with _drawing():
        fig = Figure(figsize=(7.5, 0.9 + LEGEND_INCHES + 0.3 * max(len(names), 1)))
        ax = fig.add_subplot()
        positions = list(range(len(names)))
        left = [0] * len(names)
        for legend, colour, counts in parts:
            ax.barh(positions, list(counts), left=list(left), color=colour, label=legend)
            left = [a + b for a, b in zip(left, counts, strict=True)]
        ax.set_yticks(positions, labels=[short(n) for n in names])
        ax.invert_yaxis()
        ax.set_xlabel(axis)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        _legend_above(ax, len(parts))
        fig.tight_layout()
        return _svg(fig, label)
