"""PergAI API client: products, categories, generations, collections, tools and templates."""

from connectors.pergai.client import DEFAULT_BASE_URL, UNSET, PergaiClient
from connectors.pergai.errors import GenerationTimeoutError, SignedUrlError
from connectors.pergai.models import (
    Category,
    Collection,
    CollectionCount,
    CollectionItem,
    Generation,
    GenerationStatus,
    Product,
    Template,
    ToolResult,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "UNSET",
    "Category",
    "Collection",
    "CollectionCount",
    "CollectionItem",
    "Generation",
    "GenerationStatus",
    "GenerationTimeoutError",
    "PergaiClient",
    "Product",
    "SignedUrlError",
    "Template",
    "ToolResult",
]
