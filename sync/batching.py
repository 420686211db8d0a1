"""Group commit: calls that arrive while one batch is being written go together in the next.

A webhook is acknowledged only once its delivery is committed, and a commit
costs a disk flush (SQLite) or a round trip (PostgreSQL). Under a burst of
deliveries, one transaction per batch instead of one per delivery keeps the
acknowledgement honest and multiplies the rate. A lone call is written at
once, so a quiet server adds no delay.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class Batcher(Generic[Item, Result]):
    """Feed submitted items to ``write`` in batches of up to ``max_batch``, one batch at a time.

    ``write`` returns one result per item, in order. If it raises, every
    caller of that batch gets the exception; later batches are unaffected.
    """

    def __init__(
        self,
        write: Callable[[Sequence[Item]], Awaitable[Sequence[Result]]],
        max_batch: int = 200,
    ) -> None:
        self.write = write
        self.max_batch = max_batch
        self.waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self.writer: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Result:
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self.waiting.append((item, future))
        if self.writer is None or self.writer.done():
            self.writer = asyncio.create_task(self.write_waiting(), name="group commit")
            self.writer.add_done_callback(self.writer_ended)
        return await future

    async def write_waiting(self) -> None:
        while self.waiting:
            batch = self.waiting[: self.max_batch]
            await self.write_batch(batch)
            del self.waiting[: len(batch)]

    def writer_ended(self, writer: asyncio.Task[None]) -> None:
        """Cancel the callers still waiting when the writer was cancelled (shutdown)."""
        if not writer.cancelled():
            return
        for _, future in self.waiting:
            future.cancel()
        self.waiting.clear()

    async def write_batch(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        try:
            results = await self.write([item for item, _ in batch])
        except Exception as error:  # every waiting caller must hear of it
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return

        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)
