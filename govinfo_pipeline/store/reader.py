"""The analysts' read-only PostgreSQL role."""

from __future__ import annotations

import sqlalchemy as sa

STATEMENT_TIMEOUT = "60s"  # the reader role's default; a session may lower it
# Built-in roles that would let a reader reach the server's files or programs.
SERVER_ROLES = ("pg_read_server_files", "pg_write_server_files", "pg_execute_server_program")


def grant_reader(engine: sa.Engine, role: str) -> list[str]:
    """Create (if needed) a PostgreSQL login role that can read every table and view, and nothing more.

    Returns the statements run. The role may SELECT and nothing else: no CREATE on the schema, none of the
    built-in roles that reach the server's files or programs, so COPY to or from a file, ``pg_read_file`` and
    ``lo_import`` are refused. Its sessions are read-only by default as well, so a write is refused twice over,
    and its statements time out. Tables and views created later by the loading role are granted too.
    """
    if engine.dialect.name != "postgresql":
        raise ValueError("a read-only role is a PostgreSQL feature; DuckDB files are opened read-only instead")
    q = engine.dialect.identifier_preparer.quote
    with engine.connect() as conn:
        exists = conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
        database, owner = conn.execute(sa.text("SELECT current_database(), current_user")).one()
    statements = ([] if exists else [f"CREATE ROLE {q(role)} LOGIN"]) + [
        f"GRANT CONNECT ON DATABASE {q(database)} TO {q(role)}",
        f"GRANT USAGE ON SCHEMA public TO {q(role)}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {q(role)}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {q(owner)} IN SCHEMA public GRANT SELECT ON TABLES TO {q(role)}",
        f"REVOKE CREATE ON SCHEMA public FROM {q(role)}",
        f"REVOKE {', '.join(SERVER_ROLES)} FROM {q(role)}",
        f"ALTER ROLE {q(role)} NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS",
        f"ALTER ROLE {q(role)} SET default_transaction_read_only = on",
        f"ALTER ROLE {q(role)} SET statement_timeout = '{STATEMENT_TIMEOUT}'",
    ]
    with engine.begin() as conn:
        for sql in statements:
            conn.exec_driver_sql(sql)
    return statements
