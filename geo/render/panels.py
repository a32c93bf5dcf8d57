"""The page around the map frame: its layout (map box and panel box, in points from the page's lower left) and
the panel beside or under the map, holding the legend (only what the map draws) and the table.

The panel can be measured before it is drawn (:meth:`Panel.free_box`), so that a detail inset can be given the
panel's free space before anything is drawn there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from geo import style
from geo.render.artists import fit_text, score_cmap, text_width_em, wrap_text
from geo.render.sheet import MARGIN_PT, Box, Sheet
from geo.render.spec import Table

SECTIONS: dict[str, str] = {"base": "底图 Base", "corridors": "产业带 Corridors", "query": "查询 Query",
                            "layers": "要素 Features", "status": "状态 Status", "score": "选址 Site ranking"}
#: Widths (points, before the page's scale) of the table's fixed columns; the name columns share the rest.
FIXED_COLUMNS_PT: dict[str, float] = {"n": 16.0, "rank": 16.0, "layer": 30.0, "status": 24.0, "membership": 36.0,
                                      "distance_km": 30.0, "score": 30.0, "certainty": 22.0, "interval": 40.0}
#: Share of the flexible width of the name columns.
NAME_SHARE: dict[str, float] = {"name_zh": 0.45, "name_en": 0.55}


@dataclass
class LegendItem:
    """One legend row: a symbol kind with its style, the Chinese and English text, and its section."""

    kind: str  # patch, line, marker, ramp, spoke, number
    zh: str
    en: str
    props: dict[str, Any] = field(default_factory=dict)
    section: str = ""


class Legend:
    """The legend's rows, each added once by what draws the symbol it explains (so it lists only what is drawn)."""

    def __init__(self) -> None:
        self.items: list[LegendItem] = []

    def add(self, kind: str, zh: str, en: str, section: str, **props: Any) -> None:
        """Add a row (once per text)."""
        if not any(i.zh == zh and i.en == en for i in self.items):
            self.items.append(LegendItem(kind, zh, en, props, section))

    def has(self, kind: str) -> bool:
        """Whether a row of this symbol kind is listed."""
        return any(i.kind == kind for i in self.items)

    def texts(self) -> list[str]:
        """Each row as ``"zh en"``."""
        return [f"{i.zh} {i.en}" for i in self.items]

    def rows(self, notes: list[str]) -> list[tuple[str, Any]]:
        """The rows to draw: the title, each section's heading and items, then the notes."""
        rows: list[tuple[str, Any]] = [("title", "图例 Legend")]
        order = list(SECTIONS)
        section = None
        for item in sorted(self.items, key=lambda i: order.index(i.section) if i.section in order else len(order)):
            if item.section != section:
                section = item.section
                rows.append(("head", SECTIONS.get(section, section)))
            rows.append(("item", item))
        rows.extend(("note", n) for n in notes)
        return rows


def layout(sheet: Sheet, source_lines: int, table: Table | None) -> tuple[Box, Box]:
    """The map box and the panel box (left, bottom, width, height in points): the panel right of the map on a
    landscape page, under it on a portrait one; the footer grows with the sources' lines."""
    extra = (source_lines - 1) * sheet.fs(5.6) * 1.45
    m, top, foot = MARGIN_PT, sheet.fs(52), sheet.fs(40) + extra
    x, y, w, h = m, m + foot, sheet.W - 2 * m, sheet.H - 2 * m - foot - top
    has_table = table is not None
    if sheet.page.landscape:
        pw = min(w * (0.37 if has_table else 0.25), sheet.fs(330 if has_table else 215))
        gap = sheet.fs(16)
        return (x + 6, y, w - pw - gap - 6, h), (x + w - pw, y, pw, h)
    rows = len(table.rows) + 3 if table is not None else 0
    ph = min(max(rows * sheet.fs(6.0) * 1.55, sheet.fs(150), h * 0.18), h * (0.42 if has_table else 0.26))
    gap = sheet.fs(20)
    return (x + 6, y + ph + gap, w - 6, h - ph - gap), (x, y, w, ph)


