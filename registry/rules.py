"""The registry's request rules as pure functions: language tags, view modes, public-link
roles and the names `/app/new` accepts. Messages are the contract's (docs/app-registry.md)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from urllib.parse import urlencode

from core.config import AppAccessSettings
from core.errors import AccessDenied, BadRequest
from core.tokens import ViewMode
from storage.names import validate_name
from storage.types import LinkRole

# ISO 639-1, the two-letter codes (184 of them).
ISO_639_1 = frozenset(
    """
    aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy
    da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu
    hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb
    lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om
    or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw
    ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu
    """.split()
)

LANG_MESSAGE = "lang parameter does not contain a valid ISO 639-1 language code"
OPEN_DENIED_MESSAGE = "permission denied to open the application"
UNREACHABLE_MESSAGE = "Error contacting the requested application, please use a different one or try again later"
PATH_SEGMENT_MESSAGE = "the filename must not contain a path segment"
EXTERNAL_CONTEXT_ROUTE = "files-spaces-personal"

_LANG_SPLIT = re.compile(r"[_-]")


def check_lang(lang: str) -> None:
    """`lang` may be empty; else its language part (before `_` or `-`) must be a lower-case
    ISO 639-1 code: ``de``, ``pt_BR`` and ``de-DE`` pass, ``DE``, ``xx`` and ``english`` fail."""
    if lang and _LANG_SPLIT.split(lang, maxsplit=1)[0] not in ISO_639_1:
        raise BadRequest(LANG_MESSAGE)


def parse_view_mode(text: str | None) -> ViewMode | None:
    """None when not given; BadRequest for anything but view, read, write."""
    if text is None or text == "":
        return None
    try:
        return ViewMode(text)
    except ValueError:
        raise BadRequest("invalid view mode") from None


def link_view_mode(role: LinkRole) -> ViewMode:
    """What a public link lets its holder open a file with: viewer → view, editor → write."""
    if role is LinkRole.VIEWER:
        return ViewMode.VIEW
    if role is LinkRole.EDITOR:
        return ViewMode.WRITE
    raise AccessDenied(OPEN_DENIED_MESSAGE)


def settle_view_mode(requested: ViewMode | None, ceiling: ViewMode | None) -> ViewMode:
    """The mode the file opens in: the requested one lowered to `ceiling`, never raised;
    the ceiling itself when nothing was requested. No ceiling: the caller may not open."""
    if ceiling is None:
        raise AccessDenied(OPEN_DENIED_MESSAGE)
    return ceiling if requested is None else requested.at_most(ceiling)


def check_new_filename(name: str) -> str:
    """A name `/app/new` may create. Path segments, ``.``/``..`` and control characters get
    the contract's message; other unusable names (too long) the storage rule's."""
    if "/" in name or "\\" in name or name in (".", "..") or any(unicodedata.category(char) == "Cc" for char in name):
        raise BadRequest(PATH_SEGMENT_MESSAGE)
    return validate_name(name)


def external_uri(public_base: str, app_name: str, file_id: str) -> str:
    """The `/app/open-with-web` answer: keys sorted, values form-encoded (``$``→``%24``)."""
    query = urlencode(sorted({"app": app_name, "contextRouteName": EXTERNAL_CONTEXT_ROUTE, "fileId": file_id}.items()))
    return f"{public_base}/external?{query}"


def access_for(apps: Mapping[str, AppAccessSettings], app_name: str) -> AppAccessSettings | None:
    """The admin's `apps.<name>` entry for an app; names match in any case (environment
    variables spell them in lower case)."""
    for name, entry in apps.items():
        if name.casefold() == app_name.casefold():
            return entry
    return None


def may_use_app(entry: AppAccessSettings | None, group_names: frozenset[str]) -> bool:
    """Members of `groups` may use the app; everybody when the list is empty."""
    return entry is None or not entry.groups or bool(group_names & set(entry.groups))


def may_edit_with_app(entry: AppAccessSettings | None, group_names: frozenset[str]) -> bool:
    """Members of `edit_groups` may edit with the app; everybody when the list is empty."""
    return entry is None or not entry.edit_groups or bool(group_names & set(entry.edit_groups))
