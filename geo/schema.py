"""The schema of the source tables: which layers exist, their files, fields and allowed values.

One place that says what a valid record is; :mod:`geo.io` enforces it and the README documents
it. Coordinates (``lon``/``lat``) are WGS84 degrees in every source file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

FieldKind = Literal["str", "slug", "slugs", "int", "float", "date", "choice", "code", "codes", "source"]

#: The layers of the store, in build order, named exactly as users and outside checks rely on.
LAYER_NAMES: tuple[str, ...] = ("districts", "corridors", "parks", "projects", "institutions")
#: The register of sources: a layer of the store without geometry (``data/sources/sources.csv``).
REGISTER_LAYER = "sources"
#: The ledger's change log (geo.ledger.changes), a table of the store not served as a layer.
LOG_LAYER = "changes"
#: Tables of the store that are the service's own and never served: the change log, users and their tokens.
INTERNAL_TABLES: tuple[str, ...] = (LOG_LAYER, "users", "tokens")

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
    "industry_profile",
    "cooperation",
)
#: Kinds of source in the register: an article's main body, a separate undated snippet listed under
#: "相关文章" of an article file, and later an office's import or an edit on the map.
SOURCE_KINDS: tuple[str, ...] = ("article", "related_item", "import", "edit")
#: How a figure is qualified in its source: 约/左右 approx, 近 nearly, 余/以上 more_than, 不到 less_than,
#: 拟定 proposed. A qualified figure is never shown as an exact number.
QUALIFIERS: tuple[str, ...] = ("approx", "nearly", "more_than", "less_than", "proposed")
#: Whether a catalogue value is quoted from a source (``cited``) or derived by a stated rule.
BASES: tuple[str, ...] = ("cited", "derived")

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
            "codes": "six-digit district codes separated by ';'",
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


def qualified(name: str, kind: FieldKind = "float") -> tuple[Field, Field]:
    """A figure (>= 0) and its optional qualifier column ``<name>_qualifier`` (see ``QUALIFIERS``)."""
    return Field(name, kind, minimum=0), Field(f"{name}_qualifier", "choice", choices=QUALIFIERS)


CITATION = (
    Field("source_id", "slug", required=True, references=REGISTER_LAYER),
    Field("source", "source", required=True),
    Field("source_excerpt", required=True, max_chars=SOURCE_EXCERPT_MAX_CHARS),
)
CITED = (
    Field("id", "slug", required=True),
    Field("name_zh", required=True),
    Field("name_en", required=True),
    *CITATION,
)
LOCATION_NOTES = (Field("location_note_zh", required=True), Field("location_note_en", required=True))
STATUS = (
    Field("status", "choice", required=True, choices=STATUSES),
    Field("status_note_zh"),
    Field("status_note_en"),
)
LOCATED = (
    Field("district_code", "code", required=True),
    Field("functional_zone_zh"),
    Field("location_precision", "choice", required=True, choices=LOCATION_PRECISIONS),
    *LOCATION_NOTES,
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
        *STATUS,
        Field("themes", "slugs", required=True),
        Field("corridor_id", "slug", references="corridors"),
        Field("partner_district_codes", "codes"),
        Field("address_zh"),
        Field("build_standard_zh"),
        Field("build_standard_en"),
        Field("firms_count", "int", minimum=0),
        Field("firms_operating_count", "int", minimum=0),
        Field("firms_building_count", "int", minimum=0),
        Field("signed_projects_count", "int", minimum=0),
        Field("signed_investment_cny_100m", "float", minimum=0),
        Field("started_projects_count", "int", minimum=0),
        *qualified("fund_cny_100m"),
        *qualified("target_output_cny_100m_per_yr"),
        *qualified("chain_output_cny_100m_per_yr"),
        *qualified("jobs_planned", "int"),
        Field("reported_date", "date"),
        Field("reported_date_text_zh"),
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
        *STATUS,
        Field("reported_date", "date"),
        Field("planned_date", "date"),
        Field("planned_milestone_en"),
        Field("capacity_gwh", "float", minimum=0),
        Field("capacity_kt_per_yr", "float", minimum=0),
        *qualified("investment_cny_100m"),
        *qualified("jobs_planned", "int"),
        *qualified("talks_to_signing_days", "int"),
        *qualified("signing_to_start_days", "int"),
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
        *qualified("chain_firms_count", "int"),
        Field("chain_fields_zh"),
        Field("chain_fields_en"),
        Field("since_period_zh"),
        Field("since_period_en"),
        Field("partners_zh"),
        Field("partners_en"),
        Field("partner_firms_count", "int", minimum=0),
        Field("reported_date_text_zh"),
    ),
)

CORRIDORS = LayerSpec(
    "corridors",
    "corridors.geojson",
    "line",
    CITED
    + (
        Field("location_precision", "choice", required=True, choices=LOCATION_PRECISIONS),
        *LOCATION_NOTES,
        Field("theme_zh", required=True),
        Field("theme_en", required=True),
        Field("themes", "slugs", required=True),
        Field("investment_target_2021_cny_100m", "float", required=True, minimum=0),
        Field("plan_year", "int", required=True),
        Field("cities_zh", required=True),
        Field("cities_en", required=True),
        Field("work_items_zh", required=True),
        Field("work_items_en", required=True),
        Field("plan_zh", required=True),
        Field("plan_en", required=True),
        Field("city_plan_zh", required=True),
        Field("city_plan_en", required=True),
        Field("city_plan_tasks_count", "int", minimum=0),
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
        *qualified("fund_total_cny_100m"),
        *qualified("fund_health_tech_cny_100m"),
        *qualified("fund_dual_carbon_cny_100m"),
        *qualified("fund_digital_economy_cny_100m"),
        Field("fund_other_targets_zh"),
        Field("fund_other_targets_en"),
        Field("note"),
        *CITATION,
    ),
    located=False,
)

#: The register of sources (``data/sources/sources.csv``): every record's ``source_id`` names one of its ids.
REGISTER = LayerSpec(
    REGISTER_LAYER,
    "sources.csv",
    "point",  # not used: the register has no geometry
    (
        Field("id", "slug", required=True),
        Field("kind", "choice", required=True, choices=SOURCE_KINDS),
        Field("title_zh", required=True),
        Field("title_en", required=True),
        Field("publisher"),
        Field("published_date", "date"),
        Field("file", "source"),
        Field("item_index", "int", minimum=1),
        Field("item_heading_zh"),
    ),
    located=False,
)

SOURCE_LAYERS: dict[str, LayerSpec] = {s.name: s for s in (CORRIDORS, PARKS, PROJECTS, INSTITUTIONS)}
