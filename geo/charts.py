"""Charts as inline SVG text, drawn from plain numbers: no script, no chart library, nothing to load.

:func:`bar_chart` draws horizontal bars, grouped by category (a corridor, a status, a district …): one bar per
series in each category, a value label at its end, and an optional reference mark per category (the 2021
target) drawn as a dashed line across the category's bars, never added to them. An unknown value (``None``) is
written "未知 unknown" where its bar would start: it is never drawn as 0. Titles, category names, axis and
legend are bilingual (Chinese, then English); every bar, mark and unknown value carries a ``<title>`` (its
tooltip); every text is XML-escaped.

Colours are SVG presentation attributes taken from :mod:`geo.style` (status and corridor colours), so the SVG
needs no ``style`` attribute (CSP); the look of text, axes and the three bar looks (``solid``, ``light``: a
lighter fill, ``hollow``: an outline, as the maps draw possible hits) comes from classes, styled by
``webmap/static/app/charts.css``.

The ``*_chart`` helpers turn what :mod:`geo.analysis` and :mod:`geo.chain` computed into charts;
:func:`projects_by_status` and :func:`investment_by_district` compute the figures the data page charts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

import pandas as pd

from geo import style
from geo.analysis import known_investment
from geo.fonts import text_width_em
from geo.formats import QUALIFIER_LABELS

#: Width of every chart's viewBox (px); the page scales it to its column.
WIDTH = 760
LABEL_W = 230  # category labels, right-aligned left of the plot
RIGHT_PAD = 170  # room for value labels right of the longest bar
BAR_H = 16
BAR_GAP = 3
BAND_PAD = 12
LOOKS = ("solid", "light", "hollow")
#: How an unknown figure reads on a chart.
UNKNOWN: tuple[str, str] = ("未知", "unknown")
#: The three groups of a corridor's projects, kept apart (``geo.analysis.MEMBERSHIP_GROUPS``) and their bar looks.
GROUP_LABELS: dict[str, tuple[str, str]] = {
    "named": ("规划点名", "named in the plan"),
    "in_belt": ("确定在带内（未点名）", "certainly in the belt, not named"),
    "possibly_in_belt": ("可能在带内", "possibly in the belt"),
}
GROUP_LOOKS: dict[str, str] = {"named": "solid", "in_belt": "light", "possibly_in_belt": "hollow"}
TARGET_LABEL: tuple[str, str] = ("2021 年投资目标", "2021 investment target")
INVESTMENT_AXIS: tuple[str, str] = ("亿元", "100 million CNY")
COUNT_AXIS: tuple[str, str] = ("项目数", "projects")
#: Why a project figure is not progress towards the target: they measure different things.
TARGET_NOTE: tuple[str, str] = (
    "目标为 2021 年全年完成投资；项目投资为报道的项目总投资，口径不同；三组分开列出、不相加。括号内：有投资额的项目数/该组项目数。",
    ("The target is investment to be completed during 2021; a project's figure is its total investment as "
     "reported: not the same measure. The three groups are kept apart, never added. In brackets: projects with a "
     "figure / projects in the group."))


@dataclass(frozen=True)
class Series:
    """One bar per category: a bilingual name, the values (None: unknown), a colour (or one per category), a look
    (``solid``, ``light``, ``hollow``), and optionally the label and the tooltip of each bar."""

    name_zh: str
    name_en: str
    values: Sequence[float | None]
    color: str | Sequence[str] = "#4e79a7"
    look: str = "solid"
    labels: Sequence[str | None] | None = None
    tips: Sequence[str | None] | None = None
    empty: Sequence[bool] | None = None  # a category with nothing to count (no projects): not unknown

    def color_of(self, i: int) -> str:
        """The colour of the bar of category ``i``."""
        return self.color if isinstance(self.color, str) else self.color[i]


@dataclass(frozen=True)
class Reference:
    """A mark per category (None: none), e.g. the target, drawn as a dashed line across the category's bars."""

    name_zh: str
    name_en: str
    values: Sequence[float | None]


def _attr(value: object) -> str:
    return quoteattr(str(value))


def _text(value: object) -> str:
    return escape(str(value))


