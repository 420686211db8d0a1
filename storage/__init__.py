"""The mapping database: tables, queries, set-up and migrations."""
