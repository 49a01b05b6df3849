"""The blank office documents that `/app/new` starts a new file from.

The shipped files live in ``registry/blank/`` (an admin may replace them); they are made by
``scripts/make_blank_documents.py``.
"""

from __future__ import annotations

from pathlib import Path

BLANK_DIR = Path(__file__).parent / "blank"
EXTENSIONS = ("docx", "xlsx", "pptx", "odt", "ods", "odp")


def blank_path(extension: str) -> Path | None:
    """The shipped blank document for `extension` (no dot), None when there is none."""
    extension = extension.lower()
    if extension not in EXTENSIONS:
        return None
    return BLANK_DIR / f"blank.{extension}"
