"""The schema of the source tables: which layers exist, their files, fields and allowed values.

One place that says what a valid record is; :mod:`geo.io` enforces it and the README documents
it. Coordinates (``lon``/``lat``) are WGS84 degrees in every source file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

FieldKind = Literal["str", "slug", "slugs", "int", "float", "date", "choice", "code", "source"]

#: The layers of the store, in build order, named exactly as users and outside checks rely on.
LAYER_NAMES: tuple[str, ...] = ("districts", "corridors", "parks", "projects", "institutions")

STATUSES: tuple[str, ...] = ("planned", "exploratory", "under_construction", "operating", "unknown")
LOCATION_PRECISIONS: tuple[str, ...] = ("site", "street", "town", "district", "city")
PARK_KINDS: tuple[str, ...] = ("park", "base", "zone", "community", "enclave")
INSTITUTION_KINDS: tuple[str, ...] = (
    "university",
    "college",
    "innovation_platforms",
    "firm",
    "developer",
    "operator",
)

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SOURCE_RE = re.compile(r"^\d{3}_[0-9a-f]{16}\.txt$")
DATE_RE = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?|-Q[1-4])?$")
DISTRICT_CODE_RE = re.compile(r"^\d{6}$")
SOURCE_EXCERPT_MAX_CHARS = 40


@dataclass(frozen=True)
class Field:
    """One column of a source table: its name, kind, whether it must be filled, allowed values."""

    name: str
    kind: FieldKind = "str"
    required: bool = False
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    max_chars: int | None = None
    references: str | None = None  # layer whose ``id`` this column refers to

    def expected(self) -> str:
        """Describe in words what a valid value of this field looks like."""
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        return {
            "str": "text" + (f" of at most {self.max_chars} characters" if self.max_chars else ""),
            "slug": "a lower-case slug such as 'luo-ji-jiao'",
            "slugs": "lower-case slugs separated by ';'",
            "int": "a whole number" + (f" >= {self.minimum:g}" if self.minimum is not None else ""),
            "float": "a number" + (f" >= {self.minimum:g}" if self.minimum is not None else ""),
            "date": "a date like 2024-02-26, 2024-02, 2024-Q2 or 2024",
            "code": "a six-digit administrative code of a district in data/boundaries/districts.geojson",
            "source": "the file name of a source article, like 004_0fea41262f4ebcc4.txt",
        }[self.kind]


@dataclass(frozen=True)
class LayerSpec:
    """A source layer: its file under ``data/sources/``, its geometry and its fields."""

    name: str
    file: str | None
    geometry: Literal["point", "line", "polygon"]
    fields: tuple[Field, ...] = field(default_factory=tuple)
    located: bool = True  # carries lon/lat or a geometry plus location_precision

    def field(self, name: str) -> Field:
        """Return the field called ``name``."""
        return next(f for f in self.fields if f.name == name)


CITED = (
    Field("id", "slug", required=True),
    Field("name_zh", required=True),
    Field("name_en", required=True),
    Field("source", "source", required=True),
    Field("source_excerpt", required=True, max_chars=SOURCE_EXCERPT_MAX_CHARS),
)
LOCATED = (
    Field("district_code", "code", required=True),
    Field("functional_zone_zh"),
    Field("location_precision", "choice", required=True, choices=LOCATION_PRECISIONS),
    Field("location_note", required=True),
)
POINT = (Field("lon", "float", required=True), Field("lat", "float", required=True))

PARKS = LayerSpec(
    "parks",
    "parks.csv",
    "point",
    CITED
    + POINT
    + LOCATED
    + (
        Field("kind", "choice", required=True, choices=PARK_KINDS),
        Field("parent_park_id", "slug", references="parks"),
        Field("status", "choice", required=True, choices=STATUSES),
        Field("status_note"),
        Field("themes", "slugs", required=True),
        Field("corridor_id", "slug", references="corridors"),
        Field("address_zh"),
        Field("firms_count", "int", minimum=0),
        Field("firms_operating_count", "int", minimum=0),
        Field("firms_building_count", "int", minimum=0),
        Field("signed_projects_count", "int", minimum=0),
        Field("signed_investment_cny_100m", "float", minimum=0),
        Field("started_projects_count", "int", minimum=0),
        Field("fund_cny_100m", "float", minimum=0),
        Field("target_output_cny_100m_per_yr", "float", minimum=0),
        Field("chain_output_cny_100m_per_yr", "float", minimum=0),
        Field("jobs_planned", "int", minimum=0),
        Field("reported_date", "date"),
    ),
)

PROJECTS = LayerSpec(
    "projects",
    "projects.csv",
    "point",
    CITED
    + POINT
    + LOCATED
    + (
        Field("firm_zh"),
        Field("firm_en"),
        Field("park_id", "slug", references="parks"),
        Field("corridor_id", "slug", references="corridors"),
        Field("industry", "slug", required=True),
        Field("chain_link", "slug"),
        Field("chain_link_note"),
        Field("status", "choice", required=True, choices=STATUSES),
        Field("status_note"),
        Field("reported_date", "date"),
        Field("planned_date", "date"),
        Field("planned_milestone_en"),
        Field("capacity_gwh", "float", minimum=0),
        Field("capacity_kt_per_yr", "float", minimum=0),
        Field("investment_cny_100m", "float", minimum=0),
        Field("jobs_planned", "int", minimum=0),
    ),
)

INSTITUTIONS = LayerSpec(
    "institutions",
    "institutions.csv",
    "point",
    CITED
    + POINT
    + LOCATED
    + (
        Field("kind", "choice", required=True, choices=INSTITUTION_KINDS),
        Field("chain_link", "slug"),
        Field("chain_link_note"),
        Field("park_id", "slug", references="parks"),
        Field("platforms_national_count", "int", minimum=0),
        Field("platforms_provincial_count", "int", minimum=0),
        Field("platforms_municipal_count", "int", minimum=0),
    ),
)

CORRIDORS = LayerSpec(
    "corridors",
    "corridors.geojson",
    "line",
    CITED
    + (
        Field("location_precision", "choice", required=True, choices=LOCATION_PRECISIONS),
        Field("location_note", required=True),
        Field("theme_zh", required=True),
        Field("theme_en", required=True),
        Field("themes", "slugs", required=True),
        Field("investment_target_2021_cny_100m", "float", required=True, minimum=0),
        Field("plan_year", "int", required=True),
        Field("cities_zh", required=True),
        Field("cities_en", required=True),
        Field("work_items_zh", required=True),
        Field("work_items_en", required=True),
    ),
)

DISTRICTS = LayerSpec(
    "districts",
    None,  # data/boundaries/districts.geojson, extracted by scripts/extract_districts.py
    "polygon",
    (
        Field("code", "code", required=True),
        Field("name_zh", required=True),
        Field("name_en", required=True),
        Field("city_code", "code", required=True),
        Field("city_zh", required=True),
        Field("city_en", required=True),
        Field("source", required=True),
        Field("source_crs", required=True),
    ),
    located=False,
)

#: Figures that belong to a district as a whole (``data/sources/district_facts.csv``).
DISTRICT_FACTS = LayerSpec(
    "district_facts",
    "district_facts.csv",
    "point",
    (
        Field("district_code", "code", required=True),
        Field("fund_total_cny_100m", "float", minimum=0),
        Field("fund_health_tech_cny_100m", "float", minimum=0),
        Field("fund_dual_carbon_cny_100m", "float", minimum=0),
        Field("fund_digital_economy_cny_100m", "float", minimum=0),
        Field("note"),
        Field("source", "source", required=True),
        Field("source_excerpt", required=True, max_chars=SOURCE_EXCERPT_MAX_CHARS),
    ),
    located=False,
)

SOURCE_LAYERS: dict[str, LayerSpec] = {s.name: s for s in (CORRIDORS, PARKS, PROJECTS, INSTITUTIONS)}
