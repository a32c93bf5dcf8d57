"""The PostGIS store: the same whole-layer interface as :class:`geo.store.GeoPackageStore`, in PostgreSQL.

``PostGISStore("postgresql://user@host/db")`` keeps the layers in the schema ``corridors`` of that
database, whose tables are versioned by Alembic (``geo/migrations/``; :meth:`PostGISStore.migrate`,
run by every write):

- ``corridors.store_meta``: one row, the version of the layers (a new one on every successful write)
  and when they were written;
- ``corridors.store_layers``: the layers in the order written, whether each is spatial;
- one table per layer, named as the layer: its columns as written, a ``store_row`` number (the row
  order; the primary key) and, for a spatial layer, the geometry in SRID 4326 with a GiST index on
  the geometry and one on ``(geometry::geography)`` (geodesic ``ST_DWithin(geometry::geography, …)``
  queries use the latter; the cast must be written the same way in the query). A layer without
  geometry (the register ``sources``) is a plain table.

:meth:`~PostGISStore.write` replaces every layer in ONE transaction: a failure in any layer (named in
the :class:`~geo.errors.StoreError`) leaves the previous layers and version as they were. Readers
take a shared advisory lock and a write an exclusive one, so a read never sees half a write. A write
also gives every layer with an ``id`` column a b-tree index on it (what :meth:`~PostGISStore.by_id` uses).

A store keeps one SQLAlchemy engine with a small pool of connections (made on first use; a forked child
makes its own). :meth:`~PostGISStore.close` (or leaving ``with PostGISStore(url) as store:``) closes
them. The layer list and each table's columns are kept per data version (``store_meta.version``): every
call checks the version in one query and reads them again only when it changed, so a write by another
process is seen by the next call.

Reading gives what the GeoPackage store gives for the same layers (same columns with the geometry
last, dtypes and values, rows in the order written): integer columns come back as ``int64``, or
``float64`` when a value is missing (``Int64`` in a table without geometry), text as strings with
missing values (``object`` when every value is missing), as pyogrio reads a GeoPackage.
"""

from __future__ import annotations

import os
import re
import threading
import uuid
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import geopandas as gpd
import pandas as pd
import psycopg
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.pool import QueuePool

from geo import crs
from geo.errors import NotFoundError, StoreError
from geo.store import Layer, LayerInfo, Update, appended, is_spatial
from geo.store_queries import (
    DISTANCE_COLUMN,
    Where,
    check_bbox,
    check_geometry,
    check_layer,
    check_page,
    check_radius,
    check_where,
    key_column,
)

#: The schema holding the store's tables.
SCHEMA = "corridors"
#: Tables of the store itself: no layer may be called so.
META_TABLES = frozenset({"store_meta", "store_layers", "alembic_version"})
#: The column keeping each layer's row order.
ROW_COLUMN = "store_row"
#: Key of the advisory lock that orders writes (exclusive) and reads (shared).
LOCK_KEY = 0x636F7272  # "corr"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
#: PostGIS geometry type names as GDAL spells them (what ``GeoPackageStore.info`` reports).
_GDAL_TYPES = {t.upper(): t for t in ("Point", "LineString", "Polygon", "MultiPoint", "MultiLineString",
                                      "MultiPolygon", "GeometryCollection")} | {"GEOMETRY": "Unknown"}
_INTEGER_SQL = {"smallint", "integer", "bigint"}
_FLOAT_SQL = {"real", "double precision", "numeric"}
_TEXT_SQL = {"text", "character varying", "character"}
#: Connections a store keeps open (and how many more it may open when they are all busy): one kept
#: connection per request thread of a worker (WEB_THREADS, default 4). Connections beyond the kept ones
#: are closed when returned, so a smaller pool would open and close one for many requests.
POOL_SIZE = 4
POOL_OVERFLOW = 2
#: Seconds after which a pooled connection is closed and replaced rather than reused.
POOL_RECYCLE_S = 1800
#: Stores with an open pool, so a test session can close them all before its cluster stops.
_OPEN_STORES: weakref.WeakSet[PostGISStore] = weakref.WeakSet()


def _sqlalchemy_url(url: str) -> sa.URL:
    parsed = make_url(url.replace("postgres://", "postgresql://", 1) if url.startswith("postgres://") else url)
    if not parsed.drivername.startswith("postgresql"):
        raise StoreError(f"not a PostgreSQL URL: {parsed.render_as_string(hide_password=True)}")
    return parsed.set(drivername="postgresql+psycopg")


