"""Resource ids in the oCIS spaces shape: ``<storage_id>$<space_id>!<opaque_id>``.

A space's root folder has ``opaque_id == space_id``, as in oCIS.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from core.errors import BadRequest

_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


@dataclass(frozen=True, slots=True)
class ResourceId:
    storage_id: str
    space_id: str
    opaque_id: str

    def __str__(self) -> str:
        return f"{self.storage_id}${self.space_id}!{self.opaque_id}"

    @property
    def is_space_root(self) -> bool:
        return self.opaque_id == self.space_id


def parse_resource_id(text: str | None, what: str = "file ID") -> ResourceId:
    """Parse ``s$p!o``; raise BadRequest(``invalid <what>``) for anything else."""
    if not text or text.count("$") != 1 or text.count("!") != 1:
        raise BadRequest(f"invalid {what}")
    storage_id, rest = text.split("$", 1)
    # "!" before "$" ("a!b$c") leaves none in `rest`.
    space_id, bang, opaque_id = rest.partition("!")
    if not bang or not all(_PART.match(part) for part in (storage_id, space_id, opaque_id)):
        raise BadRequest(f"invalid {what}")
    return ResourceId(storage_id, space_id, opaque_id)


def new_opaque_id() -> str:
    return str(uuid.uuid4())
