"""Queries on stores: registration, catalogue cursor, collection id, polling lease, categories."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlmodel import col

from storage.errors import LeaseLostError
from storage.models import CategoryLink, Store
from storage.querybase import QueryBase, rowcount
from sync.errors import StorageError


@dataclass(frozen=True)
class Cursor:
    """The position where the last catalogue scan of a store stopped: a time and a product id."""

    updated_at: datetime
    product_id: str = ""


class StoreQueries(QueryBase):
    async def ensure_store(self, name: str, platform: str, address: str) -> Store:
        """Return the store row named ``name``, creating it or updating platform and address.

        Called for each configured store at start, so renaming the address in
        the config keeps the store's links and cursor.
        """
        now = self.now()
        async with self.db.write() as session:
            insert = self.insert_if_absent(Store, ["name"]).values(
                name=name, platform=platform, address=address, created_at=now, updated_at=now
            )
            await session.execute(insert)
            await session.execute(
                update(Store)
                .where(col(Store.name) == name)
                .where(or_(col(Store.platform) != platform, col(Store.address) != address))
                .values(platform=platform, address=address, updated_at=now)
            )
            store = await session.scalar(select(Store).where(col(Store.name) == name))
        assert store is not None
        return store

    async def get_store(self, name: str) -> Store | None:
        """Return the store named ``name``, or None when it was never configured."""
        async with self.db.read() as session:
            return await session.scalar(select(Store).where(col(Store.name) == name))

    async def list_stores(self) -> list[Store]:
        """Return every store, by name."""
        async with self.db.read() as session:
            return list(await session.scalars(select(Store).order_by(col(Store.name))))

    async def get_cursor(self, store_id: int) -> Cursor | None:
        """Return the store's catalogue cursor, or None before the first complete scan."""
        store = await self._require_store(store_id)
        if store.cursor_updated_at is None:
            return None
        return Cursor(store.cursor_updated_at, store.cursor_product_id or "")

    async def set_cursor(self, store_id: int, cursor: Cursor, *, owner: str | None = None) -> None:
        """Record the catalogue cursor; with ``owner``, only while it holds the store lease.

        Raises ``LeaseLostError`` when ``owner`` is given and no longer polls the store.
        """
        statement = update(Store).where(col(Store.id) == store_id)
        if owner is not None:
            statement = statement.where(col(Store.lease_owner) == owner)

        async with self.db.write() as session:
            result = await session.execute(
                statement.values(
                    cursor_updated_at=cursor.updated_at,
                    cursor_product_id=cursor.product_id,
                    updated_at=self.now(),
                )
            )
        if rowcount(result) == 1:
            return
        if owner is None:
            raise StorageError(f"store {store_id} not found in the mapping database")
        raise LeaseLostError(
            f"cursor of store {store_id} not recorded: daemon {owner} no longer polls it"
        )

    async def get_collection_id(self, store_id: int) -> str | None:
        """Return the PergAI collection id of the store, or None before it is created."""
        return (await self._require_store(store_id)).collection_id

    async def set_collection_id(self, store_id: int, collection_id: str) -> None:
        """Record the PergAI collection that holds the store's products."""
        async with self.db.write() as session:
            await session.execute(
                update(Store)
                .where(col(Store.id) == store_id)
                .values(collection_id=collection_id, updated_at=self.now())
            )

    async def acquire_store_lease(self, store_id: int, owner: str, lease_seconds: float) -> bool:
        """Take or renew the lease on polling the store; return False when another daemon has it.

        One UPDATE decides, so two daemons racing for a free or expired lease
        never both win.
        """
        now = self.now()
        async with self.db.write() as session:
            result = await session.execute(
                update(Store)
                .where(col(Store.id) == store_id)
                .where(
                    or_(
                        col(Store.lease_owner).is_(None),
                        col(Store.lease_owner) == owner,
                        col(Store.lease_expires_at) <= now,
                    )
                )
                .values(lease_owner=owner, lease_expires_at=now + timedelta(seconds=lease_seconds))
            )
        return rowcount(result) == 1

    async def release_store_lease(self, store_id: int, owner: str) -> None:
        """Give back the lease on polling the store, if ``owner`` holds it."""
        async with self.db.write() as session:
            await session.execute(
                update(Store)
                .where(col(Store.id) == store_id, col(Store.lease_owner) == owner)
                .values(lease_owner=None, lease_expires_at=None)
            )

    async def get_category_link(self, store_id: int, category_path: str) -> str | None:
        """Return the PergAI category id mapped to the store's category path, or None."""
        async with self.db.read() as session:
            return await session.scalar(
                select(col(CategoryLink.pergai_category_id)).where(
                    col(CategoryLink.store_id) == store_id,
                    col(CategoryLink.category_path) == category_path,
                )
            )

    async def set_category_link(
        self, store_id: int, category_path: str, pergai_category_id: str
    ) -> None:
        """Map the store's category path to a PergAI category, replacing an earlier mapping."""
        now = self.now()
        async with self.db.write() as session:
            await session.execute(
                self.insert_if_absent(CategoryLink, ["store_id", "category_path"]).values(
                    store_id=store_id,
                    category_path=category_path,
                    pergai_category_id=pergai_category_id,
                    updated_at=now,
                )
            )
            await session.execute(
                update(CategoryLink)
                .where(
                    col(CategoryLink.store_id) == store_id,
                    col(CategoryLink.category_path) == category_path,
                )
                .values(pergai_category_id=pergai_category_id, updated_at=now)
            )

    async def _require_store(self, store_id: int) -> Store:
        async with self.db.read() as session:
            store = await session.get(Store, store_id)
        if store is None:
            raise StorageError(f"store {store_id} not found in the mapping database")
        return store
