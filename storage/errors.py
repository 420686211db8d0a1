"""Errors of the mapping database, as subclasses of the service's ``StorageError``."""

from __future__ import annotations

from sync.errors import StorageError


class LeaseLostError(StorageError):
    """This daemon no longer holds the lease on the row, so its result was not recorded.

    Another daemon took the row over after the lease expired, or the row was
    reset (product deleted, new source image). Drop the result; the current
    holder carries on.
    """


class DatabaseInUseError(StorageError):
    """Another pergai-sync daemon uses this SQLite file; stop it or use PostgreSQL."""