def _id(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", value).strip("-") or "chart"


def number(value: float) -> str:
    """A figure as a chart writes it: at most 3 decimals, no trailing zeros."""
    return f"{round(float(value), 3):g}"


def qualified(value: float | None, qualifier: str | None = None) -> str:
    """A figure with its qualifier in both languages ("约 about 140"); "未知 unknown" for None."""
    if value is None:
        return " ".join(UNKNOWN)
    words = QUALIFIER_LABELS.get(qualifier or "")
    return f"{words[0]} {words[1]} {number(value)}" if words else number(value)


def nice_ticks(top: float, integer: bool = False, most: int = 6) -> list[float]:
    """Round tick values from 0 to at least ``top`` (at most ``most`` + 1 ticks; whole numbers with ``integer``)."""
    top = max(float(top), 1.0 if integer else 1e-9)
    raw = top / most
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    if integer:
        step = max(1.0, math.ceil(step))
    n = math.ceil(top / step - 1e-9)
    return [round(i * step, 10) for i in range(n + 1)]


def text_width(text: str, size: float) -> float:
    """About how wide ``text`` is (px) at font ``size`` (:func:`geo.fonts.text_width_em` ems)."""
    return text_width_em(text) * size


def wrap(text: str, width: float, size: float, most: int | None = None) -> list[str]:
    """``text`` broken into lines no wider than ``width`` px at font ``size`` (at spaces when it has them, else
    anywhere); with ``most``, the last kept line ends with an ellipsis when text was left out."""
    lines: list[str] = []
    line = ""
    for token in re.findall(r"\S+\s*|\s+", text) if " " in text else list(text):
        if line and text_width((line + token).rstrip(), size) > width:
            lines.append(line.rstrip())
            line = token.lstrip()
        else:
            line += token
    if line.strip():
        lines.append(line.rstrip())
    if most is not None and len(lines) > most:
        kept = lines[:most]
        last = kept[-1]
        while last and text_width(last + "…", size) > width:
            last = last[:-1]
        lines = [*kept[:-1], last.rstrip() + "…"]
    return lines or [""]


CAT_ZH_PX, CAT_EN_PX, NOTE_PX = 13.0, 11.0, 11.0


def bar_chart(chart_id: str, title: tuple[str, str], categories: Sequence[tuple[str, str]],
              series: Sequence[Series], *, axis: tuple[str, str], reference: Reference | None = None,
              integer: bool = False, note: tuple[str, str] | None = None) -> str:
    """SVG text of a horizontal grouped bar chart: ``categories`` as ``(zh, en)`` names, one bar per series in
    each, an optional reference mark per category; every text escaped, unknown values written, never drawn."""
    for s in series:
        if s.look not in LOOKS:
            raise ValueError(f"unknown look {s.look!r}; expected one of: {', '.join(LOOKS)}")
        if len(s.values) != len(categories):
            raise ValueError(f"series {s.name_en!r} has {len(s.values)} values for {len(categories)} categories")
    if reference is not None and len(reference.values) != len(categories):
        raise ValueError("the reference needs one value (or None) per category")
    cid = _id(chart_id)
    known = [float(v) for s in series for v in s.values if v is not None]
    known += [float(v) for v in (reference.values if reference else []) if v is not None]
    ticks = nice_ticks(max(known, default=0.0), integer=integer)
    top = ticks[-1] or 1.0
    x0, x1 = LABEL_W + 10, WIDTH - RIGHT_PAD

    def x(value: float) -> float:
        return round(x0 + (x1 - x0) * max(float(value), 0.0) / top, 1)

    parts: list[str] = [
        f'<title id="{cid}-title">{_text(title[0])} · {_text(title[1])}</title>',
        f'<desc id="{cid}-desc">{_text(_describe(categories, series, reference))}</desc>',
        f'<text class="chart-title" x="10" y="20">{_text(title[0])}</text>',
        f'<text class="chart-subtitle" x="10" y="37">{_text(title[1])}</text>']
    y = 52.0
    for s in series:  # the legend: one row per item (bilingual names are long)
        color = s.color if isinstance(s.color, str) else "#666666"
        parts.append(f'<g class="legend-item"><rect class="bar bar-{s.look}" x="{x0}" y="{y}" width="14" '
                     f'height="10" fill={_attr(color)} stroke={_attr(color)}/><text class="legend" x="{x0 + 20}" '
                     f'y="{y + 9}">{_text(s.name_zh)} {_text(s.name_en)}</text></g>')
        y += 16
    if reference is not None:
        parts.append(f'<g class="legend-item"><line class="reference" x1="{x0 + 7}" x2="{x0 + 7}" y1="{y - 2}" '
                     f'y2="{y + 12}"/><text class="legend" x="{x0 + 20}" y="{y + 9}">{_text(reference.name_zh)} '
                     f'{_text(reference.name_en)}</text></g>')
        y += 16
    plot_top = y = y + 8
    bars_h = len(series) * (BAR_H + BAR_GAP) - BAR_GAP
    for i, (czh, cen) in enumerate(categories):
        zh_lines = wrap(czh, LABEL_W - 4, CAT_ZH_PX, most=1)
        en_lines = wrap(cen, LABEL_W - 4, CAT_EN_PX, most=2)
        label_h = 15 * len(zh_lines) + 13 * len(en_lines)
        mark_h = 13 if reference is not None and reference.values[i] is not None else 0  # the mark's label
        band_h = max(bars_h + mark_h, label_h) + 2 * BAND_PAD
        first = y + (band_h - label_h) / 2 + 11
        parts.append('<g class="category">')
        parts.append(f'<text class="cat-label" text-anchor="end"><title>{_text(czh)} {_text(cen)}</title>'
                     + "".join(f'<tspan class="cat-zh" x="{LABEL_W}" y="{first + 15 * k:.1f}">{_text(t)}</tspan>'
                               for k, t in enumerate(zh_lines))
                     + "".join(f'<tspan class="cat-en" x="{LABEL_W}" y="{first + 15 * len(zh_lines) + 13 * k:.1f}">'
                               f'{_text(t)}</tspan>' for k, t in enumerate(en_lines))
                     + "</text>")
        bar_top = y + (band_h - bars_h + mark_h) / 2
        for k, s in enumerate(series):
            by = round(bar_top + k * (BAR_H + BAR_GAP), 1)
            value = s.values[i]
            label = (s.labels[i] if s.labels is not None and s.labels[i] is not None
                     else (number(value) if value is not None else " ".join(UNKNOWN)))
            tip = (s.tips[i] if s.tips is not None and s.tips[i] is not None
                   else f"{czh} {cen} · {s.name_zh} {s.name_en}: {label}")
            color = s.color_of(i)
            if value is None and s.empty is not None and s.empty[i]:
                parts.append(f'<g class="bar-group empty"><title>{_text(tip)}</title><text class="value empty" '
                             f'x="{x0 + 7}" y="{by + BAR_H - 4}">{_text(label)}</text></g>')
                continue
            if value is None:
                parts.append(f'<g class="bar-group unknown"><title>{_text(tip)}</title><line class="unknown-tick" '
                             f'x1="{x0}" x2="{x0 + 4}" y1="{by + BAR_H / 2}" y2="{by + BAR_H / 2}"/><text '
                             f'class="value unknown" x="{x0 + 7}" y="{by + BAR_H - 4}">{_text(label)}</text></g>')
                continue
            width = x(value) - x0
            parts.append(f'<g class="bar-group"><title>{_text(tip)}</title><rect class="bar bar-{s.look}" '
                         f'x="{x0}" y="{by}" width="{width:.1f}" height="{BAR_H}" fill={_attr(color)} '
                         f'stroke={_attr(color)}/><text class="value" x="{x0 + width + 5:.1f}" '
                         f'y="{by + BAR_H - 4}">{_text(label)}</text></g>')
        ref = reference.values[i] if reference is not None else None
        if reference is not None and ref is not None:
            rx, rv = x(ref), number(ref)
            tip = f"{czh} {cen} · {reference.name_zh} {reference.name_en}: {rv}"
            parts.append(f'<g class="reference-mark"><title>{_text(tip)}</title><line class="reference" '
                         f'x1="{rx}" x2="{rx}" y1="{bar_top - 4:.1f}" y2="{bar_top + bars_h + 4:.1f}"/><text '
                         f'class="reference-label" x="{rx + 3}" y="{bar_top - 5:.1f}">{_text(reference.name_zh)} '
                         f'{_text(rv)}</text></g>')
        parts.append("</g>")
        y += band_h
    plot_bottom = max(y, plot_top + 20)
    parts.append(f'<line class="axis" x1="{x0}" x2="{x1}" y1="{plot_bottom:.1f}" y2="{plot_bottom:.1f}"/>'
                 f'<line class="axis" x1="{x0}" x2="{x0}" y1="{plot_top:.1f}" y2="{plot_bottom:.1f}"/>')
    for t in ticks:
        tx = x(t)
        parts.append(f'<line class="grid" x1="{tx}" x2="{tx}" y1="{plot_top:.1f}" y2="{plot_bottom:.1f}"/>'
                     f'<text class="tick" x="{tx}" y="{plot_bottom + 14:.1f}" text-anchor="middle">{number(t)}</text>')
    parts.append(f'<text class="axis-label" x="{(x0 + x1) / 2:.1f}" y="{plot_bottom + 31:.1f}" '
                 f'text-anchor="middle">{_text(axis[0])} · {_text(axis[1])}</text>')
    height = plot_bottom + 40
    for line in (note or ()):
        for piece in wrap(line, WIDTH - 20, NOTE_PX):
            height += 15
            parts.append(f'<text class="note" x="10" y="{height:.1f}">{_text(piece)}</text>')
    height = math.ceil(height + 8)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" id="{cid}" viewBox="0 0 {WIDTH} {height}" '
            f'width="{WIDTH}" height="{height}" role="img" aria-labelledby="{cid}-title {cid}-desc">'
            + "".join(parts) + "</svg>")