class Panel:
    """The legend and the table in the panel box; measured (:meth:`free_box`) before being drawn (:meth:`draw`)."""

    def __init__(self, sheet: Sheet, box: Box) -> None:
        self.sheet, self.box = sheet, box
        self.ax: Any = None
        self.texts: list[str] = []
        self.table_rows = 0
        s = sheet.fs
        self.fs_zh, self.fs_en = s(6.6), s(5.6)
        self.row_h, self.head_h, self.sym_w = s(10.5), s(11.5), s(16)

    # measuring ---------------------------------------------------------------------------------------
    def _legend_height(self, row: tuple[str, Any], col_w: float) -> float:
        kind, val = row
        if kind == "item":
            two = text_width_em(val.zh) * self.fs_zh + text_width_em(" " + val.en) * self.fs_en > col_w - self.sym_w - 4
            return self.row_h * (1.75 if two else 1.0)
        if kind == "note":
            return self.row_h * 0.9 * len(wrap_text(val, col_w - 4, self.fs_en)) + 3
        return self.head_h * (1.25 if kind == "title" else 1.0)

    def legend_columns(self, rows: list[tuple[str, Any]], width: float,
                       max_h: float) -> tuple[list[list[tuple[tuple[str, Any], float]]], float, float]:
        """The legend's rows in as few columns as fit ``max_h`` (a row is never dropped, and a column never ends
        with a heading); the columns, their width and the height used."""
        gap = self.sheet.fs(10)
        for ncol in range(1, 7):
            col_w = (width - (ncol - 1) * gap) / ncol
            cols: list[list[tuple[tuple[str, Any], float]]] = [[]]
            used = 0.0
            for r in rows:
                hgt = self._legend_height(r, col_w)
                if used + hgt > max_h and cols[-1]:
                    carry = [cols[-1].pop()] if cols[-1][-1][0][0] == "head" and len(cols[-1]) > 1 else []
                    cols.append(carry)
                    used = sum(h for _, h in carry)
                cols[-1].append((r, hgt))
                used += hgt
            if len(cols) <= ncol:
                break
        heights = [sum(h for _, h in col) for col in cols]
        return cols, col_w, max(heights, default=0.0)

    def _table_fixed(self, table: Table, width: float) -> dict[str, float]:
        k = self.sheet.k
        flex = [key for key, _ in table.columns if key not in FIXED_COLUMNS_PT]
        rest = width - sum(FIXED_COLUMNS_PT[key] * k for key, _ in table.columns if key in FIXED_COLUMNS_PT)
        return {key: FIXED_COLUMNS_PT[key] * k if key in FIXED_COLUMNS_PT else rest * NAME_SHARE.get(key, 1 / len(flex))
                for key, _ in table.columns}

    def _table_rows_fit(self, table: Table, max_h: float) -> tuple[list[dict[str, Any]], float]:
        """The rows shown (the last line says how many more) and the table's height."""
        fs = self.sheet.fs(6.0)
        row_h = fs * 1.55
        head = self.sheet.fs(14)
        fit = max(0, int((max_h - head) // row_h) - 1)
        total = table.total if table.total is not None else len(table.rows)
        shown = table.rows if len(table.rows) <= fit else table.rows[:max(fit - 1, 0)]
        lines = len(shown) + 1 + (1 if len(shown) < total else 0)
        return shown, head + lines * row_h

    def _legend_max(self, table: Table | None, width: float, h: float) -> float:
        """The height the legend may take on a landscape page: all of it without a table; with one, 55 %, or
        what the whole table leaves (at least 30 %) if the table is a key (``Table.whole``)."""
        if table is None:
            return h
        if not table.whole:
            return h * 0.55
        _, need = self._table_rows_fit(table, 1e9)
        return max(h * 0.3, min(h * 0.55, h - need - self.sheet.fs(12)), h - need - self.sheet.fs(12))

    def free_box(self, legend: Legend, notes: list[str], table: Table | None) -> Box | None:
        """The panel's free space under the legend and table (page points; landscape only), or None."""
        if not self.sheet.page.landscape:
            return None
        w, h = self.box[2], self.box[3]
        _, _, used = self.legend_columns(legend.rows(notes), w, self._legend_max(table, w, h))
        if table is not None:
            top = h - used - self.sheet.fs(12)
            _, t_h = self._table_rows_fit(table, top)
            used = h - top + t_h
        free_h = h - used - self.sheet.fs(16)
        return (self.box[0], self.box[1], w, free_h) if free_h > 0 else None

    # drawing ------------------------------------------------------------------------------------------
    def draw(self, legend: Legend, notes: list[str], table: Table | None) -> None:
        """Legend (and the table) in the side panel (landscape) or under the map (portrait)."""
        self.ax = self.sheet.add_axes(self.box)
        self.ax.set_xlim(0, self.box[2])
        self.ax.set_ylim(0, self.box[3])
        self.ax.set_axis_off()
        w, h = self.box[2], self.box[3]
        rows = legend.rows(notes)
        if self.sheet.page.landscape:
            used = self.draw_legend(rows, 0.0, h, w, self._legend_max(table, w, h))
            if table is not None:
                top = h - used - self.sheet.fs(12)
                self.table_rows = self.draw_table(table, 0.0, top, w, top)
            return
        lw = w * (0.4 if table is not None else 1.0)
        self.draw_legend(rows, 0.0, h, lw, h)
        if table is not None:
            gap = self.sheet.fs(14)
            self.table_rows = self.draw_table(table, lw + gap, h, w - lw - gap, h)

    def draw_legend(self, rows: list[tuple[str, Any]], x: float, top: float, width: float, max_h: float) -> float:
        """Draw the legend rows (in columns if they do not fit ``max_h``); return the height used."""
        p, s = self.ax, self.sheet.fs
        cols, col_w, used = self.legend_columns(rows, width, max_h)
        for c, col in enumerate(cols):
            cx, y = x + c * (col_w + s(10)), top
            for (kind, val), hgt in col:
                if kind == "title":
                    p.text(cx, y - 1, val, ha="left", va="top", fontsize=s(8.6), color="#1a1a1a")
                elif kind == "head":
                    p.text(cx, y - 3, val, ha="left", va="top", fontsize=s(6.4), color="#555555")
                    p.plot([cx, cx + col_w], [y - 2, y - 2], color="#cccccc", linewidth=0.4)
                elif kind == "note":
                    p.text(cx, y - 1.5, "\n".join(wrap_text(val, col_w - 4, self.fs_en)), ha="left", va="top",
                           fontsize=self.fs_en, color="#444444", linespacing=1.3)
                else:
                    self._legend_row(val, cx, y, col_w, hgt)
                self.texts.append(val if isinstance(val, str) else f"{val.zh} {val.en}")
                y -= hgt
        return used

    def _legend_row(self, item: LegendItem, x: float, y: float, col_w: float, hgt: float) -> None:
        """One legend row: its symbol, then the Chinese and (beside or under it) the English text."""
        from matplotlib.patches import Rectangle

        p, pr, sym_w, row_h = self.ax, item.props, self.sym_w, self.row_h
        cy = y - row_h / 2
        if item.kind == "patch":
            p.add_patch(Rectangle((x + 1, cy - 3.2), sym_w - 4, 6.4, facecolor=pr.get("fc", "#ddd"),
                                  edgecolor=pr.get("ec", "#888"), linewidth=pr.get("lw", 0.6),
                                  alpha=pr.get("alpha", 1.0), linestyle=pr.get("ls", "-")))
            if pr.get("alpha", 1.0) < 1:  # keep the outline crisp
                p.add_patch(Rectangle((x + 1, cy - 3.2), sym_w - 4, 6.4, facecolor="none",
                                      edgecolor=pr.get("ec", "#888"), linewidth=0.6, linestyle=pr.get("ls", "-")))
        elif item.kind == "line":
            p.plot([x + 1, x + sym_w - 3], [cy, cy], color=pr["color"], linewidth=pr.get("lw", 1.0),
                   alpha=pr.get("alpha", 1.0), linestyle=pr.get("ls", "-"), solid_capstyle="round")
        elif item.kind == "marker" and pr.get("hollow"):
            lw = style.HOLLOW_MARK_LW * self.sheet.k
            p.scatter([x + sym_w / 2 - 1], [cy], marker=pr["marker"], s=pr["size"] ** 2, facecolors="none",
                      edgecolors=pr["color"], linewidths=lw)
        elif item.kind == "marker":
            if pr.get("ring"):
                p.scatter([x + sym_w / 2 - 1], [cy], marker=pr["marker"], s=(pr["size"] + 2.8) ** 2,
                          c=style.CHAIN_RING_COLOR, linewidths=0)
            p.scatter([x + sym_w / 2 - 1], [cy], marker=pr["marker"], s=pr["size"] ** 2, c=pr["color"],
                      edgecolors="white" if not pr.get("ring") else "#888888", linewidths=0.6)
        elif item.kind == "ramp":
            cmap = score_cmap()
            for i in range(10):
                p.add_patch(Rectangle((x + 1 + i * (sym_w - 4) / 10, cy - 3.2), (sym_w - 4) / 10, 6.4,
                                      facecolor=cmap(i / 9), edgecolor="none", alpha=pr.get("alpha", 1.0)))
        elif item.kind == "spoke":
            p.plot([x + 2, x + sym_w - 5], [cy - 2, cy + 2], color="#555555", linewidth=0.45)
            p.scatter([x + 2], [cy - 2], s=1.8 ** 2, c="#222222", linewidths=0)
            p.scatter([x + sym_w - 5], [cy + 2], s=4.5 ** 2, c="#7d7d7d", edgecolors="white", linewidths=0.5)
        elif item.kind == "number":
            p.text(x + sym_w / 2 - 1, cy, pr.get("text", "7"), ha="center", va="center", fontsize=self.sheet.fs(6.4),
                   color="#111111")
        tx = x + sym_w + 2
        two = hgt > row_h * 1.2
        p.text(tx, cy if not two else y - row_h * 0.5, item.zh, ha="left", va="center", fontsize=self.fs_zh,
               color="#222222")
        if two:
            p.text(tx, y - row_h * 1.3, fit_text(item.en, col_w - sym_w - 2, self.fs_en), ha="left", va="center",
                   fontsize=self.fs_en, color="#666666")
        else:
            p.text(tx + text_width_em(item.zh + " ") * self.fs_zh, cy, item.en, ha="left", va="center",
                   fontsize=self.fs_en, color="#666666")

    def draw_table(self, table: Table, x: float, top: float, width: float, max_h: float) -> int:
        """The numbered table: header, zebra rows, and a last line saying how many rows were left off."""
        from matplotlib.patches import Rectangle

        p, fs = self.ax, self.sheet.fs(6.0)
        row_h = fs * 1.55
        total = table.total if table.total is not None else len(table.rows)
        p.text(x, top - 1, table.title, ha="left", va="top", fontsize=self.sheet.fs(8.0), color="#1a1a1a")
        self.texts.append(table.title)
        y = top - self.sheet.fs(14)
        widths = self._table_fixed(table, width)
        shown, _ = self._table_rows_fit(table, max_h)
        cx, xs = x, {}
        for key, head in table.columns:
            xs[key] = cx
            right = key in table.numeric
            p.text(cx + (widths[key] - 3 if right else 0), y, head, ha="right" if right else "left", va="center",
                   fontsize=fs, color="#555555")
            cx += widths[key]
        p.plot([x, x + width], [y - row_h / 2, y - row_h / 2], color="#888888", linewidth=0.5)
        y -= row_h
        for i, row in enumerate(shown):
            if i % 2 == 0:
                p.add_patch(Rectangle((x, y - row_h / 2), width, row_h, facecolor="#f3f3f0", edgecolor="none"))
            for key, _ in table.columns:
                right = key in table.numeric
                value = row.get(key)
                text = (f"{value:g}" if isinstance(value, float) else str(value)) if value is not None else "—"
                text = fit_text(text, widths[key] - 4, fs * (1.0 if key != "name_en" else 0.95))
                p.text(xs[key] + (widths[key] - 3 if right else 0), y, text, ha="right" if right else "left",
                       va="center", fontsize=fs if key != "name_en" else fs * 0.95,
                       color="#666666" if key == "name_en" else "#1a1a1a")
            y -= row_h
        if len(shown) < total:
            more = total - len(shown)
            p.text(x, y, f"… 另有 {more} 项 · {more} more: see the data download (CSV/GeoJSON/GeoPackage)",
                   ha="left", va="center", fontsize=fs * 0.95, color="#666666")
        return len(shown)
