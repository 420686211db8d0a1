"""Unwrapping PergAI lists and records in each accepted shape."""

from __future__ import annotations

import pytest

from connectors.pergai.envelope import unwrap_list, unwrap_record
from sync.errors import InvalidResponseError

ROWS = [{"id": "a"}, {"id": "b"}]


@pytest.mark.parametrize(
    "payload",
    [ROWS, {"data": ROWS}, {"products": ROWS}, {"products": ROWS, "total": 2, "page": {"n": 1}}],
    ids=["bare", "data", "named", "named-with-extras"],
)
def test_list_shapes_accepted(payload: object) -> None:
    assert unwrap_list(payload, "GET /products") == ROWS


def test_list_data_key_wins_over_other_lists() -> None:
    payload = {"data": ROWS, "warnings": ["slow"]}

    assert unwrap_list(payload, "GET /products") == ROWS


@pytest.mark.parametrize(
    "payload",
    [{"a": [1], "b": [2]}, {"total": 3}, "text", None, 42],
    ids=["two-lists", "no-list", "string", "null", "number"],
)
def test_list_other_shapes_rejected(payload: object) -> None:
    with pytest.raises(InvalidResponseError) as caught:
        unwrap_list(payload, "GET /products")

    assert "GET /products" in str(caught.value)
    assert caught.value.service == "PergAI"


@pytest.mark.parametrize(
    "payload",
    [
        {"id": "x", "name": "n"},
        {"data": {"id": "x", "name": "n"}},
        {"product": {"id": "x", "name": "n"}},
    ],
    ids=["bare", "data", "singular"],
)
def test_record_shapes_accepted(payload: object) -> None:
    assert unwrap_record(payload, "GET /products/x", "product") == {"id": "x", "name": "n"}


def test_record_with_id_not_unwrapped() -> None:
    payload = {"id": "x", "data": {"id": "inner"}}

    assert unwrap_record(payload, "GET /products/x", "product") is payload


@pytest.mark.parametrize("payload", [[{"id": "x"}], "x", None], ids=["list", "string", "null"])
def test_record_non_object_rejected(payload: object) -> None:
    with pytest.raises(InvalidResponseError) as caught:
        unwrap_record(payload, "POST /generations", "generation")

    assert "POST /generations" in str(caught.value)
