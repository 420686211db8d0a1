"""The per-store daily budget of PergAI jobs, counted per UTC day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select, update
from sqlmodel import col

from storage.models import DailyUsage
from storage.querybase import QueryBase, rowcount


def next_budget_reset(now: datetime) -> datetime:
    """Return the UTC midnight after ``now``, when every store's daily budget starts again."""
    tomorrow = now.astimezone(UTC).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(0), tzinfo=UTC)


class BudgetQueries(QueryBase):
    def today(self) -> date:
        """Return the current UTC date, the day budgets are counted for."""
        return self.now().date()

    async def reserve_budget(
        self, store_id: int, limit: int, n: int = 1, *, day: date | None = None
    ) -> bool:
        """Count ``n`` jobs against the store's budget of ``day`` (default today, UTC).

        Returns False, and counts nothing, when that would take the day's use
        over ``limit``. The check and the increment are one UPDATE, so
        concurrent reservations from several daemons never exceed the limit.
        """
        day = day or self.today()
        async with self.db.write() as session:
            await session.execute(
                self.insert_if_absent(DailyUsage, ["store_id", "day"]).values(
                    store_id=store_id, day=day, used=0
                )
            )
            result = await session.execute(
                update(DailyUsage)
                .where(
                    col(DailyUsage.store_id) == store_id,
                    col(DailyUsage.day) == day,
                    col(DailyUsage.used) + n <= limit,
                )
                .values(used=col(DailyUsage.used) + n)
            )
        return rowcount(result) == 1

    async def release_budget(self, store_id: int, n: int = 1, *, day: date | None = None) -> None:
        """Give back ``n`` reserved jobs of ``day`` (default today) that were never started."""
        day = day or self.today()
        async with self.db.write() as session:
            await session.execute(
                update(DailyUsage)
                .where(
                    col(DailyUsage.store_id) == store_id,
                    col(DailyUsage.day) == day,
                    col(DailyUsage.used) >= n,
                )
                .values(used=col(DailyUsage.used) - n)
            )

    async def budget_used(self, store_id: int, *, day: date | None = None) -> int:
        """Return how many jobs the store has counted on ``day`` (default today, UTC)."""
        day = day or self.today()
        async with self.db.read() as session:
            used = await session.scalar(
                select(col(DailyUsage.used)).where(
                    col(DailyUsage.store_id) == store_id, col(DailyUsage.day) == day
                )
            )
        return used or 0
