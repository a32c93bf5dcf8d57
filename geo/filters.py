"""Attribute and place filters over the layers: corridor, status, chain link, district, name search.

How each filter reads a layer (the web map, the API, the exports and ``run.py export`` share it):

- ``status``: institutions carry no status; they count as ``unknown`` (kept only when ``unknown`` is asked
  for). Layers without status that are not points (corridors, districts) are left as they are.
- ``chain_link``: projects and institutions by their own ``chain_link``; a park matches when a project or an
  institution (a firm) located in it (``park_id``) serves the link, directly or through a park inside it
  (``parent_park_id``: a base within a park makes the park match too).
- ``q``: a case-insensitive substring of the name in either language, the id, or the firm
  (``firm_zh``/``firm_en`` of projects, ``partners_zh``/``partners_en`` of institutions); a query naming a
  firm by any of its names in ``data/aliases.csv`` (宁德时代, CATL, …) finds the records of all its names.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo import analysis, chain
from geo.errors import ValidationError
from geo.schema import STATUSES

#: Names of one firm or group, one a line (``group_id,name,lang,...``): a search for one finds all.
ALIASES_CSV = Path(__file__).resolve().parents[1] / "data" / "aliases.csv"
#: Columns a name search ``q`` looks in (those a layer has).
SEARCH_COLUMNS: tuple[str, ...] = ("name_zh", "name_en", "id", "firm_zh", "firm_en", "partners_zh", "partners_en")
#: Shortest query that finds an alias it is only part of (one letter would find every alias holding it).
MIN_PARTIAL_ALIAS = 2


@dataclass(frozen=True)
class Filters:
    """What to keep; every field is optional and several values of one field are alternatives."""

    corridor: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    chain_link: tuple[str, ...] = ()
    district: tuple[str, ...] = ()
    q: str = ""

    @classmethod
    def from_mapping(cls, args: Mapping[str, object]) -> Filters:
        """Build filters from request-like arguments (comma-separated or repeated values)."""
        def many(name: str) -> tuple[str, ...]:
            raw = args.get(name)
            if raw is None:
                return ()
            values = raw if isinstance(raw, (list, tuple)) else [raw]
            return tuple(v.strip() for item in values for v in str(item).split(",") if v.strip())

        q = args.get("q")
        if isinstance(q, (list, tuple)):
            q = q[0] if q else None
        return cls(many("corridor"), many("status"), many("chain_link"), many("district"),
                   str(q).strip() if q else "")

    def is_empty(self) -> bool:
        """True when nothing is filtered."""
        return not any(getattr(self, f.name) for f in fields(self))

    def as_params(self) -> dict[str, str]:
        """The filters as query-string parameters (for permalinks)."""
        out = {f.name: ",".join(v) if isinstance(v, tuple) else v
               for f in fields(self) for v in [getattr(self, f.name)]}
        return {k: v for k, v in out.items() if v}


def chain_links(layers: Mapping[str, gpd.GeoDataFrame]) -> set[str]:
    """Chain links a filter may name: those of the known chains and any a record carries."""
    held = {str(v) for name in ("projects", "institutions") if name in layers and "chain_link" in layers[name]
            for v in pd.unique(layers[name]["chain_link"].dropna())}
    return chain.link_ids() | held


@functools.lru_cache(maxsize=4)
def _alias_groups(path: Path, mtime_ns: int) -> tuple[tuple[str, ...], ...]:
    """The alias groups of ``path`` (read again when the file changes)."""
    groups: dict[str, list[str]] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            name = (row.get("name") or "").strip()
            if name and row.get("group_id"):
                groups.setdefault(row["group_id"], []).append(name)
    return tuple(tuple(names) for names in groups.values())


def alias_groups(path: Path = ALIASES_CSV) -> tuple[tuple[str, ...], ...]:
    """Every group of names of one firm in ``data/aliases.csv`` (empty when the file is missing)."""
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return ()
    return _alias_groups(path, mtime)


def search_terms(q: str, groups: tuple[tuple[str, ...], ...] | None = None) -> list[str]:
    """What a name search for ``q`` looks for (casefolded): ``q`` and every name of a firm ``q`` names.

    ``q`` names a firm when it is part of one of the firm's aliases (at least two characters) or holds
    one whole: 宁德时代 and CATL both give the names of CATL (中州时代 …)."""
    needle = q.strip().casefold()
    if not needle:
        return []
    terms = [needle]
    for names in alias_groups() if groups is None else groups:
        folded = [n.casefold() for n in names]
        if any((len(needle) >= MIN_PARTIAL_ALIAS and needle in n) or n in needle for n in folded):
            terms.extend(n for n in folded if n not in terms)
    return terms


def matches_text(gdf: gpd.GeoDataFrame, q: str) -> pd.Series:
    """Rows of ``gdf`` whose names (either language), id or firm hold ``q`` or a name of the firm ``q`` names."""
    cols = [c for c in SEARCH_COLUMNS if c in gdf.columns]
    if not cols:
        return pd.Series(False, index=gdf.index)
    text = gdf[cols[0]].fillna("").astype(str)
    for c in cols[1:]:
        text = text + "\n" + gdf[c].fillna("").astype(str)
    text = text.str.casefold()
    keep = pd.Series(False, index=gdf.index)
    for term in search_terms(q):
        keep |= text.str.contains(term, regex=False)
    return keep


def parks_serving(links: tuple[str, ...], layers: Mapping[str, gpd.GeoDataFrame]) -> set[str]:
    """Ids of the parks a project or an institution located in them serves one of ``links`` from, with the
    parks holding such a park (``parent_park_id``)."""
    found: set[str] = set()
    for name in ("projects", "institutions"):
        gdf = layers.get(name)
        if gdf is None or "chain_link" not in gdf.columns or "park_id" not in gdf.columns:
            continue
        found |= set(gdf.loc[gdf["chain_link"].isin(links), "park_id"].dropna())
    parks = layers.get("parks")
    if parks is not None and "parent_park_id" in parks.columns:
        parent = dict(zip(parks["id"], parks["parent_park_id"]))
        todo = list(found)
        while todo:
            up = parent.get(todo.pop())
            if isinstance(up, str) and up and up not in found:
                found.add(up)
                todo.append(up)
    return found


def validate(filters: Filters, layers: Mapping[str, gpd.GeoDataFrame]) -> None:
    """Raise ValidationError naming the field and the allowed values for any unknown value."""
    checks = {  # computed only for the filters given (a layer may hold a million records)
        "corridor": lambda: set(layers["corridors"]["id"]),
        "status": lambda: set(STATUSES),
        "chain_link": lambda: chain_links(layers),
        "district": lambda: set(layers["districts"]["code"]) | set(layers["districts"]["city_code"]),
    }
    for name, allowed_of in checks.items():
        if not getattr(filters, name):
            continue
        allowed = allowed_of()
        bad = [v for v in getattr(filters, name) if v not in allowed]
        if bad:
            raise ValidationError(f"unknown {name} {bad[0]!r}; expected one of: {', '.join(sorted(allowed))}",
                                  field=name)


def apply(layer: str, layers: Mapping[str, gpd.GeoDataFrame], filters: Filters,
          joined: Mapping[str, gpd.GeoDataFrame] | None = None) -> gpd.GeoDataFrame:
    """Rows of ``layer`` that pass the filters.

    A corridor keeps what its plan names or its belt holds; a filter on a field a line or polygon layer
    does not have (e.g. ``status`` for corridors) leaves that layer as it is. Institutions count as status
    ``unknown``; a park serves a chain link through the projects and firms in it (see the module docstring).
    """
    validate(filters, layers)
    gdf = layers[layer]
    if filters.is_empty():
        return gdf
    keep = pd.Series(True, index=gdf.index)
    if filters.corridor:
        if layer == "corridors":
            keep &= gdf["id"].isin(filters.corridor)
        elif layer in analysis.POINT_LAYERS:
            j = (joined or analysis.joined(layers))[layer]
            ids: set[str] = set()
            for c in filters.corridor:
                ids |= set(analysis.corridor_members(j, c)["id"])
            keep &= gdf["id"].isin(ids)
    if filters.status:
        if "status" in gdf:
            keep &= gdf["status"].isin(filters.status)
        elif layer in analysis.POINT_LAYERS and "unknown" not in filters.status:
            keep &= False  # no status recorded: unknown
    if filters.chain_link:
        if "chain_link" in gdf:
            keep &= gdf["chain_link"].isin(filters.chain_link)
        elif layer == "parks":
            keep &= gdf["id"].isin(parks_serving(filters.chain_link, layers))
    if filters.district:
        d = layers["districts"]
        if layer == "districts":
            keep &= d["code"].isin(filters.district) | d["city_code"].isin(filters.district)
        elif "district_code" in gdf:
            # a named county matches itself; a city code matches its counties and city-level records
            city_of = dict(zip(d["code"], d["city_code"]))
            named = gdf["district_code"]
            keep &= named.isin(filters.district) | named.map(city_of).isin(filters.district)
    if filters.q:
        keep &= matches_text(gdf, filters.q)
    return gdf[keep.to_numpy()]
