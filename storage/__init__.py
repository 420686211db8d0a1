"""The mapping database: tables, queries, set-up and migrations.

Start at ``storage.repository`` (its docstring lists every query),
``storage.database.Database`` (connection and the SQLite daemon lock) and
``storage.migrate.upgrade`` (what `pergai-sync db upgrade` runs).
"""
