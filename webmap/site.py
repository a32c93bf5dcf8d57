"""The site-selection page (``/site``): a form, the ranked parks with reasons, and the map of scores.

The page puts the ranked list and the map (an iframe of ``/site/map``) side by side on a wide screen and
stacks them (form, map, list) on a phone (``static/app/site.css``). ``static/app/site.js`` links a list
row and its marker both ways by ``postMessage`` between the page and the frame (same origin only), and
``static/app/site_map.js`` pushes apart the markers of parks that share one stand-in point (or lie a few
pixels apart at the current zoom), each with a leader line to its point, so every park is visible and
clickable, and puts branca's colour scale into the map's legend. Errors of the request are explained in both languages in the page
(:func:`explain_error`), never as raw JSON.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping

import folium
import shapely
from branca.colormap import LinearColormap
from branca.element import CssLink, Element, JavascriptLink
from flask import Blueprint, Response, render_template, request, url_for

from geo import formats, siting
from geo.errors import GeoError, ValidationError
from geo.schema import STATUSES
from geo.style import SCORE_COLORS, STATUS_LABELS
from webmap import maps
from webmap.api import MAX_SPACING_KM, MIN_SPACING_KM, request_args, site_result, surface_result
from webmap.assets import offline_map
from webmap.data import current_data

bp = Blueprint("site", __name__)

#: Criteria that score a place (a hexagon of the surface); theme and status belong to a park only.
SURFACE_CRITERIA = ("corridor", "chain", "talent", "anchor")

#: Each parameter of /site by name, in Chinese and English (for the error message in the page).
FIELD_LABELS: dict[str, tuple[str, str]] = {
    "industry": ("产业", "industry"),
    "weights": ("权重", "weights"),
    "within_km": ("距离 (km)", "within (km)"),
    "of": ("之内", "of"),
    "feature": ("之内", "of"),
    "lon": ("经度", "longitude"),
    "lat": ("纬度", "latitude"),
    "crs": ("坐标系", "coordinate system"),
    "district": ("行政区", "district"),
    "exclude_district": ("排除行政区", "excluded district"),
    "corridor": ("产业带", "corridor"),
    "min_status": ("最低状态", "minimum status"),
    "top": ("显示前", "top"),
    "chain_km": ("产业链邻近半径 (km)", "chain radius (km)"),
    "spacing_km": ("六边形间距 (km)", "hexagon spacing (km)"),
}
#: Parameters /site accepts that its form has no field for: kept as hidden inputs, so a new ranking keeps them.
KEPT_PARAMS = ("lon", "lat", "crs", "exclude_district", "chain_km", "spacing_km")


def score_colormap() -> LinearColormap:
    """Colour ramp of suitability scores 0–100 (with its legend, sized for the map's legend box)."""
    cmap = LinearColormap(SCORE_COLORS, vmin=0, vmax=100, caption="适宜性得分 suitability score (0–100)",
                          tick_labels=[0, 25, 50, 75, 100])
    cmap.width = 230  # branca draws its legend 450 px wide
    return cmap


def text_color(background: str) -> str:
    """Black or white, whichever reads better on ``background`` (``#rrggbb`` or ``#rrggbbaa``)."""
    r, g, b = (int(background[i:i + 2], 16) for i in (1, 3, 5))
    return "#000" if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "#fff"


# -- errors in both languages ----------------------------------------------------------------------------
def _range_zh(text: str) -> str:
    return text.replace("value", "值").replace("<=", "≤")


def _criteria_zh(names: str) -> str:
    return "、".join(f"{siting.CRITERIA_LABELS[k][0]} {k}" if k in siting.CRITERIA_LABELS else k
                    for k in (n.strip() for n in names.split(",")) if k)


#: Patterns of the English messages of geo.params / geo.siting / the API -> the same in Chinese.
_MESSAGES_ZH: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"expected (a whole number|a number)(?: \((.*)\))?, got (.*)"),
     lambda m: f"须为{'整数' if m[1] == 'a whole number' else '数字'}"
               f"{'（' + _range_zh(m[2]) + '）' if m[2] else ''}，收到的是 {m[3]}"),
    (re.compile(r"unknown criterion (.*?); expected one of: (.*)"),
     lambda m: f"没有名为 {m[1]} 的准则；可用的准则：{_criteria_zh(m[2])}"),
    (re.compile(r"weight of (\w+) must be a number >= 0, got (.*)"),
     lambda m: f"准则“{siting.CRITERIA_LABELS.get(m[1], (m[1],))[0]}”的权重须为不小于 0 的数字，收到的是 {m[2]}"),
    (re.compile(r"at least one weight must be > 0"), lambda m: "至少要有一个权重大于 0"),
    (re.compile(r"no weighted criterion applies; give a weight > 0 to one of: (.*)"),
     lambda m: f"没有可用的加权准则；请给以下准则之一大于 0 的权重：{_criteria_zh(m[1])}"),
    (re.compile(r"(\w+) is required"), lambda m: "必须填写"),
    (re.compile(r"(\w+) is used only with (\w+).*"),
     lambda m: f"只能与“{FIELD_LABELS.get(m[2], (m[2],))[0]}”一起使用；请填写“{FIELD_LABELS.get(m[2], (m[2],))[0]}”"
               f"或去掉此项"),
    (re.compile(r"within_km needs a feature \(of\) or lon and lat"),
     lambda m: "距离约束需要一个参照：请在“之内”中选择园区或产业带（或给出经纬度）"),
    (re.compile(r"give (\w+) and (\w+), or (\w+), not both"), lambda m: "参照只能是一个：经纬度或“之内”的要素，不能同时给出"),
    (re.compile(r"give both (\w+) and (\w+).*"), lambda m: "经度和纬度须同时给出"),
    (re.compile(r"crs is the system of.*"), lambda m: "坐标系只用于经纬度；请给出经纬度或去掉坐标系"),
    (re.compile(r"expected at most (\d+) characters.*"), lambda m: f"最多 {m[1]} 个字符"),
    (re.compile(r"expected text without control characters"), lambda m: "不能含控制字符"),
    (re.compile(r"unknown feature id (.*)"), lambda m: f"找不到编号为 {m[1]} 的要素"),
    (re.compile(r"unknown (\w+) (.+?)(?:; expected one of: .*)?"), lambda m: f"没有 {m[2]} 这一项；请从列表中选择"),
    (re.compile(r".*must be in \[(.*)\], got (.*)"), lambda m: f"须在 {m[1]} 之间，收到的是 {m[2]}"),
]


