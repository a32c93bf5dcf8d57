"""Industrial-chain coverage: which links of a chain are present, by whom, and which are missing.

A chain is data (``data/chains/<chain>.csv``: ``link_id``, ``position``, ``stage``, bilingual
names). Projects and institutions (firms) carry the ``chain_link`` they serve. Coverage is
computed for the metro area, a park (with the parks under it) or a corridor (named in its plan
or lying in its belt).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo import analysis
from geo.errors import NotFoundError, ValidationError

CHAINS_DIR = Path(__file__).resolve().parents[1] / "data" / "chains"
DEFAULT_CHAIN = "new_energy"
CHAIN_COLUMNS = ("link_id", "position", "stage", "name_zh", "name_en", "description_en")
CHAIN_LAYERS = ("projects", "institutions")


def catalogue(chains_dir: Path = CHAINS_DIR) -> dict[str, Path]:
    """The known chains: id to definition file (the project's own files; a client's id is only a key here)."""
    return {p.stem: p for p in sorted(Path(chains_dir).glob("*.csv"))}


#: The chains this installation knows, read once.
CHAINS: dict[str, Path] = catalogue()


@lru_cache(maxsize=16)
def _read_definition(path: Path) -> pd.DataFrame:
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in CHAIN_COLUMNS if c not in table.columns]
    if missing:
        raise ValidationError(f"column is missing: {', '.join(missing)}", file=path.name, field=missing[0])
    if table["link_id"].duplicated().any():
        dup = table.loc[table["link_id"].duplicated(), "link_id"].iloc[0]
        raise ValidationError(f"duplicate link_id {dup!r}", file=path.name, field="link_id")
    table["position"] = table["position"].astype(int)
    return table.sort_values("position").reset_index(drop=True)


def read_chain(chain: str = DEFAULT_CHAIN) -> pd.DataFrame:
    """A chain definition from the catalogue, ordered by position from raw materials to recycling."""
    path = CHAINS.get(chain)
    if path is None:
        raise NotFoundError(f"unknown chain {chain!r}; expected one of: {', '.join(CHAINS)}", field="chain")
    return _read_definition(path).copy()


#: Bilingual names of the chains of the catalogue (a chain without one is called by its id).
CHAIN_NAMES: dict[str, tuple[str, str]] = {"new_energy": ("新能源电池产业链", "new-energy battery chain")}


def chain_name(chain: str) -> tuple[str, str]:
    """The ``(zh, en)`` name of a chain of the catalogue (its id twice when it has no name)."""
    return CHAIN_NAMES.get(chain, (chain, chain))


def _split(text: object) -> list[str]:
    return [t for t in str(text or "").split(";") if t]


@lru_cache(maxsize=1)
def _chain_industries() -> tuple[tuple[str, str, str, str, tuple[str, ...]], ...]:
    """(chain, industry id, name_zh, name_en, themes) of every industry of ``data/industries.csv`` on a chain."""
    from geo.siting import read_industries  # geo.siting imports this module

    table = read_industries()
    return tuple((r.chain, r.id, r.name_zh, r.name_en, tuple(_split(r.themes)))
                 for r in table.itertuples() if r.chain in CHAINS)


def chains_for_themes(themes: object) -> list[dict[str, object]]:
    """The chains of the catalogue that fit a set of themes (a corridor's, ``;``-joined or a list), best first.

    A chain's themes are those of the industries on it (``data/industries.csv``): the fit is ``primary`` when the
    themes hold an industry's primary (first) theme, ``related`` when they share only another of its themes
    (as the site selection scores themes); a chain sharing no theme is left out. Each fit names the shared themes
    and the industries sharing them."""
    wanted = set(_split(themes) if isinstance(themes, str) or themes is None else themes)
    out = []
    for chain in CHAINS:
        industries = [(iid, zh, en, t) for c, iid, zh, en, t in _chain_industries() if c == chain]
        sharing = [(iid, zh, en, t) for iid, zh, en, t in industries if wanted & set(t)]
        if not sharing:
            continue
        primary = [i for i in sharing if i[3] and i[3][0] in wanted]
        zh, en = chain_name(chain)
        out.append({"chain": chain, "name_zh": zh, "name_en": en, "fit": "primary" if primary else "related",
                    "shared_themes": sorted(wanted & {t for i in sharing for t in i[3]}),
                    "industries": [{"id": iid, "name_zh": izh, "name_en": ien} for iid, izh, ien, _ in
                                   (primary or sharing)]})
    return sorted(out, key=lambda f: (f["fit"] != "primary", f["chain"]))


def link_ids() -> set[str]:
    """Every link id of every known chain."""
    return {link for chain in CHAINS for link in read_chain(chain)["link_id"]}


def _scope(layers: Mapping[str, gpd.GeoDataFrame], park: str | None, corridor: str | None,
           joined: Mapping[str, gpd.GeoDataFrame] | None = None) -> tuple[dict[str, object], dict[str, gpd.GeoDataFrame]]:
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
        j = joined or analysis.joined(layers)
        members = {n: analysis.corridor_members(j[n], corridor, possible=True).set_index("id")["membership"]
                   for n in CHAIN_LAYERS}
        actors = {n: g[g["id"].isin(members[n].index)].assign(membership=lambda g, n=n: g["id"].map(members[n]))
                  for n, g in actors.items()}
        return {"scope": "corridor", "id": corridor, "name_zh": row["name_zh"], "name_en": row["name_en"]}, actors
    return {"scope": "metro", "id": "luoyang-metro", "name_zh": "洛阳都市圈", "name_en": "Luoyang metropolitan area"}, actors


def coverage(layers: Mapping[str, gpd.GeoDataFrame], *, park: str | None = None, corridor: str | None = None,
             chain: str = DEFAULT_CHAIN, joined: Mapping[str, gpd.GeoDataFrame] | None = None) -> dict[str, object]:
    """Chain coverage of a scope: every link with the projects and firms serving it, and the missing links.

    In a corridor, an actor located only to a county the belt crosses is *possibly* in it: a link served
    only by such actors is ``possible`` (neither present nor missing); each actor says its ``membership``.

    ``joined`` (from :func:`geo.analysis.joined`) carries the belts of the configured width; without it
    the default width is used.
    """
    links = read_chain(chain)
    scope, actors = _scope(layers, park, corridor, joined)
    known = set(links["link_id"])
    rows = []
    for link in links.itertuples():
        by = []
        for name in CHAIN_LAYERS:
            for rec in actors[name][actors[name]["chain_link"] == link.link_id].itertuples():
                by.append({"id": rec.id, "layer": name, "name_zh": rec.name_zh, "name_en": rec.name_en,
                           "status": getattr(rec, "status", None) or getattr(rec, "kind", None),
                           "membership": getattr(rec, "membership", None)})
        certain = any(b["membership"] != "possible" for b in by)
        rows.append({"link_id": link.link_id, "position": link.position, "stage": link.stage,
                     "name_zh": link.name_zh, "name_en": link.name_en, "present": certain,
                     "possible": bool(by) and not certain, "by": by})
    untagged = sorted({v for g in actors.values() for v in g["chain_link"] if v not in known})
    present = [r["link_id"] for r in rows if r["present"]]
    name_zh, name_en = chain_name(chain)
    return {
        **scope,
        "chain": chain,
        "chain_name_zh": name_zh,
        "chain_name_en": name_en,
        "links": rows,
        "present": present,
        "possible": [r["link_id"] for r in rows if r["possible"]],
        "missing": [r["link_id"] for r in rows if not r["present"] and not r["possible"]],
        "coverage_share": round(len(present) / len(rows), 3) if rows else None,
        "unknown_links": untagged,
    }


def fitting_coverages(layers: Mapping[str, gpd.GeoDataFrame], corridor: str, fits: list[dict[str, object]],
                      joined: Mapping[str, gpd.GeoDataFrame] | None = None) -> list[dict[str, object]]:
    """The coverage in a corridor of each chain that fits its themes (``fits``: :func:`chains_for_themes`)."""
    return [{**fit, "coverage": coverage(layers, corridor=corridor, chain=str(fit["chain"]), joined=joined)}
            for fit in fits]
