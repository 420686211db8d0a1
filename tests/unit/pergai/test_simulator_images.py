"""The PergAI simulator's tool images and signed URLs."""

from __future__ import annotations

import io
import time

from PIL import Image

from simulators.images import product_placeholder
from simulators.pergai.render import expand, remove_background, target_size, upscale
from simulators.pergai.signing import check_signature, signature

SECRET = b"0123456789abcdef"


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def test_remove_background_transparent_corner() -> None:
    result = opened(remove_background(product_placeholder("Mug", size=64)))

    assert result.mode == "RGBA"
    assert result.getpixel((0, 0))[3] == 0
    assert result.getpixel((32, 32))[3] == 255


def test_upscale_doubles_size() -> None:
    assert opened(upscale(product_placeholder("Mug", size=64), 2)).size == (128, 128)


def test_expand_to_wide_ratio() -> None:
    width, height = opened(expand(product_placeholder("Mug", size=90), (16, 9), None)).size

    assert (width, height) == (160, 90)


def test_expand_resolution_capped() -> None:
    assert target_size("4k", (160, 90)) == (2048, 1152)


def test_signature_valid() -> None:
    expires = int(time.time()) + 60

    assert (
        check_signature(
            SECRET, "/files/a.png", str(expires), signature(SECRET, "/files/a.png", expires)
        )
        is None
    )


def test_signature_expired() -> None:
    expires = int(time.time()) - 1
    given = signature(SECRET, "/files/a.png", expires)

    assert check_signature(SECRET, "/files/a.png", str(expires), given) == "expired"


def test_signature_other_path_rejected() -> None:
    expires = int(time.time()) + 60
    given = signature(SECRET, "/files/a.png", expires)

    assert check_signature(SECRET, "/files/b.png", str(expires), given) == "bad signature"