def _describe(categories: Sequence[tuple[str, str]], series: Sequence[Series], reference: Reference | None) -> str:
    """The chart's figures as one line of text (for screen readers and search)."""
    parts = []
    for i, (zh, en) in enumerate(categories):
        cells = [f"{s.name_en}: {number(s.values[i]) if s.values[i] is not None else 'unknown'}" for s in series]
        if reference is not None and reference.values[i] is not None:
            cells.append(f"{reference.name_en}: {number(reference.values[i])}")  # type: ignore[arg-type]
        parts.append(f"{zh} {en}: " + ", ".join(cells))
    return "; ".join(parts)


# -- the charts of the pages ---------------------------------------------------------------------------------

def _investment_cell(row: Mapping[str, object], group: str) -> tuple[float | None, str, str, bool]:
    """(value, label, tooltip, empty) of one group's known investment in a corridor's standing."""
    key = {"named": "investment_known_cny_100m", "in_belt": "investment_in_belt_cny_100m",
           "possibly_in_belt": "investment_possibly_in_belt_cny_100m"}[group]
    counts = {"named": ("projects_with_investment", "projects_without_investment"),
              "in_belt": ("projects_in_belt_with_investment", "projects_in_belt_without_investment"),
              "possibly_in_belt": ("projects_possibly_in_belt_with_investment",
                                   "projects_possibly_in_belt_without_investment")}[group]
    value = row.get(key)
    have, lack = int(row.get(counts[0]) or 0), int(row.get(counts[1]) or 0)
    total = have + lack
    zh, en = GROUP_LABELS[group]
    if total == 0:
        return None, "无项目 no projects", f"{zh} {en}: 无项目 no projects", True
    label = f"{qualified(value, row.get(key + '_qualifier'))} ({have}/{total})"  # type: ignore[arg-type]
    tip = (f"{zh} {en}: {qualified(value, row.get(key + '_qualifier'))}{'' if value is None else ' 亿元'} · "  # type: ignore[arg-type]
           f"{total} 个项目中 {have} 个有投资额 {have} of {total} projects with a figure")
    return (None if value is None else float(value)), label, tip, False  # type: ignore[arg-type]


