"""Alembic environment of the PostGIS store: run by ``geo.postgis.PostGISStore.migrate`` on its connection.

The revisions (``versions/``) version the store's schema ``corridors``; Alembic's own table
``alembic_version`` lives in that schema too. Only online migrations on a connection handed over in
``config.attributes["connection"]`` are supported (no ini file, no logging set-up).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the store's migrations with PostGISStore(url).migrate()")
schema = config.attributes.get("schema", "corridors")

# the version table lives in the schema, so the schema must exist before Alembic looks for it
connection.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
context.configure(connection=connection, version_table_schema=schema, transaction_per_migration=False)
with context.begin_transaction():
    context.run_migrations(schema=schema)
