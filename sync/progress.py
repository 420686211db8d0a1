"""How much work is still open: used by `sync`, the demo and the acceptance tests to wait."""

from __future__ import annotations

from storage.models import Stage
from storage.repository import Repository

# Stages in which the engine still has something to do. `writing` is left out:
# a link stays there only while its images wait for `pergai-sync approve`.
OPEN_STAGES = (Stage.DISCOVERED, Stage.PUSHED, Stage.RENDERING)


async def open_work_count(repo: Repository) -> int:
    """Return the product links still in progress plus the webhook deliveries not yet applied."""
    counts = await repo.stage_counts()
    links = sum(stages.get(stage, 0) for stages in counts.values() for stage in OPEN_STAGES)
    deliveries = len(await repo.unprocessed_deliveries(limit=1))
    return links + deliveries