def explain_error(exc: GeoError) -> dict[str, object]:
    """A bad request to /site in both languages: which parameter (by its form label) and what is wrong with it.

    ``zh`` and ``en`` are plain text (the template escapes them); ``en`` is the API's own message."""
    field = exc.field
    label_zh, label_en = FIELD_LABELS.get(field or "", (field or "", field or ""))
    what = next((fn(m) for pattern, fn in _MESSAGES_ZH if (m := pattern.fullmatch(exc.detail))),
                "请检查此参数（英文说明见下）")
    zh = f"“{label_zh}”（{field}）{what}" if field else str(what)
    where = "" if not field else f"{field}: " if label_en == field else f"{label_en} ({field}): "
    return {"field": field, "label_zh": label_zh, "label_en": label_en, "zh": zh, "en": where + exc.detail,
            "message": str(exc)}


# -- the page ---------------------------------------------------------------------------------------------
def surface_note(spacing_km: float, shown: bool) -> dict[str, str]:
    """What the hexagon surface shows, in both languages (under the map on the page, and in the map's legend):
    ``zh``/``en`` the explanation, ``short_zh``/``short_en`` the legend's line."""
    names_zh = "、".join(siting.CRITERIA_LABELS[k][0] for k in SURFACE_CRITERIA)
    names_en = ", ".join(siting.CRITERIA_LABELS[k][1] for k in SURFACE_CRITERIA)
    spacing = f"{spacing_km:g}"
    if not shown:
        return {"zh": f"未绘制适宜性面：只有园区自身的准则（园区主题、园区状态）有权重，而六边形只按地点准则（{names_zh}）打分。",
                "en": f"No suitability surface: only the park's own criteria (park theme, park status) are weighted, "
                      f"and a hexagon is scored on the place criteria ({names_en}) only.",
                "short_zh": "未绘制六边形：只有园区自身的准则有权重",
                "short_en": "no hexagons: only park criteria are weighted"}
    return {
        "zh": f"六边形是适宜性面：每个六边形的中心（中心间距 {spacing} km）当作一处厂址打分，0–100，颜色越深越适宜；"
              f"只用地点准则（{names_zh}），不含园区主题和园区状态，所以它评价的是地点而不是园区，"
              f"颜色不等于园区得分。悬停可看期望得分和最低–最高可能得分。",
        "en": f"The hexagons are the suitability surface: the centre of each hexagon (centres {spacing} km apart) is "
              f"scored as a plant site, 0–100, darker is more suitable, on the place criteria only ({names_en}), "
              f"without park theme and park status: it scores places, not parks, and a colour is not a park's "
              f"score. Hover for the expected score and its lowest–highest possible score.",
        "short_zh": f"六边形：地点的得分（中心间距 {spacing} km），不是园区的得分",
        "short_en": f"hexagons: places scored {spacing} km apart, not parks",
    }


