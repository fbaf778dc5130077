"""Alembic environment: migrations run on the connection govinfo hands over (see store/migrate.py)."""

from alembic import context

from govinfo_pipeline.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, compare_type=False)
with context.begin_transaction():
    context.run_migrations()
