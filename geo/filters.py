"""Attribute and place filters over the layers: corridor, status, chain link, district, name search."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

import geopandas as gpd
import pandas as pd

from geo import analysis, chain
from geo.errors import ValidationError
from geo.schema import STATUSES


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
    held = {v for name in ("projects", "institutions") if name in layers and "chain_link" in layers[name]
            for v in layers[name]["chain_link"].dropna()}
    return chain.link_ids() | held


def validate(filters: Filters, layers: Mapping[str, gpd.GeoDataFrame]) -> None:
    """Raise ValidationError naming the field and the allowed values for any unknown value."""
    checks = {
        "corridor": set(layers["corridors"]["id"]),
        "status": set(STATUSES),
        "chain_link": chain_links(layers),
        "district": set(layers["districts"]["code"]) | set(layers["districts"]["city_code"]),
    }
    for name, allowed in checks.items():
        bad = [v for v in getattr(filters, name) if v not in allowed]
        if bad:
            raise ValidationError(f"unknown {name} {bad[0]!r}; expected one of: {', '.join(sorted(allowed))}",
                                  field=name)


def apply(layer: str, layers: Mapping[str, gpd.GeoDataFrame], filters: Filters,
          joined: Mapping[str, gpd.GeoDataFrame] | None = None) -> gpd.GeoDataFrame:
    """Rows of ``layer`` that pass the filters.

    A corridor keeps what its plan names or its belt holds; a filter on a field the layer does not
    have (e.g. ``status`` for corridors) leaves that layer as it is.
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
    if filters.status and "status" in gdf:
        keep &= gdf["status"].isin(filters.status)
    if filters.chain_link and "chain_link" in gdf:
        keep &= gdf["chain_link"].isin(filters.chain_link)
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
        needle = filters.q.casefold()
        text = gdf["name_zh"].fillna("") + " " + gdf["name_en"].fillna("")
        if "id" in gdf:
            text = text + " " + gdf["id"].fillna("")
        keep &= text.str.casefold().str.contains(needle, regex=False)
    return gdf[keep.to_numpy()]