def corridor_investment_chart(rows: Sequence[Mapping[str, object]], chart_id: str = "corridor-investment") -> str:
    """Target vs known project investment (亿元) of corridors (``geo.analysis.corridor_standing`` rows): per
    corridor one bar per group (named, certainly in the belt, possibly in it), never added, and the target."""
    cells = {g: [_investment_cell(r, g) for r in rows] for g in GROUP_LABELS}
    colors = [style.corridor_color(str(r["id"])) for r in rows]
    series = [Series(zh, en, [c[0] for c in cells[g]], colors, GROUP_LOOKS[g], [c[1] for c in cells[g]],
                     [c[2] for c in cells[g]], [c[3] for c in cells[g]]) for g, (zh, en) in GROUP_LABELS.items()]
    title = (("各产业带 2021 目标与已知项目投资" if len(rows) > 1 else f"{rows[0]['name_zh']}：2021 目标与已知项目投资"),
             ("Corridors: 2021 target vs known project investment" if len(rows) > 1
              else f"{rows[0]['name_en']}: 2021 target vs known project investment"))
    categories = [(str(r["name_zh"]), str(r["name_en"])) for r in rows]
    target = Reference(*TARGET_LABEL, [float(r["investment_target_2021_cny_100m"])  # type: ignore[arg-type]
                                       if r.get("investment_target_2021_cny_100m") is not None else None for r in rows])
    return bar_chart(chart_id, title, categories, series, axis=INVESTMENT_AXIS, reference=target, note=TARGET_NOTE)


