"""The settings of the service, read and checked once, then handed down as one typed object.

``Settings.from_mapping(mapping)`` takes the raw values (the app passes its config, which holds the
environment; the command line passes the environment) and checks each one; a bad value raises
:class:`SettingsError` naming the setting and what was expected, so a misconfigured service refuses to
start instead of answering wrongly. Nothing else in ``geo`` reads the environment: functions take what
they need (a store location, a belt width, a font) as arguments.

| setting | default | meaning |
|---|---|---|
| ``CORRIDORS_STORE`` | ``instance/corridors.gpkg`` | the store: a GeoPackage path, ``gpkg:`` or ``postgresql://`` URL |
| ``DATABASE_URL`` | — | a PostGIS store, ``postgresql://user:password@host/db`` (used when ``CORRIDORS_STORE`` is unset) |
| ``CORRIDOR_BELT_KM`` | ``15`` | belt half-width either side of a corridor axis (km) |
| ``STREET_RADIUS_KM`` | ``2`` | possible area of a record located to a street: a circle of this radius (km) |
| ``TOWN_RADIUS_KM`` | ``8`` | possible area of a record located to a town (乡镇): a circle of this radius (km) |
| ``TILES`` | ``offline`` | basemap: ``offline`` or an XYZ URL template on the intranet |
| ``TILES_CRS`` | ``wgs84`` | CRS of those tiles (``wgs84`` or ``cgcs2000``; GCJ-02/BD-09 tiles are refused) |
| ``TILES_ATTRIBUTION`` | — | attribution shown for the tiles |
| ``CORRIDORS_CJK_FONT`` | Debian's WenQuanYi Micro Hei | font file for Chinese text in exported maps |
| ``READ_ACCESS`` | ``public`` | ``public``: anyone may read; ``login``: reading needs a login too (writing always does) |
| ``SECRET_KEY`` | kept in ``instance/secret_key`` | signs the session cookies; the same on every machine serving one store |
| ``BIG_LAYER_FEATURES`` | ``20000`` | a point layer with more features (after the filters) is drawn from ``/tiles/`` on the map |
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from geo.analysis import DEFAULT_BELT_KM, check_belt_km
from geo.errors import GeoError, ValidationError
from geo.possible import DEFAULT_RADII_KM
from geo.store import DEFAULT_STORE_PATH, is_postgis_url

#: Where the app keeps its own store (Flask's instance folder): never removed by a clean or a rebuild.
INSTANCE_DIR = DEFAULT_STORE_PATH.parent
DEFAULT_STORE = DEFAULT_STORE_PATH
#: The names of the settings, as environment variables and app config keys.
NAMES: tuple[str, ...] = ("CORRIDORS_STORE", "DATABASE_URL", "CORRIDOR_BELT_KM", "STREET_RADIUS_KM",
                          "TOWN_RADIUS_KM", "TILES", "TILES_CRS", "TILES_ATTRIBUTION", "CORRIDORS_CJK_FONT",
                          "READ_ACCESS", "SECRET_KEY", "BIG_LAYER_FEATURES")
#: Who may read (``READ_ACCESS``): anyone, or only a logged-in user (or a bearer token); writing always needs one.
READ_ACCESS_MODES: tuple[str, ...] = ("public", "login")
#: The shortest ``SECRET_KEY`` accepted (characters).
SECRET_KEY_MIN_CHARS = 16
#: Above this many features (after the filters) the web map draws a point layer from its tiles, not every point.
DEFAULT_BIG_LAYER_FEATURES = 20_000


class SettingsError(GeoError):
    """A setting has a value the service cannot run with."""


@dataclass(frozen=True)
class Settings:
    """Every setting the library and the app use, checked."""

    store: str = str(DEFAULT_STORE)
    belt_km: float = DEFAULT_BELT_KM
    street_radius_km: float = DEFAULT_RADII_KM["street"]
    town_radius_km: float = DEFAULT_RADII_KM["town"]
    tiles: str = "offline"
    tiles_crs: str = "wgs84"
    tiles_attribution: str = ""
    cjk_font: str | None = None
    read_access: str = "public"
    secret_key: str | None = field(default=None, repr=False)  # None: the app keeps one in its instance folder
    big_layer_features: int = DEFAULT_BIG_LAYER_FEATURES

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> Settings:
        """Check the raw values (missing or empty means the default); raise SettingsError naming a bad one."""
        def get(name: str) -> str | None:
            raw = values.get(name)
            return None if raw is None or str(raw).strip() == "" else str(raw).strip()

        database_url = get("DATABASE_URL")
        if database_url is not None and not is_postgis_url(database_url):
            raise SettingsError("DATABASE_URL: expected a postgresql:// URL (postgresql://user:password@host/"
                                "database); a GeoPackage is named by CORRIDORS_STORE", field="DATABASE_URL")
        store = get("CORRIDORS_STORE") or database_url or str(DEFAULT_STORE)
        belt = get("CORRIDOR_BELT_KM")
        try:
            belt_km = DEFAULT_BELT_KM if belt is None else check_belt_km(belt)
        except ValidationError as exc:
            raise SettingsError(f"CORRIDOR_BELT_KM={belt!r}: {exc.detail}", field="CORRIDOR_BELT_KM") from None
        radii = {name: _radius(get(f"{name.upper()}_RADIUS_KM"), f"{name.upper()}_RADIUS_KM", default)
                 for name, default in DEFAULT_RADII_KM.items()}
        read_access = (get("READ_ACCESS") or "public").lower()
        if read_access not in READ_ACCESS_MODES:
            raise SettingsError(f"READ_ACCESS={read_access!r}: expected public (anyone may read) or login (reading "
                                "needs a login too)", field="READ_ACCESS")
        secret_key = get("SECRET_KEY")
        if secret_key is not None and len(secret_key) < SECRET_KEY_MIN_CHARS:  # the value is never echoed
            raise SettingsError(f"SECRET_KEY: too short ({len(secret_key)} characters); use at least "
                                f"{SECRET_KEY_MIN_CHARS} random ones, e.g. python -c 'import secrets; "
                                "print(secrets.token_urlsafe(32))'", field="SECRET_KEY")
        big = get("BIG_LAYER_FEATURES")
        if big is not None and not (big.isascii() and big.isdigit() and int(big) >= 1):
            raise SettingsError(f"BIG_LAYER_FEATURES={big[:40]!r}: expected a whole number of features, at least 1",
                                field="BIG_LAYER_FEATURES")
        settings = cls(store=store if is_postgis_url(store) else store.removeprefix("gpkg:"), belt_km=belt_km,
                       tiles=get("TILES") or "offline",
                       tiles_crs=(get("TILES_CRS") or "wgs84").lower(),
                       tiles_attribution=get("TILES_ATTRIBUTION") or "", cjk_font=get("CORRIDORS_CJK_FONT"),
                       read_access=read_access, secret_key=secret_key,
                       street_radius_km=radii["street"], town_radius_km=radii["town"],
                       big_layer_features=DEFAULT_BIG_LAYER_FEATURES if big is None else int(big))
        settings._check_tiles()
        return settings

    def _check_tiles(self) -> None:
        """Refuse basemap tiles the overlays would not line up with (GCJ-02/BD-09 are offset ~0.6-1.3 km)."""
        if self.tiles_crs in ("gcj02", "bd09"):
            raise SettingsError(f"TILES_CRS={self.tiles_crs}: the overlays are WGS84 and would be drawn 0.6–1.3 km "
                                "off on these tiles; configure WGS84 (or CGCS2000) XYZ tiles, or TILES=offline",
                                field="TILES_CRS")
        if self.tiles_crs not in ("wgs84", "cgcs2000"):
            raise SettingsError(f"TILES_CRS={self.tiles_crs!r}: expected wgs84 or cgcs2000", field="TILES_CRS")
        url = self.tiles
        if url != "offline" and not ("{z}" in url and "{x}" in url and "{y}" in url):
            raise SettingsError(f"TILES={url!r}: expected 'offline' or an XYZ URL template with {{z}}/{{x}}/{{y}}",
                                field="TILES")

    @property
    def radii_km(self) -> dict[str, float]:
        """The radius (km) of the possible area of a record located to a street, and to a town."""
        return {"street": self.street_radius_km, "town": self.town_radius_km}

    @property
    def is_postgis(self) -> bool:
        """Whether the store is a PostGIS database (else a GeoPackage file)."""
        return is_postgis_url(self.store)


def _radius(raw: str | None, name: str, default: float) -> float:
    """A possible-area radius setting in km (0 < r <= 50)."""
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not 0 < value <= 50:
        raise SettingsError(f"{name}={raw!r}: expected a radius in km, more than 0 and at most 50", field=name)
    return value
