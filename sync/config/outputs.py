"""An output: one PergAI scene or image tool applied to each chosen product.

Each output has a ``key`` (such as `scene:studio`, `scene:studio:16:9`,
`tool:upscale:2x`) that the mapping database stores with every render, so
it must stay stable while the output's meaning stays the same, and it is
unique within a store.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, Self

from pydantic import PrivateAttr, model_validator

from sync.config.fields import (
    AspectRatio,
    ConfigModel,
    LocatedProblem,
    NonEmptyStr,
    invalid_many,
    show,
)
from sync.config.templates import PromptTemplate, render_template

Tool = Literal["remove-bg", "upscale", "expand"]
UpscaleScale = Literal["1x", "2x", "4x"]
ExpandRatio = Literal["1:1", "16:9", "9:16", "4:3", "3:4"]

TOOLS: tuple[str, ...] = ("remove-bg", "upscale", "expand")
DEFAULT_ALT_TEXT = "{title}"

# Keys each tool accepts besides `tool` itself.
_TOOL_KEYS: dict[str, frozenset[str]] = {
    "remove-bg": frozenset(),
    "upscale": frozenset({"scale", "ai_provider"}),
    "expand": frozenset({"ratio", "prompt", "ai_provider"}),
}
_TOOL_REQUIRED = {"upscale": "scale", "expand": "ratio"}
_OPTIONAL_KEYS = ("prompt", "ai_provider", "aspect_ratio", "scale", "ratio")


def output_key(
    scene: str | None,
    tool: str | None,
    *,
    aspect_ratio: str | None = None,
    scale: str | None = None,
    ratio: str | None = None,
) -> str:
    """Return the database key of an output from the values written in its table."""
    if scene is not None:
        return f"scene:{scene}" + (f":{aspect_ratio}" if aspect_ratio else "")

    if tool == "upscale" and scale:
        return f"tool:upscale:{scale}"

    if tool == "expand" and ratio:
        return f"tool:expand:{ratio}"

    return f"tool:{tool}"


class OutputConfig(ConfigModel):
    """One `[[stores.outputs]]` table: either a `scene` or a `tool`, never both.

    ``ai_provider`` and ``aspect_ratio`` of a scene output left unset in the
    file take the `[pergai]` defaults once the whole file is validated.
    """

    scene: NonEmptyStr | None = None
    tool: Tool | None = None
    prompt: PromptTemplate | None = None
    ai_provider: NonEmptyStr | None = None
    aspect_ratio: AspectRatio | None = None
    scale: UpscaleScale | None = None
    ratio: ExpandRatio | None = None

    _key: str = PrivateAttr(default="")
    _alt_text: str = PrivateAttr(default=DEFAULT_ALT_TEXT)

    @model_validator(mode="after")
    def _check_shape(self) -> Self:
        problems = self._shape_problems()
        if problems:
            raise invalid_many(problems)

        self._key = output_key(
            self.scene,
            self.tool,
            aspect_ratio=self.aspect_ratio,
            scale=self.scale,
            ratio=self.ratio,
        )
        return self

    def _shape_problems(self) -> list[LocatedProblem]:
        if self.scene is not None and self.tool is not None:
            return [((), "set either scene or tool, not both")]

        if self.scene is None and self.tool is None:
            return [((), "set scene (e.g. 'studio') or tool ('remove-bg', 'upscale' or 'expand')")]

        if self.scene is not None:
            return self._scene_problems()

        return self._tool_problems()

    def _scene_problems(self) -> list[LocatedProblem]:
        problems: list[LocatedProblem] = []
        if ":" in str(self.scene) or any(char.isspace() for char in str(self.scene)):
            problems.append(
                (("scene",), f"invalid scene name {show(self.scene)}: no ':' or spaces")
            )

        for key in ("scale", "ratio"):
            if getattr(self, key) is not None:
                owner = "upscale" if key == "scale" else "expand"
                problems.append(((key,), f"{key} applies only to tool = '{owner}'"))

        return problems

    def _tool_problems(self) -> list[LocatedProblem]:
        tool = str(self.tool)
        problems: list[LocatedProblem] = []
        for key in _OPTIONAL_KEYS:
            if getattr(self, key) is not None and key not in _TOOL_KEYS[tool]:
                allowed = ", ".join(sorted(_TOOL_KEYS[tool])) or "no other keys"
                problems.append(((key,), f"tool '{tool}' does not take {key}; it takes {allowed}"))

        required = _TOOL_REQUIRED.get(tool)
        if required and getattr(self, required) is None:
            allowed = (
                "'1x', '2x', '4x'" if required == "scale" else "'1:1', '16:9', '9:16', '4:3', '3:4'"
            )
            problems.append(((required,), f"tool '{tool}' needs {required}: one of {allowed}"))

        return problems

    @property
    def key(self) -> str:
        """Key of this output in the mapping database, unique within its store."""
        return self._key

    @property
    def kind(self) -> Literal["scene", "tool"]:
        return "scene" if self.scene is not None else "tool"

    @property
    def label(self) -> str:
        """Short human name: the scene name or the tool name."""
        return self.scene if self.scene is not None else str(self.tool)

    @property
    def alt_text(self) -> str:
        """Alt-text template of the store this output belongs to."""
        return self._alt_text

    def render_prompt(self, fields: Mapping[str, object]) -> str | None:
        """Fill the prompt template with product fields; None when the output has no prompt."""
        if self.prompt is None:
            return None

        return render_template(self.prompt, fields)

    def render_alt(self, fields: Mapping[str, object]) -> str:
        """Fill the store's alt-text template with product fields and this output's names."""
        values = {**fields, "scene": self.scene or "", "output": self.label}
        return render_template(self._alt_text, values)
