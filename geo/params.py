"""Reading the arguments a client sends: one strict reader, so every parameter is checked the same way.

:class:`Args` wraps request-like arguments (a name to a list of strings) and returns typed values;
every error is a :class:`~geo.errors.ValidationError` naming the parameter exactly as the client spelt
it. Numbers are plain ASCII decimals (``1_12.45``, full-width digits, ``nan`` and ``inf`` are refused);
positions are degrees in the system the client names (``crs``) and must lie in the study area, checked
after conversion to WGS84 (EPSG:4326). :func:`spelt_as` renames the parameters of an error raised deeper
down (``lon`` becomes ``qlon`` where the client wrote ``qlon``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager

import shapely

from geo import crs
from geo.errors import GeoError, ValidationError

#: Longitude and latitude bounds (WGS84 degrees) of the study area a query may start in: the counties
#: held (lon 111.13–113.64, lat 33.57–35.50) with half a degree around them.
STUDY_AREA = (110.6, 33.0, 114.2, 36.0)
#: Coordinate systems a client may give positions in.
SYSTEMS = ("wgs84", "gcj02", "bd09", "cgcs2000")
#: Longest free text accepted (names, search strings, titles).
MAX_TEXT = 200

#: Most vertices of a query polygon.
MAX_POLYGON_VERTICES = 10_000

_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


def parse_number(raw: object, name: str, *, minimum: float | None = None, maximum: float | None = None,
                 exclusive_minimum: bool = False, integer: bool = False) -> float:
    """A finite ASCII decimal within bounds; the error names ``name`` and the expected range."""
    expected = _expected(minimum, maximum, exclusive_minimum, integer)
    text = str(raw).strip() if raw is not None else ""
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        value = float(raw)
    elif _DECIMAL.fullmatch(text):
        value = float(text)
    else:
        raise ValidationError(f"expected {expected}, got {raw!r}", field=name)
    if (not math.isfinite(value) or (integer and value != int(value))
            or (minimum is not None and (value <= minimum if exclusive_minimum else value < minimum))
            or (maximum is not None and value > maximum)):
        raise ValidationError(f"expected {expected}, got {raw!r}", field=name)
    return int(value) if integer else value


def _expected(minimum: float | None, maximum: float | None, exclusive: bool, integer: bool) -> str:
    kind = "a whole number" if integer else "a number"
    low = "" if minimum is None else f"{minimum:g} {'<' if exclusive else '<='} "
    high = "" if maximum is None else f" <= {maximum:g}"
    return f"{kind} ({low}value{high})" if low or high else kind


def check_in_study_area(lon: float, lat: float, names: tuple[str, str] = ("lon", "lat"),
                        what: str | None = None) -> None:
    """Raise naming ``lon`` or ``lat`` (as spelt) when a WGS84 position lies outside the study area."""
    west, south, east, north = STUDY_AREA
    for value, low, high, name in ((lon, west, east, names[0]), (lat, south, north, names[1])):
        if not low <= value <= high:
            raise ValidationError(
                f"{what or f'{value:g}'} lies outside the Luoyang metro area; expected {names[0]} "
                f"{west:g}..{east:g} and {names[1]} {south:g}..{north:g} (WGS84)", field=name)


class Args:
    """Typed, validated reading of request-like arguments (``name -> [values]`` or ``name -> value``)."""

    def __init__(self, mapping: Mapping[str, object]) -> None:
        self._values: dict[str, list[str]] = {}
        for key, value in mapping.items():
            items = value if isinstance(value, (list, tuple)) else [value]
            self._values[str(key)] = [str(v) for v in items if v is not None]

    def given(self, name: str) -> bool:
        """Whether the client sent ``name`` with a non-blank value."""
        return any(v.strip() for v in self._values.get(name, []))

    def text(self, name: str, default: str | None = None, *, max_length: int = MAX_TEXT) -> str | None:
        """The first non-blank value, stripped; refused past ``max_length`` or with control characters."""
        for value in self._values.get(name, []):
            value = value.strip()
            if value:
                if len(value) > max_length:
                    raise ValidationError(f"expected at most {max_length} characters, got {len(value)}",
                                          field=name)
                if any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in value):
                    raise ValidationError("expected text without control characters", field=name)
                return value
        return default

    def required(self, name: str, hint: str = "") -> str:
        """A text value that must be there."""
        value = self.text(name)
        if value is None:
            raise ValidationError(f"{name} is required{f' ({hint})' if hint else ''}", field=name)
        return value

    def number(self, name: str, default: float | None = None, **bounds: object) -> float | None:
        """A number within bounds (see :func:`parse_number`), or ``default`` when not given."""
        raw = self.text(name)
        return default if raw is None else parse_number(raw, name, **bounds)  # type: ignore[arg-type]

    def integer(self, name: str, default: int | None = None, **bounds: object) -> int | None:
        """A whole number within bounds, or ``default`` when not given."""
        raw = self.text(name)
        return default if raw is None else int(parse_number(raw, name, integer=True, **bounds))  # type: ignore[arg-type]

    def choice(self, name: str, allowed: Iterable[str], default: str | None = None) -> str | None:
        """One of ``allowed`` (compared case-insensitively, returned as listed), or ``default``."""
        raw = self.text(name)
        if raw is None:
            return default
        options = list(allowed)
        for option in options:
            if raw.lower() == option.lower():
                return option
        raise ValidationError(f"unknown {name} {raw!r}; expected one of: {', '.join(options)}", field=name)

    def many(self, name: str, allowed: Iterable[str] | None = None) -> tuple[str, ...]:
        """Comma-separated or repeated values, each one of ``allowed`` when that is given."""
        values = tuple(v.strip() for item in self._values.get(name, []) for v in item.split(",") if v.strip())
        if allowed is not None:
            known = set(allowed)
            bad = [v for v in values if v not in known]
            if bad:
                raise ValidationError(f"unknown {name} {bad[0]!r}; expected one of: {', '.join(sorted(known))}",
                                      field=name)
        return values

    def system(self, name: str = "crs") -> str:
        """The coordinate system of positions the client sends (default wgs84)."""
        return self.choice(name, SYSTEMS, "wgs84")  # type: ignore[return-value]

    def position(self, lon: str = "lon", lat: str = "lat", system: str = "crs") -> tuple[float, float, str] | None:
        """(lon, lat, system) as the client gave them, checked to lie in the study area; None when not given."""
        if not self.given(lon) and not self.given(lat):
            return None
        for name in (lon, lat):
            if not self.given(name):
                raise ValidationError(f"give both {lon} and {lat}; {name} is missing", field=name)
        x = parse_number(self.text(lon), lon, minimum=-180, maximum=180)
        y = parse_number(self.text(lat), lat, minimum=-90, maximum=90)
        key = self.system(system)
        wx, wy = crs.to_wgs84(x, y, key)
        check_in_study_area(float(wx), float(wy), (lon, lat), what=f"({x:g}, {y:g}) in {key}")
        return x, y, key

    def only_with(self, needed: str, *names: str) -> None:
        """Refuse ``names`` when ``needed`` is not given (a parameter that would otherwise be ignored)."""
        if not self.given(needed):
            for name in names:
                if self.given(name):
                    raise ValidationError(f"{name} is used only with {needed}; give {needed} or drop {name}",
                                          field=name)


@contextmanager
def spelt_as(**names: str) -> Iterator[None]:
    """Rename the parameter an error names (``lon="qlon"``) to what the client actually sent."""
    try:
        yield
    except GeoError as exc:
        if exc.field in names:
            exc.field = names[exc.field]
        raise


def polygon_from_geojson(text: str | bytes, field: str = "polygon") -> shapely.Geometry:
    """A WGS84 Polygon/MultiPolygon from GeoJSON text (a geometry or a Feature), bounded in vertices."""
    try:
        doc = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise ValidationError("expected a GeoJSON Polygon or MultiPolygon (WGS84)", field=field) from None
    if isinstance(doc, dict) and doc.get("type") == "Feature":
        doc = doc.get("geometry")
    if not isinstance(doc, dict) or doc.get("type") not in ("Polygon", "MultiPolygon"):
        raise ValidationError("expected a GeoJSON Polygon or MultiPolygon geometry (or a Feature with one), WGS84",
                              field=field)
    try:
        geom = shapely.from_geojson(json.dumps(doc))
    except (shapely.errors.GEOSException, ValueError, TypeError):
        raise ValidationError("expected a GeoJSON Polygon or MultiPolygon with valid coordinates (WGS84)",
                              field=field) from None
    vertices = shapely.get_num_coordinates(geom)
    if vertices > MAX_POLYGON_VERTICES:
        raise ValidationError(f"the polygon has {vertices} vertices; at most {MAX_POLYGON_VERTICES} are accepted "
                              "(simplify it first)", field=field)
    return geom