MARKER_NOTE = {
    "zh": "圆圈内数字为园区排名，颜色为期望得分；“5=” 表示并列第 5。细线通向园区的（替代）位置：几个园区共用一个替代位置"
          "（如只定位到区县时的区县政府驻地）或彼此很近时，标记被推开排列，都能看到、都能点击。",
    "en": "Numbered circles: the park's rank, coloured by its expected score; “5=” marks a tie for #5. A thin line "
          "leads to the park's (stand-in) point: parks that share one stand-in point (a county seat, for a park "
          "located only to a district) or lie close together are pushed apart, so each can be seen and clicked.",
}


def kept_params(args, error: Mapping[str, object] | None) -> dict[str, list[str]]:
    """The given parameters the form has no field for (hidden inputs), but not the one an error names: a new
    ranking from the form then drops it (lon, lat and crs go together)."""
    bad = {error["field"]} if error else set()
    if bad & {"lon", "lat", "crs"}:
        bad |= {"lon", "lat", "crs"}
    return {k: args.getlist(k) for k in KEPT_PARAMS if args.get(k) and k not in bad}


def _surface(args, data, industry: str):
    """The hexagon surface of the request, or None when only park criteria (theme, status) are weighted."""
    try:
        return surface_result(args, data, industry)[1]
    except ValidationError as exc:  # only park criteria weighted: a hexagon has nothing to score
        if exc.field != "weights":
            raise
        return None


@bp.get("/site")
def site_page() -> str:
    """Form, ranked list (expected score, its range, ties) with reasons and breakdown, and the map (an iframe of
    /site/map with the same query) beside it."""
    data = current_data()
    industries = siting.read_industries().to_dict("records")
    result, error, surface_shown = None, None, True
    spacing_km = siting.HEX_KM
    if request.args.get("industry"):
        args = request_args()
        try:
            result = site_result(args, data)
            spacing_km = args.number("spacing_km", siting.HEX_KM, minimum=MIN_SPACING_KM, maximum=MAX_SPACING_KM)
            surface_shown = _surface(args, data, str(result.industry["id"])) is not None
        except GeoError as exc:
            if exc.http_status >= 500:
                raise
            result, error = None, explain_error(exc)
    ranking = formats.records(result.ranking) if result is not None else []
    colors = score_colormap()
    for r in ranking:
        r["color"] = colors(r["score"])
        r["text_color"] = text_color(r["color"])
        r["rank_label"] = f"{r['tie_rank']}=" if r.get("tied_with") else str(r["rank"])
    try:
        weights = siting.parse_weights(request.args.get("weights"))
    except ValidationError:
        weights = siting.DEFAULT_WEIGHTS
    return render_template(
        "site.html", industries=industries, args=request.args, result=result, ranking=ranking, error=error,
        weights=weights,
        labels=siting.CRITERIA_LABELS, statuses=STATUSES, status_labels=STATUS_LABELS, mc_draws=siting.MC_DRAWS,
        park_names=dict(zip(data.layers["parks"]["id"], data.layers["parks"]["name_zh"])),
        corridors=data.layers["corridors"][["id", "name_zh", "name_en"]].to_dict("records"),
        districts=data.layers["districts"][["code", "name_zh", "name_en"]].to_dict("records"),
        parks=data.layers["parks"][["id", "name_zh", "name_en"]].to_dict("records"),
        query=request.query_string.decode(),
        kept=kept_params(request.args, error),
        surface_note=surface_note(spacing_km, surface_shown), marker_note=MARKER_NOTE,
        score_colors=SCORE_COLORS,
    )


