"""Group commit: concurrent submissions share a write, each caller gets its own result."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from sync.batching import Batcher


class Recorder:
    """A write function that records its batches and takes a moment, as a commit does."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.batches: list[list[str]] = []
        self.fail_on = fail_on

    async def write(self, items: Sequence[str]) -> list[str]:
        self.batches.append(list(items))
        await asyncio.sleep(0.01)
        if self.fail_on in items:
            raise RuntimeError(f"cannot write {self.fail_on}")
        return [item.upper() for item in items]


async def test_lone_item_written_at_once() -> None:
    recorder = Recorder()
    batcher = Batcher(recorder.write)

    assert await batcher.submit("a") == "A"
    assert recorder.batches == [["a"]]


async def test_items_arriving_during_a_write_share_the_next() -> None:
    recorder = Recorder()
    batcher = Batcher(recorder.write)

    first = asyncio.create_task(batcher.submit("d0"))
    await asyncio.sleep(0.001)
    results = await asyncio.gather(*(batcher.submit(f"d{n}") for n in range(1, 10)))

    assert await first == "D0"
    assert results == [f"D{n}" for n in range(1, 10)]
    assert recorder.batches == [["d0"], [f"d{n}" for n in range(1, 10)]]


async def test_batches_are_capped() -> None:
    recorder = Recorder()
    batcher = Batcher(recorder.write, max_batch=4)

    await asyncio.gather(*(batcher.submit(f"d{n}") for n in range(10)))

    assert [len(batch) for batch in recorder.batches] == [4, 4, 2]


async def test_failed_batch_fails_its_callers_only() -> None:
    recorder = Recorder(fail_on="d3")
    batcher = Batcher(recorder.write, max_batch=3)

    results = await asyncio.gather(
        *(batcher.submit(f"d{n}") for n in range(7)), return_exceptions=True
    )

    assert recorder.batches == [["d0", "d1", "d2"], ["d3", "d4", "d5"], ["d6"]]
    assert results[:3] == ["D0", "D1", "D2"]
    assert all(isinstance(r, RuntimeError) for r in results[3:6])
    assert results[6] == "D6"


async def test_writer_cancelled_cancels_waiting_callers() -> None:
    recorder = Recorder()
    batcher = Batcher(recorder.write)
    callers = [asyncio.create_task(batcher.submit(f"d{n}")) for n in range(3)]
    await asyncio.sleep(0.001)

    assert batcher.writer is not None
    batcher.writer.cancel()

    for caller in callers:
        with pytest.raises(asyncio.CancelledError):
            await caller
