"""Bulk query operations: run a query over the whole catalogue and write a JSONL file.

Like Shopify, the simulator writes each object of a connection as one line.
Nodes of a nested connection get their own lines with ``__parentId`` and
follow their parent in any order. Here each chunk of parents comes first,
then its children shuffled.
NOTE: grandchildren (a connection inside a nested connection) may precede
their own parent line after the shuffle. ``/`` is written as ``\\/`` and counts are strings.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError, execute_sync, parse, validate

from simulators.shopify.state import gid, iso
from simulators.shopify.views import RequestContext

if TYPE_CHECKING:
    from simulators.shopify.shop import ShopifyState


def bulk_line(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("/", "\\/")


def flatten(node: dict[str, Any], parent_id: str | None, children: list[str]) -> str:
    """Return ``node``'s own line; append lines of its nested connections' nodes to ``children``."""
    own: dict[str, Any] = {}
    for key, value in node.items():
        if isinstance(value, dict) and ("nodes" in value or "edges" in value):
            for child in connection_nodes(value):
                children.append(flatten(child, str(node.get("id")), children))
        else:
            own[key] = value
    if parent_id is not None:
        own["__parentId"] = parent_id
    return bulk_line(own)


def connection_nodes(value: dict[str, Any]) -> list[dict[str, Any]]:
    if "nodes" in value:
        return list(value["nodes"])
    return [edge["node"] for edge in value.get("edges", [])]


class BulkRunner:
    """The shop's bulk operations; one query operation may run at a time."""

    def __init__(self, state: ShopifyState) -> None:
        self.state = state
        self.operations: dict[str, dict[str, Any]] = {}
        self.current: dict[str, Any] | None = None
        self._directory: Path | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    def start(self, query: str) -> dict[str, Any]:
        if self.current is not None and self.current["status"] in ("CREATED", "RUNNING"):
            return {
                "bulkOperation": None,
                "userErrors": [
                    {
                        "field": ["query"],
                        "message": "A bulk query operation for this app and shop is "
                        f"already in progress: {self.current['id']}.",
                        "code": "OPERATION_IN_PROGRESS",
                    }
                ],
            }
        try:
            document = parse(query)
        except GraphQLError as error:
            return {
                "bulkOperation": None,
                "userErrors": [
                    {
                        "field": ["query"],
                        "message": f"Invalid bulk query: {error.message}",
                        "code": "INVALID",
                    }
                ],
            }
        errors = validate(self.state.schema, document)
        if errors:
            return {
                "bulkOperation": None,
                "userErrors": [
                    {
                        "field": ["query"],
                        "message": f"Invalid bulk query: {errors[0].message}",
                        "code": "INVALID",
                    }
                ],
            }

        number = len(self.operations) + 1
        operation: dict[str, Any] = {
            "id": gid("BulkOperation", number),
            "status": "CREATED",
            "errorCode": None,
            "createdAt": iso(self.state.catalogue.now()),
            "completedAt": None,
            "objectCount": "0",
            "rootObjectCount": "0",
            "fileSize": None,
            "url": None,
            "partialDataUrl": None,
            "query": query,
            "type": "QUERY",
            "__typename": "BulkOperation",
        }
        self.operations[str(operation["id"])] = operation
        self.current = operation
        self.state.spawn(self.run(operation, document, number), self.tasks)
        return {"bulkOperation": operation, "userErrors": []}

    async def run(self, operation: dict[str, Any], document: Any, number: int) -> None:
        settings = self.state.settings
        await asyncio.sleep(settings.bulk_delay)
        operation["status"] = "RUNNING"
        path = self.directory / f"{number}.jsonl"
        ids = list(self.state.catalogue.products)
        objects = roots = 0
        try:
            with path.open("w", encoding="utf-8") as output:
                for start in range(0, len(ids), settings.bulk_chunk):
                    chunk = ids[start : start + settings.bulk_chunk]
                    lines, chunk_roots = self.export_chunk(document, chunk)
                    output.writelines(line + "\n" for line in lines)
                    objects += len(lines)
                    roots += chunk_roots
                    operation["objectCount"] = str(objects)
                    await asyncio.sleep(0)
        except GraphQLError:
            operation.update(status="FAILED", errorCode="INTERNAL_SERVER_ERROR")
            return
        operation.update(
            status="COMPLETED",
            completedAt=iso(self.state.catalogue.now()),
            objectCount=str(objects),
            rootObjectCount=str(roots),
            fileSize=str(path.stat().st_size),
            url=f"{self.state.base_url}/bulk/{number}.jsonl",
        )

    def export_chunk(self, document: Any, chunk: list[int]) -> tuple[list[str], int]:
        context = RequestContext(self.state, bulk_ids=chunk)
        result = execute_sync(self.state.schema, document, context_value=context)
        if result.errors:
            raise result.errors[0]
        parents: list[str] = []
        children: list[str] = []
        for value in (result.data or {}).values():
            if isinstance(value, dict):
                for node in connection_nodes(value):
                    parents.append(flatten(node, None, children))
        self.state.random.shuffle(children)
        return parents + children, len(parents)

    @property
    def directory(self) -> Path:
        """The folder of result files, made on first use and removed by ``close``."""
        if self._directory is None:
            self._directory = Path(tempfile.mkdtemp(prefix="shopify-bulk-"))
        return self._directory

    def path(self, number: int) -> Path:
        return self.directory / f"{number}.jsonl"

    def close(self) -> None:
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
            self._directory = None
