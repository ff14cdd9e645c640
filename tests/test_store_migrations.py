"""Migrations build the original schema, with its indexes, on both engines."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import create_async_engine

from ppb.config import load_settings
from ppb.store.migrate import alembic_config

TABLES = {
    "users", "channels", "user_channels", "posts", "interactions", "user_logs", "nudges", "alembic_version",
}


async def test_schema_and_indexes(database_url: str) -> None:
    engine = create_async_engine(load_settings(DATABASE_URL=database_url).async_database_url)

    def inspect(connection: sa.Connection) -> dict:
        inspector = sa.inspect(connection)
        unique = {}
        for table in ("users", "channels", "posts", "interactions", "nudges"):
            columns = [tuple(i["column_names"]) for i in inspector.get_indexes(table) if i["unique"]]
            columns += [tuple(c["column_names"]) for c in inspector.get_unique_constraints(table)]
            unique[table] = set(columns)
        return {"tables": set(inspector.get_table_names()), "unique": unique}

    async with engine.connect() as connection:
        found = await connection.run_sync(inspect)
        version = (await connection.execute(sa.text("SELECT version_num FROM alembic_version"))).scalar()
    await engine.dispose()
    assert TABLES <= found["tables"]
    assert ("telegram_id",) in found["unique"]["users"]
    assert ("telegram_id",) in found["unique"]["channels"]
    assert ("channel_id", "telegram_message_id") in found["unique"]["posts"]
    assert ("user_id", "post_id") in found["unique"]["interactions"]
    assert ("user_id", "post_id") in found["unique"]["nudges"]  # never the same post twice
    head = ScriptDirectory.from_config(alembic_config(load_settings().async_database_url)).get_current_head()
    assert version == head


async def test_migrations_match_the_tables_the_code_declares(database_url: str) -> None:
    """What the migrations build is what `schema.py` (and `console_schema.py`) declare:
    Alembic's autogenerate finds nothing to add, drop or change."""
    import ppb.store.console_schema  # noqa: F401  (its tables join the same metadata)
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from ppb.store.schema import metadata

    engine = create_async_engine(load_settings(DATABASE_URL=database_url).async_database_url)

    def differences(connection: sa.Connection) -> list:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, metadata)

    async with engine.connect() as connection:
        found = await connection.run_sync(differences)
    await engine.dispose()
    assert found == []
