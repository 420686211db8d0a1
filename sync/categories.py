"""Match a store's category path to a PergAI category by English or Turkish name.

Matching ignores case and accents, so "Kapüşonlu Sweatshirt", "KAPUSONLU
SWEATSHIRT" and "kapusonlu sweatshirt" are one name. Turkish dotted and
dotless i are folded to plain "i" first, because Unicode case folding maps
"I" to "i" and leaves "ı" alone, which would split Turkish names.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

TURKISH_I = str.maketrans({"ı": "i", "İ": "i", "I": "i"})


def fold(name: str) -> str:
    """Return ``name`` without case, accents or repeated spaces, for comparison only."""
    decomposed = unicodedata.normalize("NFKD", name.translate(TURKISH_I).casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(plain.split())


@dataclass(frozen=True)
class CategoryName:
    """The parts of a PergAI category that matching needs."""

    id: str
    name_en: str | None
    name_tr: str | None
    parent_id: str | None = None


def index_by_name(categories: Iterable[CategoryName]) -> dict[str, list[CategoryName]]:
    """Index categories under both their folded English and Turkish names."""
    index: dict[str, list[CategoryName]] = {}
    for category in categories:
        for name in {category.name_en, category.name_tr}:
            if name:
                index.setdefault(fold(name), []).append(category)
    return index


def match_path(path: Sequence[str], categories: Iterable[CategoryName]) -> CategoryName | None:
    """Return the PergAI category for the deepest part of ``path`` that has a match.

    ``path`` runs from the root ("Clothing", "Hoodies"). When a name matches
    several categories, the one whose parent matches the path's previous part
    wins, so "Clothing > Accessories" and "Home > Accessories" stay apart.
    """
    index = index_by_name(categories)

    for depth in range(len(path) - 1, -1, -1):
        candidates = index.get(fold(path[depth]), [])
        if not candidates:
            continue

        parent_name = fold(path[depth - 1]) if depth > 0 else None
        parents = {c.id for c in index.get(parent_name, [])} if parent_name else set()
        for candidate in candidates:
            if candidate.parent_id in parents:
                return candidate
        return candidates[0]
    return None