# -- the map ----------------------------------------------------------------------------------------------
def shared_points(ranking) -> dict[str, list[str]]:
    """Park id -> the ids of the other listed parks drawn at exactly the same point (a shared stand-in)."""
    at: dict[tuple[float, float], list[str]] = {}
    for pid, geom in zip(ranking["id"], ranking.geometry):
        at.setdefault((round(geom.x, 7), round(geom.y, 7)), []).append(pid)
    return {pid: [o for o in ids if o != pid] for ids in at.values() for pid in ids}


def _legend_html(note: Mapping[str, str]) -> str:
    """The map's legend: the score scale (branca's colour legend, drawn by d3 and moved in here by site_map.js),
    what the hexagons score, and what the markers mean."""
    e = html.escape
    return (
        '<details class="site-legend" id="site-legend" open><summary>图例 Legend</summary>'
        '<div class="site-legend-body"><div class="site-legend-scale" id="site-legend-scale"></div>'
        f'<p lang="zh-CN">{e(note["short_zh"])}</p><p lang="en">{e(note["short_en"])}</p>'
        '<p class="site-legend-marks"><span class="site-rank-sample">3</span> 排名 rank '
        '<span class="site-rank-sample">5=</span> 并列 tied '
        '<span class="site-legend-dot"></span> （替代）位置 (stand-in) point</p>'
        '</div></details>')


def escape_for_folium(text: object) -> str:
    """``text`` as HTML that is also safe inside folium's JavaScript template literals (`` `...` ``): folium puts
    tooltip and popup HTML between backticks unchanged (a popup's backticks aside), so ``${...}`` in a name would
    run; ``$``, backticks and backslashes become character references, which HTML shows as the same text."""
    return (html.escape(str(text)).replace("\\", "&#92;").replace("`", "&#96;").replace("$", "&#36;"))


def _candidate_html(rec, label: str, tie: str, shared: str) -> tuple[str, str]:
    """Tooltip and popup of a candidate park (escaped for HTML and for folium's script)."""
    e = escape_for_folium
    head = e(f"{label} {rec.name_zh} · {rec.name_en} — {rec.score:.1f} ({rec.score_min:.1f}–{rec.score_max:.1f})")
    tooltip = head + (f"<br>{e(tie)}" if tie else "") + (f"<br>{e(shared)}" if shared else "")
    popup = (f'<div class="site-popup"><b>{head}</b>'
             + (f'<div class="site-popup-tie">{e(tie)}</div>' if tie else "")
             + (f'<div class="site-popup-shared">{e(shared)}</div>' if shared else "")
             + f'<div class="meta">{e(rec.located_to_zh)} · {e(rec.located_to_en)}</div>'
             f'<p lang="zh-CN">{e(rec.reason_zh)}</p><p lang="en">{e(rec.reason_en)}</p></div>')
    return tooltip, popup


