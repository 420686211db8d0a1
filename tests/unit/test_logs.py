"""Log formats: stable fields in text and JSON lines."""

from __future__ import annotations

import json
import logging

from sync.logs import JsonFormatter, TextFormatter


def record(message: str, **fields: object) -> logging.LogRecord:
    entry = logging.LogRecord("sync.engine", logging.INFO, __file__, 1, message, (), None)
    for name, value in fields.items():
        setattr(entry, name, value)
    return entry


def test_json_line_carries_fields() -> None:
    line = JsonFormatter().format(
        record("wrote ✨ image", action="written", store="acme", product="7")
    )

    entry = json.loads(line)
    assert entry["message"] == "wrote ✨ image"
    assert entry["action"] == "written"
    assert entry["store"] == "acme"
    assert entry["product"] == "7"
    assert entry["level"] == "info"


def test_text_line_appends_fields() -> None:
    line = TextFormatter("%(message)s").format(record("polled", action="poll", store="acme"))

    assert line == "polled action=poll store=acme"


def test_text_line_without_fields_unchanged() -> None:
    assert TextFormatter("%(message)s").format(record("started")) == "started"
