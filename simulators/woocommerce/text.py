"""What WordPress does to text on save: slugs, entity-encoded ampersands, stripped scripts."""

from __future__ import annotations

import re
import unicodedata

SCRIPT = re.compile(r"<script\b[^>]*>.*?</script\s*>", re.I | re.S)
BARE_AMPERSAND = re.compile(r"&(?!(?:[a-zA-Z][a-zA-Z0-9]*|#[0-9]+|#x[0-9a-fA-F]+);)")


def sanitize_title(text: str) -> str:
    """Return a product name as WordPress stores it.

    Backslashes are removed (``wp_unslash``), ``<script>`` elements are
    stripped (kses) and a bare ``&`` becomes ``&amp;``.
    """
    text = text.replace("\\", "")
    text = SCRIPT.sub("", text)
    return BARE_AMPERSAND.sub("&amp;", text)


def slugify(text: str) -> str:
    """Return a WordPress-like slug: accents removed, lower case, words joined by hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    ascii_text = re.sub(r"&[a-z]+;", "", ascii_text.lower())
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    return slug or "product"


def autop(text: str) -> str:
    """Wrap text in a paragraph for the view context, as ``wpautop`` does for one paragraph."""
    if not text:
        return ""
    if text.lstrip().startswith("<p>"):
        return text if text.endswith("\n") else text + "\n"
    return f"<p>{text}</p>\n"