def corridor_status_chart(row: Mapping[str, object], chart_id: str = "corridor-status") -> str:
    """A corridor's projects by status (``geo.analysis.corridor_standing`` row): one bar per group (named,
    certainly in the belt, possibly in it), coloured by status."""
    keys = {"named": "projects_by_status", "in_belt": "projects_by_status_in_belt",
            "possibly_in_belt": "projects_by_status_possibly_in_belt"}
    counts = {g: dict(row.get(k) or {}) for g, k in keys.items()}  # type: ignore[call-overload]
    statuses = [s for s in style.STATUS_LABELS if any(s in c for c in counts.values())] or ["unknown"]
    colors = [style.status_color(s) for s in statuses]
    series = [Series(zh, en, [float(counts[g].get(s, 0)) for s in statuses], colors, GROUP_LOOKS[g])
              for g, (zh, en) in GROUP_LABELS.items()]
    title = (f"{row['name_zh']}：项目状态", f"{row['name_en']}: projects by status")
    return bar_chart(chart_id, title, [style.STATUS_LABELS[s] for s in statuses], series, axis=COUNT_AXIS,
                     integer=True)


def projects_by_status(projects: pd.DataFrame) -> dict[str, int]:
    """How many projects have each status (every status of ``geo.style.STATUS_LABELS``, in its order)."""
    values = projects["status"].where(projects["status"].isin(list(style.STATUS_LABELS)), "unknown")
    return {s: int((values == s).sum()) for s in style.STATUS_LABELS}


def status_chart(counts: Mapping[str, int], chart_id: str = "projects-by-status") -> str:
    """Projects by status of the metro area (from :func:`projects_by_status`), coloured by status."""
    statuses = list(counts)
    series = [Series("项目", "projects", [float(counts[s]) for s in statuses],
                     [style.status_color(s) for s in statuses])]
    return bar_chart(chart_id, ("项目状态", "Projects by status"),
                     [style.STATUS_LABELS.get(s, (s, s)) for s in statuses], series, axis=COUNT_AXIS, integer=True)


def chain_link_chart(coverage: Mapping[str, object], chart_id: str = "projects-by-chain-link") -> str:
    """Projects and firms serving each link of a chain (``geo.chain.coverage``), in chain order."""
    links: list[Mapping[str, object]] = list(coverage["links"])  # type: ignore[call-overload]
    by_layer = {layer: [float(sum(1 for b in link["by"] if b["layer"] == layer))  # type: ignore[attr-defined]
                        for link in links] for layer in ("projects", "institutions")}
    series = [Series("项目", "projects", by_layer["projects"], style.LAYER_COLORS["projects"]),
              Series("企业与高校", "firms and institutions", by_layer["institutions"],
                     style.LAYER_COLORS["institutions"], "light")]
    zh, en = (str(coverage.get("chain_name_zh") or coverage.get("chain")),
              str(coverage.get("chain_name_en") or coverage.get("chain")))
    return bar_chart(chart_id, (f"{zh}：各环节的项目和企业", f"{en}: projects and firms by chain link"),
                     [(str(link["name_zh"]), str(link["name_en"])) for link in links], series,
                     axis=("个数", "count"), integer=True,
                     note=("一个环节没有项目或企业，只说明两篇报道未提到，不说明洛阳没有。",
                           "A link with none means the two articles name none, not that Luoyang has none."))


