"""The default category tree and scene templates the simulator starts with."""

from __future__ import annotations

from simulators.images import SCENE_COLOURS
from simulators.pergai.state import CategoryRecord, PergaiState, new_id

# (English name, Turkish name, children)
DEFAULT_TREE: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    (
        "Clothing",
        "Giyim",
        (("Hoodies", "Kapüşonlu Sweatshirt"), ("T-Shirts", "Tişört"), ("Dresses", "Elbise")),
    ),
    ("Accessories", "Aksesuar", (("Bags", "Çanta"), ("Jewellery", "Takı"))),
    ("Shoes", "Ayakkabı", (("Sneakers", "Spor Ayakkabı"),)),
    ("Home & Kitchen", "Ev ve Mutfak", (("Cookware", "Pişirme Gereçleri"),)),
    ("Beauty", "Kozmetik", ()),
    ("Electronics", "Elektronik", ()),
)

TEMPLATE_DESCRIPTIONS: dict[str, str] = {
    "studio": "Clean studio backdrop with soft light",
    "nature": "Outdoors among leaves and daylight",
    "luxury": "Dark, warm setting for premium goods",
    "urban": "City street and concrete textures",
    "beach": "Sand and sunlight by the sea",
    "minimal": "Plain white surface, no props",
    "kitchen": "Kitchen counter with warm wood",
    "holiday": "Festive red setting",
}


def seed_categories(state: PergaiState) -> None:
    """Add the system's default categories (``isDefault`` true) with English and Turkish names."""
    for name_en, name_tr, children in DEFAULT_TREE:
        parent = CategoryRecord(id=new_id(), name_en=name_en, name_tr=name_tr, is_default=True)
        state.categories[parent.id] = parent

        for child_en, child_tr in children:
            child = CategoryRecord(
                id=new_id(),
                name_en=child_en,
                name_tr=child_tr,
                parent_id=parent.id,
                is_default=True,
            )
            state.categories[child.id] = child


def templates() -> list[dict[str, str]]:
    """Return the scene templates, one per background colour in ``SCENE_COLOURS``."""
    return [
        {"id": name, "name": name, "description": TEMPLATE_DESCRIPTIONS.get(name, name)}
        for name in SCENE_COLOURS
    ]
