"""Lanes: keep up to a limit of one kind of step in flight, each as its own task.

A lane claims work only for the room it has, so a daemon never holds leases
on rows it cannot start, and a slow step holds up only its own slot instead
of the whole batch it was claimed with.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

logger = logging.getLogger(__name__)

Step = Callable[[], Coroutine[Any, Any, int]]
Claim = Callable[[int], Awaitable[list[Step]]]


class Lane:
    """One kind of step: how to claim it, how many may run at once, and those running."""

    def __init__(self, name: str, limit: int, claim: Claim, on_done: Callable[[], None]) -> None:
        self.name = name
        self.limit = limit
        self.claim = claim
        self.on_done = on_done
        self.tasks: set[asyncio.Task[int]] = set()
        self.steps_done = 0
        # The last step that raised instead of recording its failure, for ``run_due``.
        self.crash: BaseException | None = None

    @property
    def room(self) -> int:
        return self.limit - len(self.tasks)

    async def fill(self) -> int:
        """Claim work for the free room and start it; return how many steps started."""
        if self.room <= 0:
            return 0

        steps = await self.claim(self.room)
        for step in steps:
            task = asyncio.create_task(step(), name=f"{self.name} step")
            self.tasks.add(task)
            task.add_done_callback(self.finished)
        return len(steps)

    def finished(self, task: asyncio.Task[int]) -> None:
        self.tasks.discard(task)
        if task.cancelled():
            return

        error = task.exception()
        if error is None:
            done = task.result()
            self.steps_done += done
            if done == 0:
                # Nothing was due (an empty inbox, no job to check): claiming again at
                # once would only spin.
                return
        else:
            # Steps record their own failures, so what arrives here is a bug or a lost
            # database. The row's lease runs out and another try picks it up.
            self.crash = error
            logger.error(
                "%s step failed unexpectedly: %r",
                self.name,
                error,
                exc_info=error,
                extra={"action": "step_crashed"},
            )
        self.on_done()

    async def join(self) -> None:
        while self.tasks:
            await asyncio.wait(set(self.tasks))

    def cancel(self) -> None:
        for task in self.tasks:
            task.cancel()