def _ident(name: str) -> str:
    """A column name as a quoted SQL identifier (names come from the table's own columns)."""
    return '"' + name.replace('"', '""') + '"'


def _quoted(name: str) -> str:
    return f'{SCHEMA}."{name}"'


def _promote_to_multi(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Make a mix of X and MultiX all MultiX (as pyogrio does when writing a GeoPackage)."""
    types = set(gdf.geometry.geom_type.dropna())
    if len(types) != 2:
        return gdf
    single = min(types, key=len)
    if types != {single, f"Multi{single}"} or single not in ("Point", "LineString", "Polygon"):
        return gdf
    make = {"Point": shapely.multipoints, "LineString": shapely.multilinestrings, "Polygon": shapely.multipolygons}
    values = gdf.geometry.to_numpy().copy()
    for i, geom in enumerate(values):
        if geom is not None and geom.geom_type == single:
            values[i] = make[single]([geom])
    out = gdf.copy()
    out[gdf.geometry.name] = gpd.GeoSeries(values, index=gdf.index, crs=gdf.crs)
    return out


@dataclass
class _Meta:
    """What a store knows of one data version: its layers (name -> spatial) and their tables' columns."""

    version: str
    layers: dict[str, bool]
    columns: dict[str, dict[str, str]] = field(default_factory=dict)


class PostGISStore:
    """The layers in a PostGIS database (schema ``corridors``, SRID 4326), replaced in one transaction."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._sa_url = _sqlalchemy_url(url)
        self._engine_lock = threading.Lock()
        self._engine_obj: sa.Engine | None = None
        self._engine_pid: int | None = None
        self._meta: _Meta | None = None

    @property
    def _engine(self) -> sa.Engine:
        """The store's engine, made on first use: a small pool of connections.

        Connections are not pinged before use (a round trip on every request): one the server dropped
        fails its first statement, which invalidates the pool, and :meth:`_locked` and
        :meth:`data_version` then try once more on a fresh connection; ``pool_recycle`` retires
        connections before a firewall or server timeout silently drops them."""
        with self._engine_lock:
            if self._engine_obj is not None and self._engine_pid != os.getpid():
                # forked: leave the parent's connections to the parent, open our own
                self._engine_obj.dispose(close=False)
                self._engine_obj = None
            if self._engine_obj is None:
                self._engine_obj = sa.create_engine(self._sa_url, poolclass=QueuePool, pool_size=POOL_SIZE,
                                                    max_overflow=POOL_OVERFLOW, pool_recycle=POOL_RECYCLE_S,
                                                    pool_timeout=30)
                self._engine_pid = os.getpid()
                _OPEN_STORES.add(self)
            return self._engine_obj

    def close(self) -> None:
        """Close the store's connections and forget what it knew; the next call opens new ones."""
        with self._engine_lock:
            engine, self._engine_obj, self._meta = self._engine_obj, None, None
            _OPEN_STORES.discard(self)
        if engine is not None:
            engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @staticmethod
    def close_all() -> None:
        """Close every store's connections (a test session does so before it stops its server)."""
        for store in list(_OPEN_STORES):
            store.close()

    @property
    def path(self) -> str:
        """Where the store is, for messages: the URL without its password."""
        return re.sub(r"^([a-z]+://[^:/@?]*):[^@/?]*@", r"\1:***@", self.url)

    def __repr__(self) -> str:
        return f"PostGISStore({self.path!r})"

    # -- connections ---------------------------------------------------------------------------------------

    @contextmanager
    def _connect(self, *, write: bool = False) -> Iterator[Connection]:
        """A transaction holding the store's advisory lock (exclusive to write, shared to read).

        Every read takes the shared lock, the queries too: a query is two statements (the version
        check of :meth:`_current`, then the SELECT built from the columns known for that version), and
        under READ COMMITTED each statement sees what was committed when it started, so without the
        lock a write committed between the two could swap the table under the cached columns. The
        lock costs one round trip on a pooled connection; a write waits for the reads holding it."""
        conn, transaction = self._locked(write)
        try:
            with conn, transaction:
                yield conn
        except sa.exc.DBAPIError:
            self._meta = None  # e.g. the schema dropped behind our back: look everything up again
            raise

    def _locked(self, write: bool, *, retry: bool = True) -> tuple[Connection, sa.RootTransaction]:
        """A pooled connection in a new transaction that holds the advisory lock.

        A connection the server dropped (a restart, an idle timeout) fails on the lock statement,
        before anything was done on it: SQLAlchemy then invalidates the pool's older connections, and
        a fresh one is tried once."""
        try:
            conn = self._engine.connect()
        except sa.exc.OperationalError as exc:
            raise StoreError(f"cannot connect to the PostGIS store {self.path}: {exc.orig}",
                             file=self.path) from None
        lock = "pg_advisory_xact_lock" if write else "pg_advisory_xact_lock_shared"
        try:
            transaction = conn.begin()
            conn.execute(sa.text(f"SELECT {lock}(:key)"), {"key": LOCK_KEY})
            return conn, transaction
        except sa.exc.DBAPIError as exc:
            conn.close()
            if retry and exc.connection_invalidated:
                return self._locked(write, retry=False)
            self._meta = None
            raise

    def _has_store(self, conn: Connection) -> bool:
        return conn.execute(sa.text("SELECT to_regclass(:t) IS NOT NULL"),
                            {"t": f"{SCHEMA}.store_meta"}).scalar_one() and \
            conn.execute(sa.text(f"SELECT count(*) FROM {SCHEMA}.store_meta")).scalar_one() > 0

    def _require(self, conn: Connection) -> None:
        if not self._has_store(conn):
            raise NotFoundError(f"no store in {self.path}; build it with `python run.py build --out URL`",
                                file=self.path)

    def _current(self, conn: Connection) -> _Meta:
        """The layers and columns of the version in the database: the kept ones if the version is the
        same (one query), else read again. NotFoundError when nothing was written."""
        meta = self._meta
        if meta is None:
            self._require(conn)  # store_meta may not exist yet
        # once seen, store_meta stays (migrations add tables, none drops it)
        version = conn.execute(sa.text(f"SELECT version FROM {SCHEMA}.store_meta")).scalar_one_or_none()
        if version is None:
            self._meta = None
            self._require(conn)
        if meta is not None and meta.version == str(version):
            return meta
        rows = conn.execute(sa.text(f"SELECT name, spatial FROM {SCHEMA}.store_layers ORDER BY position"))
        meta = _Meta(str(version), {str(name): bool(spatial) for name, spatial in rows})
        self._meta = meta
        return meta

    def _catalogue(self, conn: Connection) -> dict[str, bool]:
        """The layers, in the order written, each with whether it is spatial."""
        return self._current(conn).layers

    # -- schema --------------------------------------------------------------------------------------------

    def migrate(self) -> None:
        """Bring the schema ``corridors`` to the newest Alembic revision (creating it on first use)."""
        with self._connect(write=True) as conn:
            self._migrate(conn)

    def _migrate(self, conn: Connection) -> None:
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.attributes["connection"] = conn
        config.attributes["schema"] = SCHEMA
        command.upgrade(config, "head")

    def schema_revision(self) -> str | None:
        """The Alembic revision the database is at (None before the first migration)."""
        with self._connect() as conn:
            if not conn.execute(sa.text("SELECT to_regclass(:t) IS NOT NULL"),
                                {"t": f"{SCHEMA}.alembic_version"}).scalar_one():
                return None
            return conn.execute(sa.text(f"SELECT version_num FROM {SCHEMA}.alembic_version")).scalar_one_or_none()

    # -- reading -------------------------------------------------------------------------------------------

    def exists(self) -> bool:
        """Return True when a write has completed in this database (the server must answer)."""
        with self._connect() as conn:
            return bool(self._has_store(conn))

    def data_version(self) -> str:
        """The version of the layers: a new string after every successful write.

        Asked on every request, so it is one statement on a pooled connection in autocommit (a quarter
        of the cost of a transaction under the advisory lock): the version row is written in the same
        transaction as the layers, so it names a committed version. Any failure goes the long way,
        which raises the store's own errors (not built, unreachable)."""
        if self._meta is not None:
            try:
                raw = self._engine.raw_connection()
            except sa.exc.SQLAlchemyError:
                raw = None
            if raw is not None:
                try:
                    conn = raw.driver_connection
                    conn.autocommit = True
                    try:
                        row = conn.execute(f"SELECT version FROM {SCHEMA}.store_meta").fetchone()
                    finally:
                        conn.autocommit = False
                    if row is not None and row[0] is not None:
                        return str(row[0])
                except psycopg.Error:
                    raw.invalidate()  # the long way below tries a fresh connection
                finally:
                    raw.close()
        with self._connect() as conn:
            return self._current(conn).version

    def layer_names(self) -> list[str]:
        """Return the names of the layers, in the order they were written."""
        with self._connect() as conn:
            return list(self._catalogue(conn))

    def read(self, name: str) -> Layer:
        """Read a whole layer: a GeoDataFrame in WGS84 (EPSG:4326), or a DataFrame for a table."""
        with self._connect() as conn:
            return self._read(conn, name, self._current(conn))

    def read_all(self) -> dict[str, Layer]:
        """Read every layer (spatial ones in WGS84), keyed by name, all of one version."""
        return self.snapshot()[1]

    def snapshot(self) -> tuple[str, dict[str, Layer]]:
        """The data version and every layer (spatial ones in WGS84) of that version, read in one transaction."""
        with self._connect() as conn:
            meta = self._current(conn)
            return meta.version, {name: self._read(conn, name, meta) for name in meta.layers}

    def info(self) -> list[LayerInfo]:
        """Describe every layer: feature count, geometry type and CRS ("None" for a table), as GDAL names them."""
        out = []
        with self._connect() as conn:
            for name, spatial in self._catalogue(conn).items():
                count = int(conn.execute(sa.text(f"SELECT count(*) FROM {_quoted(name)}")).scalar_one())
                if not spatial:
                    out.append(LayerInfo(name, count, "None", "None"))
                    continue
                gtype, srid = conn.execute(sa.text(
                    "SELECT type, srid FROM geometry_columns WHERE f_table_schema = :s AND f_table_name = :t"),
                    {"s": SCHEMA, "t": name}).one()
                out.append(LayerInfo(name, count, _GDAL_TYPES.get(str(gtype).upper(), str(gtype)), f"EPSG:{srid}"))
        return out

    def _read(self, conn: Connection, name: str, meta: _Meta) -> Layer:
        catalogue = meta.layers
        if name not in catalogue:
            raise NotFoundError(f"unknown layer {name!r}; expected one of: {', '.join(catalogue)}", field="layer")
        types = self._columns(conn, name, meta)
        sql = sa.text(f"SELECT * FROM {_quoted(name)} ORDER BY {ROW_COLUMN}")
        spatial = catalogue[name]
        if spatial:
            geom = next(c for c, t in types.items() if t == "USER-DEFINED")
            frame = gpd.read_postgis(sql, conn, geom_col=geom)
            if frame.crs is None:  # an empty layer: no geometry to take the SRID from
                frame = frame.set_crs(crs.WGS84)
        else:
            frame = pd.read_sql(sql, conn)
        frame = frame.drop(columns=[ROW_COLUMN]).reset_index(drop=True)
        for column, sql_type in types.items():
            if column in frame.columns and column != ROW_COLUMN:
                frame[column] = self._as_pyogrio_reads(frame[column], sql_type, spatial)
        if spatial:  # the geometry column last, as a GeoPackage gives it
            frame = frame[[c for c in frame.columns if c != geom] + [geom]]
        return frame

    @staticmethod
    def _columns(conn: Connection, name: str, meta: _Meta) -> dict[str, str]:
        """A layer table's columns (``store_row`` included) and their SQL types, in table order; kept
        with ``meta``, the version :meth:`_current` gave in the same transaction."""
        if name in meta.columns:
            return meta.columns[name]
        types = dict(conn.execute(sa.text(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = :s "
            "AND table_name = :t ORDER BY ordinal_position"), {"s": SCHEMA, "t": name}).all())
        if name in meta.layers:
            meta.columns[name] = types
        return types

    # -- queries in SQL (geo.store_queries: the same calls on the GeoPackage store) --------------------------

    def near(self, layer: str, geometry_wgs84: shapely.Geometry, radius_m: float, *, limit: int | None = None,
             offset: int = 0, where: Where | None = None) -> gpd.GeoDataFrame:
        """Rows of a layer within ``radius_m`` (geodesic, WGS84 spheroid) of a WGS84 geometry, in SQL.

        ``ST_DWithin(geometry::geography, …)`` finds them through the layer's geography GiST index;
        ``distance_km`` is ``ST_Distance`` of the two geographies (spheroid) / 1000, not rounded. Ordered
        by distance, then id; ``where`` keeps rows whose text column holds one of the values given."""
        with self._connect() as conn:
            sql, params, types, geom = self._near_statement(conn, layer, geometry_wgs84, radius_m, limit=limit,
                                                            offset=offset, where=where)
            return self._select(conn, sql, params, types, geom)

    def in_bbox(self, layer: str, west: float, south: float, east: float, north: float, *,
                limit: int | None = None, offset: int = 0, where: Where | None = None) -> gpd.GeoDataFrame:
        """Rows whose bounding box meets a WGS84 box (``&&``, the geometry GiST index), in stored order."""
        w, s, e, n = check_bbox(west, south, east, north)
        limit, offset = check_page(limit, offset)
        with self._connect() as conn:
            types, geom, clauses, params = self._prepare(conn, layer, where)
            clauses.insert(0, f"{_ident(geom)} && ST_MakeEnvelope(:west, :south, :east, :north, 4326)")
            sql = (f"SELECT * FROM {_quoted(layer)} WHERE {' AND '.join(clauses)} ORDER BY {ROW_COLUMN} "
                   "LIMIT :limit OFFSET :offset")
            params |= {"west": w, "south": s, "east": e, "north": n, "limit": limit, "offset": offset}
            return self._select(conn, sql, params, types, geom)

    def by_id(self, layer: str, id: str) -> gpd.GeoDataFrame:
        """The rows of a layer with this id (``code`` for a layer without ``id``); NotFoundError if none."""
        with self._connect() as conn:
            types, geom, _, _ = self._prepare(conn, layer, None)
            key = key_column(layer, list(types))
            sql = f"SELECT * FROM {_quoted(layer)} WHERE {_ident(key)} = :id ORDER BY {ROW_COLUMN}"
            out = self._select(conn, sql, {"id": str(id)}, types, geom)
        if out.empty:
            raise NotFoundError(f"unknown id {id!r} in layer {layer!r}", field="id")
        return out

    def _prepare(self, conn: Connection, layer: object, where: Where | None
                 ) -> tuple[dict[str, str], str, list[str], dict[str, object]]:
        """Check a layer and a filter against the store; return (column types, geometry column, SQL
        conditions of the filter, their bound values)."""
        meta = self._current(conn)
        name = check_layer(layer, meta.layers)
        types = self._columns(conn, name, meta)
        geom = next(c for c, t in types.items() if t == "USER-DEFINED")
        columns = [c for c in types if c != ROW_COLUMN]
        filters = check_where(name, where, [c for c in columns if types[c] in _TEXT_SQL], columns)
        clauses, params = [], {}
        for i, (column, values) in enumerate(filters.items()):
            clauses.append(f"{_ident(column)} = ANY(:where_{i})")
            params[f"where_{i}"] = values
        return types, geom, clauses, params

    def _near_statement(self, conn: Connection, layer: str, geometry_wgs84: shapely.Geometry, radius_m: float,
                        *, limit: int | None, offset: int, where: Where | None
                        ) -> tuple[str, dict[str, object], dict[str, str], str]:
        """The SQL of :meth:`near`, its bound values, the layer's column types and geometry column."""
        geometry, radius = check_geometry(geometry_wgs84), check_radius(radius_m)
        limit, offset = check_page(limit, offset)
        types, geom, clauses, params = self._prepare(conn, layer, where)
        g, key = _ident(geom), _ident(key_column(layer, list(types)))
        query = "ST_GeomFromText(:wkt, 4326)::geography"
        # the cast written as the index is: ("geometry"::geography)
        clauses.insert(0, f"ST_DWithin({g}::geography, {query}, :radius)")
        sql = (f"SELECT *, ST_Distance({g}::geography, {query}) / 1000.0 AS {DISTANCE_COLUMN} "
               f"FROM {_quoted(layer)} WHERE {' AND '.join(clauses)} "
               f'ORDER BY {DISTANCE_COLUMN}, {key} COLLATE "C", {ROW_COLUMN} LIMIT :limit OFFSET :offset')
        params |= {"wkt": shapely.to_wkt(geometry, rounding_precision=-1), "radius": radius,
                   "limit": limit, "offset": offset}
        return sql, params, types, geom

    def _select(self, conn: Connection, sql: str, params: Mapping[str, object], types: dict[str, str],
                geom: str) -> gpd.GeoDataFrame:
        """Run a query of a spatial layer; give its rows as :meth:`read` would (``distance_km`` before the
        geometry when there is one)."""
        # not gpd.read_postgis: it looks the SRID up in spatial_ref_sys (one more query and a table
        # reflection per call); every layer here is SRID 4326. Rows as pandas.read_sql builds them.
        result = conn.execute(sa.text(sql), dict(params))
        rows = pd.DataFrame.from_records(result.fetchall(), columns=list(result.keys()), coerce_float=True)
        rows[geom] = gpd.GeoSeries(shapely.from_wkb(rows[geom].to_numpy(dtype=object)), index=rows.index,
                                   crs=crs.WGS84)
        frame = gpd.GeoDataFrame(rows, geometry=geom, crs=crs.WGS84)
        frame = frame.drop(columns=[ROW_COLUMN]).reset_index(drop=True)
        for column, sql_type in types.items():
            if column in frame.columns and column != ROW_COLUMN:
                frame[column] = self._as_pyogrio_reads(frame[column], sql_type, True)
        if DISTANCE_COLUMN in frame.columns:
            frame[DISTANCE_COLUMN] = frame[DISTANCE_COLUMN].astype("float64")
        front = [c for c in frame.columns if c not in (geom, DISTANCE_COLUMN)]
        return frame[front + [c for c in (DISTANCE_COLUMN, geom) if c in frame.columns]]

    @staticmethod
    def _as_pyogrio_reads(col: pd.Series, sql_type: str, spatial: bool) -> pd.Series:
        """A column with the dtype pyogrio gives for the same GeoPackage field."""
        if sql_type in _INTEGER_SQL:
            if col.isna().any():
                return col.astype("float64") if spatial else col.astype("Int64")
            return col.astype("int64")
        if sql_type in _FLOAT_SQL:
            return col.astype("float64")
        if sql_type in _TEXT_SQL:
            values = col.astype(object).where(col.notna(), None).to_numpy(dtype=object)
            return pd.Series(values, index=col.index, name=col.name)  # str, or object when all missing
        if sql_type == "boolean":
            return col if col.isna().any() else col.astype(bool)
        return col

    # -- writing -------------------------------------------------------------------------------------------

    def _check(self, layers: Mapping[str, Layer]) -> None:
        for name, frame in layers.items():
            if not _NAME.match(name) or name in META_TABLES:
                raise StoreError(f"layer {name!r}: a PostGIS layer name is lower-case letters, digits and _, "
                                 f"at most 63, and not one of {', '.join(sorted(META_TABLES))}")
            if ROW_COLUMN in frame.columns:
                raise StoreError(f"layer {name!r}: the column name {ROW_COLUMN!r} is the store's own")
            if is_spatial(frame) and (frame.crs is None or not frame.crs.equals(crs.WGS84)):
                raise StoreError(f"layer {name!r} must be in WGS84 (EPSG:4326), got {frame.crs}")

    def write(
        self,
        layers: Mapping[str, Layer],
        progress: Callable[[str], None] | None = None,
    ) -> None:
        """Replace all layers in one transaction, then give the store a new version.

        A spatial layer must be in WGS84; it gets a GiST index on its geometry and one on
        ``(geometry::geography)``. A layer without a geometry column becomes a plain table. On any
        error nothing changes and a :class:`StoreError` names the layer."""
        self._check(layers)
        self.migrate()
        with self._connect(write=True) as conn:
            old = conn.execute(sa.text(f"SELECT name FROM {SCHEMA}.store_layers")).scalars().all()
            for name in sorted(set(old) | set(layers)):
                conn.execute(sa.text(f"DROP TABLE IF EXISTS {_quoted(name)}"))
            conn.execute(sa.text(f"DELETE FROM {SCHEMA}.store_layers"))
            for name, frame in layers.items():
                self._put_layer(conn, name, frame, progress)
            self._new_version(conn)

    def update(self, change: Callable[[dict[str, Layer]], Update],
               progress: Callable[[str], None] | None = None) -> Update:
        """Read every layer, let ``change`` say what to replace and append, and commit that in one
        transaction holding the exclusive lock (no other writer in between; readers see before or after).

        Only the layers named are rewritten; rows appended to an existing table are inserted (the change
        log is never rewritten). ``change`` raising, or saying there is nothing to write, leaves the store
        (and its version) as it was."""
        self.migrate()
        with self._connect(write=True) as conn:
            meta = self._current(conn) if self._has_store(conn) else None
            current = {name: self._read(conn, name, meta) for name in meta.layers} if meta else {}
            update = change(dict(current))
            if not update:
                return update
            self._check({**update.replace, **update.append})
            for name, frame in update.replace.items():
                self._put_layer(conn, name, frame, progress)
            for name, rows in update.append.items():
                if name in current and set(rows.columns) <= set(current[name].columns):
                    self._insert_rows(conn, name, rows, progress)
                else:
                    self._put_layer(conn, name, appended(current.get(name), rows), progress)
            self._new_version(conn)
        return update

    def _put_layer(self, conn: Connection, name: str, frame: Layer,
                   progress: Callable[[str], None] | None) -> None:
        """Create (or replace) one layer's table, keeping its place in the layer order (new ones go last)."""
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {_quoted(name)}"))
        try:
            with conn.begin_nested():  # a savepoint, so the error below is the layer's own
                spatial = self._write_layer(conn, name, frame)
        except Exception as exc:
            raise StoreError(f"could not write layer {name!r} to {self.path}: {exc}", file=self.path) from exc
        conn.execute(sa.text(
            f"INSERT INTO {SCHEMA}.store_layers (position, name, spatial) "
            f"VALUES ((SELECT coalesce(max(position) + 1, 0) FROM {SCHEMA}.store_layers), :n, :s) "
            "ON CONFLICT (name) DO UPDATE SET spatial = EXCLUDED.spatial"), {"n": name, "s": spatial})
        if progress:
            progress(f"  wrote layer {name}: {len(frame)} features" if spatial
                     else f"  wrote table {name}: {len(frame)} rows (no geometry)")

    @staticmethod
    def _insert_rows(conn: Connection, name: str, rows: pd.DataFrame,
                     progress: Callable[[str], None] | None) -> None:
        """Append rows to a table without geometry, numbered after its last row."""
        start = conn.execute(sa.text(f"SELECT coalesce(max({ROW_COLUMN}) + 1, 0) FROM {_quoted(name)}")).scalar_one()
        table = pd.DataFrame(rows).reset_index(drop=True)
        table.insert(0, ROW_COLUMN, range(int(start), int(start) + len(table)))
        table.to_sql(name, conn, schema=SCHEMA, if_exists="append", index=False)
        if progress:
            progress(f"  appended {len(table)} rows to {name}")

    @staticmethod
    def _new_version(conn: Connection) -> None:
        conn.execute(sa.text(f"DELETE FROM {SCHEMA}.store_meta"))
        conn.execute(sa.text(f"INSERT INTO {SCHEMA}.store_meta (id, version, written_at) "
                             "VALUES (1, :v, now())"), {"v": uuid.uuid4().hex})

    @staticmethod
    def _write_layer(conn: Connection, name: str, frame: Layer) -> bool:
        """Create one layer's table (numbered rows; indexes for a spatial one); return whether it is spatial."""
        spatial = is_spatial(frame)
        table = frame.copy()
        table.insert(0, ROW_COLUMN, range(len(table)))
        table = table.reset_index(drop=True)
        if spatial:
            table = _promote_to_multi(table)
            geom = table.geometry.name
            table.to_postgis(name, conn, schema=SCHEMA, if_exists="fail", index=False)
            conn.execute(sa.text(f'CREATE INDEX "{name[:50]}_geog_idx" ON {_quoted(name)} '
                                 f'USING gist (("{geom}"::geography))'))
        else:
            pd.DataFrame(table).to_sql(name, conn, schema=SCHEMA, if_exists="fail", index=False)
        if "id" in table.columns:  # by_id looks rows up by it
            conn.execute(sa.text(f'CREATE INDEX "{name[:50]}_id_idx" ON {_quoted(name)} ("id")'))
        conn.execute(sa.text(f"ALTER TABLE {_quoted(name)} ADD PRIMARY KEY ({ROW_COLUMN})"))
        conn.execute(sa.text(f"ANALYZE {_quoted(name)}"))
        return spatial


__all__ = ["META_TABLES", "SCHEMA", "PostGISStore"]
