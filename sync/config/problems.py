"""Config problems and the error that reports them, one line per problem.

Each line names the file, the key path (`stores[1].outputs[0].scene`, with
0-based indices in file order), the value given and what is allowed. TOML
syntax errors carry the line and column instead of a key path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sync.errors import ConfigError


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong with a config file."""

    path: str
    message: str
    line: int | None = None
    column: int | None = None

    def render(self, file: Path | str) -> str:
        """Return the problem as one line that starts with the file name."""
        if self.line is not None:
            return f"{file}:{self.line}:{self.column}: {self.message}"

        if self.path:
            return f"{file}: {self.path}: {self.message}"

        return f"{file}: {self.message}"


class ConfigFileError(ConfigError):
    """The config file is missing or invalid; each line of the message names one problem."""

    def __init__(self, file: Path | str, problems: Sequence[ConfigProblem]) -> None:
        self.file = Path(file)
        self.problems = tuple(problems)
        super().__init__("\n".join(problem.render(file) for problem in self.problems))
