"""Write claims: a store with a backlog of old writes leaves room for the other stores."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from storage.models import RenderStatus
from tests.bad_input.helpers import product, running_daemon


async def test_backlog_store_gets_only_its_share(tmp_path: Path) -> None:
    products = [product(f"Fair {n}") for n in range(4)]
    async with running_daemon(tmp_path, products) as run:
        await run.settle()
        shop_id = run.store("shop").store_id

        # Every render is due for writing again, and the shop's have waited an hour longer.
        now = datetime.now(UTC).replace(tzinfo=None)
        async with run.ctx.repo.db.engine.begin() as connection:
            await connection.execute(
                text("UPDATE renders SET status = :status, next_attempt_at = :now"),
                {"status": RenderStatus.COMPLETED.value, "now": now},
            )
            await connection.execute(
                text(
                    "UPDATE renders SET next_attempt_at = :earlier WHERE link_id IN "
                    "(SELECT id FROM product_links WHERE store_id = :store)"
                ),
                {"earlier": now - timedelta(hours=1), "store": shop_id},
            )

        engine = run.daemon.engine
        per_store = run.settings.daemon.concurrency_per_store
        steps = await engine.claim_writes(room=2 * per_store)
        for step in steps:
            step().close()

        assert len(steps) == 2 * per_store
        assert engine.writes_in_flight == Counter(
            {shop_id: per_store, run.store("woo").store_id: per_store}
        )
