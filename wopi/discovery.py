"""WOPI discovery, pure: parse the XML a WOPI client publishes and build launch URLs.

Two shapes are common. Collabora Online names apps by mimetype and gives actions without an
extension (``<app name="application/vnd.oasis.opendocument.text"><action name="edit"
ext="" urlsrc=…/>``), plus some apps with extensions. Microsoft names apps by product
(Word, Excel, …) with ``view``/``edit``/``editnew``/``embedview`` actions per extension, and
publishes a ``proof-key`` element. Parsing uses defusedxml: no DTDs, entities or external
references.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import quote
from xml.etree.ElementTree import Element  # noqa: S405 - the type only; parsing is defusedxml

import defusedxml.ElementTree as safe_xml
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from defusedxml import DefusedXmlException

from core.filetypes import OCTET_STREAM, guess_mimetype
from core.tokens import ViewMode
from wopi.proofkeys import ProofKeyError, ProofKeys, key_from_csp_blob, key_from_modulus_exponent

# Which action opens a file, best first, per view mode.
ACTION_PREFERENCE: Mapping[ViewMode, tuple[str, ...]] = {
    ViewMode.WRITE: ("edit", "view"),
    ViewMode.READ: ("view", "edit"),
    ViewMode.VIEW: ("view", "edit"),
}

_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_-]+)=([A-Z_]+)&?>")


class DiscoveryError(ValueError):
    """Discovery that cannot be used (not XML, unsafe XML, no actions)."""


@dataclass(frozen=True, slots=True)
class Action:
    app: str
    name: str  # view, edit, editnew, embedview, …
    ext: str  # lower case, no dot; "" for Collabora's mimetype apps
    urlsrc: str
    zone: str = ""

    @property
    def mimetype(self) -> str:
        """The mimetype this action serves; "" when it names none we can use."""
        if self.ext:
            guessed = guess_mimetype("file." + self.ext)
            return "" if guessed == OCTET_STREAM else guessed
        if "/" in self.app and self.app != OCTET_STREAM:
            return self.app
        return ""


@dataclass(frozen=True, slots=True)
class Discovery:
    actions: tuple[Action, ...]
    proof_keys: ProofKeys | None = None

    def mimetypes(self) -> tuple[str, ...]:
        """Every usable mimetype with an action that opens a file, in discovery order."""
        seen: dict[str, None] = {}
        for action in self.actions:
            if action.name in ("view", "edit") and action.mimetype:
                seen.setdefault(action.mimetype, None)
        return tuple(seen)

    def find(self, name: str, ext: str, mimetype: str) -> Action | None:
        """The action `name` for a file: by extension first, else by mimetype."""
        ext = ext.lower()
        if ext:
            for action in self.actions:
                if action.name == name and action.ext == ext:
                    return action
        for action in self.actions:
            if action.name == name and not action.ext and action.mimetype == mimetype:
                return action
        for action in self.actions:
            if action.name == name and action.ext and action.mimetype == mimetype:
                return action
        return None

    def action_for(self, mode: ViewMode, ext: str, mimetype: str, *, new_file: bool) -> Action | None:
        """`editnew` for an empty new file opened for writing, else `edit` for write and
        `view` for read and view, falling back to the other one (the access token still
        decides what the user may do)."""
        names: Iterable[str] = ACTION_PREFERENCE[mode]
        if new_file and mode is ViewMode.WRITE:
            names = ("editnew", *names)
        for name in names:
            found = self.find(name, ext, mimetype)
            if found is not None:
                return found
        return None


def parse_discovery(document: bytes) -> Discovery:
    """Parse discovery XML; raise DiscoveryError when it is unusable."""
    try:
        root = safe_xml.fromstring(document, forbid_dtd=True)
    except (DefusedXmlException, safe_xml.ParseError) as error:
        raise DiscoveryError(f"discovery is not safe, well-formed XML: {error}") from error
    if root.tag != "wopi-discovery":
        raise DiscoveryError(f"unexpected root element <{root.tag}>")
    actions: list[Action] = []
    for zone in root.iter("net-zone"):
        zone_name = zone.get("name", "")
        for app in zone.iter("app"):
            app_name = app.get("name", "")
            for action in app.iter("action"):
                urlsrc = action.get("urlsrc", "")
                name = action.get("name", "")
                if not urlsrc or not name:
                    continue
                actions.append(
                    Action(app_name, name, action.get("ext", "").lower().lstrip("."), urlsrc, zone_name)
                )
    if not actions:
        raise DiscoveryError("discovery lists no actions")
    return Discovery(tuple(actions), _proof_keys(root))


def _proof_keys(root: Element) -> ProofKeys | None:
    element = root.find("proof-key")
    if element is None:
        return None
    try:
        current = _key(element.get("modulus"), element.get("exponent"), element.get("value"))
        old = _key(element.get("oldmodulus"), element.get("oldexponent"), element.get("oldvalue"))
    except ProofKeyError as error:
        raise DiscoveryError(str(error)) from error
    if current is None:
        return None
    return ProofKeys(current, old)


def _key(modulus: str | None, exponent: str | None, value: str | None) -> RSAPublicKey | None:
    if modulus and exponent:
        return key_from_modulus_exponent(modulus, exponent)
    if value:
        return key_from_csp_blob(value)
    return None


def fill_urlsrc(urlsrc: str, values: Mapping[str, str], wopi_src: str) -> str:
    """Fill the ``<name=PLACEHOLDER&>`` parts we know, drop the rest, append WOPISrc."""

    def replace(match: re.Match[str]) -> str:
        value = values.get(match.group(2), "")
        return f"{match.group(1)}={quote(value, safe='')}&" if value else ""

    url = _PLACEHOLDER.sub(replace, urlsrc)
    if url.endswith(("?", "&")):
        separator = ""
    elif "?" in url:
        separator = "&"
    else:
        separator = "?"
    return f"{url}{separator}WOPISrc={quote(wopi_src, safe='')}"


def placeholder_values(lang: str) -> dict[str, str]:
    """Placeholder values Docbridge knows for a launch."""
    values: dict[str, str] = {}
    if lang:
        llcc = lang.replace("_", "-")
        values["UI_LLCC"] = llcc
        values["DC_LLCC"] = llcc
    return values
