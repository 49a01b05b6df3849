"""PutRelativeFile and RenameFile name rules, pure.

PutRelativeFile takes exactly one of ``X-WOPI-SuggestedTarget`` (an extension such as
``.pdf`` or a full name; the host may change it to find a free name) and
``X-WOPI-RelativeTarget`` (an exact name; never changed). Both or neither: 501, as the
WOPI validator expects. RenameFile's ``X-WOPI-RequestedName`` has no extension: the file
keeps its own.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from core.errors import NotImplementedFeature
from storage.names import split_extension, validate_name


class TargetMode(enum.StrEnum):
    SUGGESTED = "suggested"
    RELATIVE = "relative"


@dataclass(frozen=True, slots=True)
class RelativeTarget:
    mode: TargetMode
    name: str  # for SUGGESTED: the wanted full name, before de-duplication
    overwrite: bool


def resolve_relative_target(
    suggested: str | None, relative: str | None, overwrite_header: str | None, source_name: str
) -> RelativeTarget:
    """Turn the decoded PutRelativeFile headers into a target; raise InvalidName or
    NotImplementedFeature (both or neither header)."""
    if (suggested is None) == (relative is None):
        raise NotImplementedFeature(
            "exactly one of X-WOPI-SuggestedTarget and X-WOPI-RelativeTarget is required"
        )
    overwrite = (overwrite_header or "").strip().lower() == "true"
    if suggested is not None:
        if suggested.startswith(".") and "." not in suggested[1:]:
            stem, _ = split_extension(source_name)
            wanted = stem + suggested
        else:
            wanted = suggested
        return RelativeTarget(TargetMode.SUGGESTED, validate_name(wanted), overwrite=False)
    assert relative is not None
    return RelativeTarget(TargetMode.RELATIVE, validate_name(relative), overwrite)


def renamed(current_name: str, requested_stem: str) -> str:
    """RenameFile: the requested name (no extension) plus the file's own extension."""
    _, ext = split_extension(current_name)
    return validate_name(requested_stem + ext)