@bp.get("/site/map")
def site_map() -> Response:
    """The map of a site-selection result: suitability hexagons (with a legend saying what they score) and
    numbered candidates coloured by expected score; tied parks are marked ``5=``, and parks at one point are
    pushed apart around it (``site_map.js``), with tooltips giving the range, the ties and the shared stand-in."""
    data = current_data()
    args = request_args()
    result = site_result(args, data)
    spacing_km = args.number("spacing_km", siting.HEX_KM, minimum=MIN_SPACING_KM, maximum=MAX_SPACING_KM)
    surface = _surface(args, data, str(result.industry["id"]))
    cmap = score_colormap()
    m = offline_map(location=list(maps.CENTER), zoom_start=8, control_scale=True, min_zoom=6, max_zoom=18)
    base = folium.FeatureGroup(name="行政区 Districts").add_to(m)
    maps.add_districts(base, data.layers["districts"])
    if surface is not None:
        cells = surface[["score", "score_min", "score_max", "geometry"]].copy()
        for col in ("score", "score_min", "score_max"):
            cells[col] = cells[col].round(1)
        cells["geometry"] = shapely.set_precision(cells.geometry.values, 1e-5)  # ~1 m: a third less to send
        folium.GeoJson(
            cells,
            name="适宜性 Suitability surface",
            style_function=lambda f: {"fillColor": cmap(f["properties"]["score"]), "fillOpacity": 0.55, "weight": 0},
            tooltip=folium.GeoJsonTooltip(["score", "score_min", "score_max"],
                                          aliases=["适宜性 expected score (0–100)", "最低 lowest", "最高 highest"]),
        ).add_to(m)
    axes = folium.FeatureGroup(name="产业带 Corridors").add_to(m)
    belts = folium.FeatureGroup(name="产业带范围 Belts", show=False).add_to(m)
    maps.add_corridors(axes, belts, data.layers["corridors"], data.belts)
    cands = folium.FeatureGroup(name="候选园区 Candidate parks").add_to(m)
    ranks = dict(zip(result.ranking["id"], result.ranking["rank"])) if len(result.ranking) else {}
    names = dict(zip(result.ranking["id"], result.ranking["name_zh"])) if len(result.ranking) else {}
    shared = shared_points(result.ranking) if len(result.ranking) else {}
    for rec in result.ranking.itertuples():
        color = cmap(rec.score)
        tied = bool(rec.tied_with)
        label = f"#{rec.tie_rank}=" if tied else f"#{rec.rank}"
        tie = ""
        if tied:
            shown = [f"#{ranks[t]} {names[t]}" for t in rec.tied_with if t in ranks]
            hidden = len(rec.tied_with) - len(shown)
            tie = (f"并列第 {rec.tie_rank} · tied for #{rec.tie_rank} with "
                   + ", ".join([*shown, *([f"{hidden} 个未列出 not listed"] if hidden else [])]))
        others = shared.get(rec.id, [])
        note = ""
        if others:
            exact = rec.location_precision == "site"
            where_zh = "位于同一点" if exact else "共用同一替代位置（不是实际厂址）"
            where_en = "at the same point" if exact else "share one stand-in point (not their actual sites)"
            note = (f"与 {'、'.join(names[o] for o in others)} {where_zh} · "
                    f"{where_en} with {len(others)} other listed park{'s' if len(others) > 1 else ''}")
        tooltip, popup = _candidate_html(rec, label, tie, note)
        badge = (f'<div class="site-rank{" site-tied" if tied else ""}" data-id="{html.escape(str(rec.id))}" '
                 f'data-rank="{int(rec.rank)}" data-shared="{len(others)}" '
                 f'style="background:{color};color:{text_color(color)}">{html.escape(label[1:])}</div>')
        folium.Marker(
            [rec.geometry.y, rec.geometry.x],
            icon=folium.DivIcon(html=badge, icon_size=(30, 24), icon_anchor=(15, 12), class_name="site-marker"),
            tooltip=folium.Tooltip(tooltip),
            popup=folium.Popup(popup, max_width=340, max_height=320),
        ).add_to(cands)
    cmap.add_to(m)  # the colour scale (0–100), shown in the legend
    folium.LayerControl(collapsed=False).add_to(m)
    bounds = data.layers["districts"].total_bounds
    m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    root = m.get_root()
    root.header.add_child(CssLink(url_for("static", filename="app/site.css")), name="site_css")
    root.header.add_child(JavascriptLink(url_for("static", filename="app/site_map.js")), name="site_map_js")
    root.html.add_child(Element(_legend_html(surface_note(spacing_km, surface is not None))),
                        name="site_legend")
    return maps.html_response(m)
