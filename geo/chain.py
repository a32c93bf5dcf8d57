"""Industrial-chain coverage: which links of a chain are present, by whom, and which are missing.

A chain is data (``data/chains/<chain>.csv``: ``link_id``, ``position``, ``stage``, bilingual
names). Projects and institutions (firms) carry the ``chain_link`` they serve. Coverage is
computed for the metro area, a park (with the parks under it) or a corridor (named in its plan
or lying in its belt).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo import analysis
from geo.errors import NotFoundError, ValidationError

CHAINS_DIR = Path(__file__).resolve().parents[1] / "data" / "chains"
DEFAULT_CHAIN = "new_energy"
CHAIN_COLUMNS = ("link_id", "position", "stage", "name_zh", "name_en", "description_en")
CHAIN_LAYERS = ("projects", "institutions")


def read_chain(chain: str = DEFAULT_CHAIN, chains_dir: Path = CHAINS_DIR) -> pd.DataFrame:
    """Read a chain definition, ordered by position from raw materials to recycling."""
    path = Path(chains_dir) / f"{chain}.csv"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in Path(chains_dir).glob("*.csv")))
        raise NotFoundError(f"unknown chain {chain!r}; expected one of: {known}", field="chain")
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in CHAIN_COLUMNS if c not in table.columns]
    if missing:
        raise ValidationError(f"column is missing: {', '.join(missing)}", file=str(path), field=missing[0])
    if table["link_id"].duplicated().any():
        dup = table.loc[table["link_id"].duplicated(), "link_id"].iloc[0]
        raise ValidationError(f"duplicate link_id {dup!r}", file=str(path), field="link_id")
    table["position"] = table["position"].astype(int)
    return table.sort_values("position").reset_index(drop=True)


def _scope(layers: Mapping[str, gpd.GeoDataFrame], park: str | None, corridor: str | None
           ) -> tuple[dict[str, object], dict[str, gpd.GeoDataFrame]]:
    """Select the chain actors of the metro area, a park (and its child parks) or a corridor."""
    if park is not None and corridor is not None:
        raise ValidationError("give a park or a corridor, not both", field="park")
    actors = {name: layers[name][layers[name]["chain_link"].notna()] for name in CHAIN_LAYERS}
    if park is not None:
        parks = layers["parks"]
        row = parks[parks["id"] == park]
        if row.empty:
            raise NotFoundError(f"unknown park {park!r}", field="park")
        family = {park, *parks.loc[parks["parent_park_id"] == park, "id"]}
        actors = {n: g[g["park_id"].isin(family)] for n, g in actors.items()}
        return {"scope": "park", "id": park, "name_zh": row.iloc[0]["name_zh"], "name_en": row.iloc[0]["name_en"]}, actors
    if corridor is not None:
        row = analysis.corridor(layers, corridor)
        j = analysis.joined(layers)
        keep = {n: analysis.corridor_members(j[n], corridor)["id"] for n in CHAIN_LAYERS}
        actors = {n: g[g["id"].isin(keep[n])] for n, g in actors.items()}
        return {"scope": "corridor", "id": corridor, "name_zh": row["name_zh"], "name_en": row["name_en"]}, actors
    return {"scope": "metro", "id": "luoyang-metro", "name_zh": "洛阳都市圈", "name_en": "Luoyang metropolitan area"}, actors


def coverage(layers: Mapping[str, gpd.GeoDataFrame], *, park: str | None = None, corridor: str | None = None,
             chain: str = DEFAULT_CHAIN) -> dict[str, object]:
    """Chain coverage of a scope: every link with the projects and firms serving it, and the missing links."""
    links = read_chain(chain)
    scope, actors = _scope(layers, park, corridor)
    known = set(links["link_id"])
    rows = []
    for link in links.itertuples():
        by = []
        for name in CHAIN_LAYERS:
            for rec in actors[name][actors[name]["chain_link"] == link.link_id].itertuples():
                by.append({"id": rec.id, "layer": name, "name_zh": rec.name_zh, "name_en": rec.name_en,
                           "status": getattr(rec, "status", None) or getattr(rec, "kind", None)})
        rows.append({"link_id": link.link_id, "position": link.position, "stage": link.stage,
                     "name_zh": link.name_zh, "name_en": link.name_en, "present": bool(by), "by": by})
    untagged = sorted({v for g in actors.values() for v in g["chain_link"] if v not in known})
    present = [r["link_id"] for r in rows if r["present"]]
    return {
        **scope,
        "chain": chain,
        "links": rows,
        "present": present,
        "missing": [r["link_id"] for r in rows if not r["present"]],
        "coverage_share": round(len(present) / len(rows), 3) if rows else None,
        "unknown_links": untagged,
    }