def investment_by_district(projects: pd.DataFrame, districts: pd.DataFrame) -> list[dict[str, object]]:
    """Known project investment (亿元) by the county (or, for a project located only to the city, the city) its
    record names: total (None when no project there has a figure: unknown, never 0), qualifier, counts."""
    names = {r.code: (r.name_zh, r.name_en) for r in districts.itertuples()}
    cities = {r.city_code: (f"{r.city_zh}（仅定位到城市）", f"{r.city_en} (located only to the city)")
              for r in districts.itertuples()}
    out = []
    frame = projects.assign(_code=projects["district_code"].astype(object).where(projects["district_code"].notna(),
                                                                                   None))
    for code, rows in frame.groupby(frame["_code"].fillna(""), sort=True):
        known = known_investment(rows)
        zh, en = names.get(code) or cities.get(code) or (("区县未知", "district unknown") if not code else (code, code))
        out.append({"code": code or None, "name_zh": zh, "name_en": en, "investment_cny_100m": known["total"],
                    "investment_cny_100m_qualifier": known["qualifier"], "projects": len(rows),
                    "projects_with_investment": known["with"]})
    return sorted(out, key=lambda r: (r["investment_cny_100m"] is None, -(r["investment_cny_100m"] or 0),
                                      -r["projects"], str(r["code"])))  # type: ignore[operator]


def district_investment_chart(rows: Sequence[Mapping[str, object]], chart_id: str = "investment-by-district") -> str:
    """Known project investment by district (from :func:`investment_by_district`), with how many projects of each
    have a figure."""
    values = [None if r["investment_cny_100m"] is None else float(r["investment_cny_100m"])  # type: ignore[arg-type]
              for r in rows]
    figures = [qualified(v, r.get("investment_cny_100m_qualifier")) for v, r in zip(values, rows)]  # type: ignore[arg-type]
    labels = [f"{f} ({r['projects_with_investment']}/{r['projects']})" for f, r in zip(figures, rows)]
    tips = [f"{r['name_zh']} {r['name_en']}: {f}{' 亿元' if v is not None else ''} · {r['projects']} 个项目中 "
            f"{r['projects_with_investment']} 个有投资额 {r['projects_with_investment']} of {r['projects']} projects "
            "with a figure" for f, v, r in zip(figures, values, rows)]
    series = [Series("已知项目投资", "known project investment", values, style.LAYER_COLORS["projects"], "solid",
                     labels, tips)]
    return bar_chart(chart_id, ("各区县已知项目投资", "Known project investment by district"),
                     [(str(r["name_zh"]), str(r["name_en"])) for r in rows], series, axis=INVESTMENT_AXIS,
                     note=("括号内为有投资额的项目数/项目总数；未知不是 0。",
                           "In brackets: projects with a figure / all projects there; unknown is not 0."))


__all__ = [
    "CAT_EN_PX",
    "CAT_ZH_PX",
    "COUNT_AXIS",
    "GROUP_LABELS",
    "GROUP_LOOKS",
    "INVESTMENT_AXIS",
    "LOOKS",
    "TARGET_LABEL",
    "TARGET_NOTE",
    "UNKNOWN",
    "Reference",
    "Series",
    "bar_chart",
    "chain_link_chart",
    "corridor_investment_chart",
    "corridor_status_chart",
    "district_investment_chart",
    "investment_by_district",
    "nice_ticks",
    "number",
    "projects_by_status",
    "qualified",
    "status_chart",
    "text_width",
    "wrap",
]
