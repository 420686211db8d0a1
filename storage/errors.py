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


class PergaiProductTakenError(StorageError):
    """Another product link already records this PergAI product, so this link was not updated.

    Two links looked up a lost create at the same time and found the same
    product. Try the step again: the lookup now leaves the recorded product out.
    """
