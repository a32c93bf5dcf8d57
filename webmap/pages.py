"""HTML pages: the bilingual overview of the layers and their records."""

from __future__ import annotations

from flask import Blueprint, render_template

from webmap.data import current_data

bp = Blueprint("pages", __name__)

COLUMNS = {
    "corridors": ["name_zh", "name_en", "theme_zh", "investment_target_2021_cny_100m", "location_precision", "source"],
    "parks": ["name_zh", "name_en", "status", "district_code", "location_precision", "source"],
    "projects": ["name_zh", "name_en", "status", "capacity_gwh", "capacity_kt_per_yr", "investment_cny_100m",
                 "location_precision", "source"],
    "institutions": ["name_zh", "name_en", "kind", "district_code", "location_precision", "source"],
    "districts": ["code", "name_zh", "name_en", "city_zh", "area_km2"],
}


@bp.get("/")
def index() -> str:
    """Overview page: each layer with its records (every value escaped by Jinja)."""
    data = current_data()
    tables = []
    for info in data.store.info():
        gdf = data.layer(info.name)
        cols = [c for c in COLUMNS.get(info.name, ["name_zh", "name_en"]) if c in gdf.columns]
        rows = gdf[cols].astype(object).where(gdf[cols].notna(), "—").values.tolist()
        tables.append({"info": info, "columns": cols, "rows": rows})
    return render_template("index.html", tables=tables)


@bp.get("/favicon.ico")
def favicon():
    """No icon: answer 204 so browsers do not log a 404."""
    return ("", 204)
