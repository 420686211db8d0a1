"""Category matching by English or Turkish name, ignoring case and accents."""

from __future__ import annotations

import pytest

from sync.categories import CategoryName, fold, match_path

TREE = [
    CategoryName("c1", "Clothing", "Giyim"),
    CategoryName("c2", "Hoodies", "Kapüşonlu Sweatshirt", "c1"),
    CategoryName("c3", "Home", "Ev"),
    CategoryName("c4", "Accessories", "Aksesuar", "c3"),
    CategoryName("c5", "Accessories", "Aksesuar", "c1"),
    CategoryName("c6", "Jewellery", "Takı"),
]


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("Kapüşonlu Sweatshirt", "KAPUSONLU SWEATSHIRT"),
        ("Takı", "TAKI"),
        ("İstanbul", "istanbul"),
        ("  Home   &  Kitchen ", "home & kitchen"),
        ("Café", "cafe"),
    ],
)
def test_fold_equates_names(left: str, right: str) -> None:
    assert fold(left) == fold(right)


def test_match_by_turkish_name() -> None:
    match = match_path(["giyim", "kapusonlu sweatshirt"], TREE)

    assert match is not None
    assert match.id == "c2"


def test_match_prefers_leaf_over_root() -> None:
    match = match_path(["Clothing", "Hoodies"], TREE)

    assert match is not None
    assert match.id == "c2"


def test_match_falls_back_to_parent_part() -> None:
    match = match_path(["Clothing", "Rain Jackets"], TREE)

    assert match is not None
    assert match.id == "c1"


def test_match_uses_parent_to_disambiguate() -> None:
    home = match_path(["Ev", "Accessories"], TREE)
    clothing = match_path(["Clothing", "aksesuar"], TREE)

    assert home is not None
    assert clothing is not None
    assert home.id == "c4"
    assert clothing.id == "c5"


def test_no_match_returns_none() -> None:
    assert match_path(["Garden"], TREE) is None
    assert match_path([], TREE) is None
