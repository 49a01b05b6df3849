"""What `/app/open`, `/app/open-with-web` and `/app/new` do, in the contract's order of checks.

The views hand over the parameters as strings and the caller as a `Principal`; these
functions check them one by one (docs/app-registry.md has the tables), talk to storage, the
token service and the chosen driver, and raise `core.errors` exceptions carrying the
contract's messages.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import BinaryIO

from core.errors import AccessDenied, AlreadyExists, BadRequest, NotFound, ServerError, UpstreamError
from core.events import FileOpened
from core.ids import ResourceId, parse_resource_id
from core.tokens import ViewMode, token_tail
from registry.blank_files import blank_path
from registry.opening import fill_from_template, secure_view_mode
from registry.providers import Launch, LaunchRequest, audience_for
from registry.rules import (
    UNREACHABLE_MESSAGE,
    access_for,
    check_lang,
    check_new_filename,
    link_view_mode,
    may_edit_with_app,
    may_use_app,
    parse_view_mode,
    settle_view_mode,
)
from server.services import Services
from storage.access import Principal, ceiling_of
from storage.lock_rules import describe, may_join
from storage.types import Lock, Node, ShareRole

log = logging.getLogger(__name__)

NEW_FILE_SOURCE = "app-new"


@dataclass(frozen=True, slots=True)
class OpenParams:
    file_id: str
    app_name: str = ""
    view_mode: str = ""
    lang: str = ""
    template_id: str = ""


@dataclass(frozen=True, slots=True)
class Opened:
    app_name: str
    file: Node
    launch: Launch
    # The lock that made a file the caller may edit open read-only in this app.
    locked_by: Lock | None = None

    @property
    def message(self) -> str:
        return describe(self.locked_by) if self.locked_by is not None else ""


def open_in_app(found: Services, principal: Principal, params: OpenParams) -> Opened:
    """`POST /app/open`: resolve the app and the view mode, issue the access token (bound
    to file, user, mode and the app's audience) and ask the driver for the launch.

    A file held by another app (a WOPI client's lock, an ONLYOFFICE session) opens for
    reading instead of writing, and the answer says who holds it; in the app that holds
    it, the caller co-edits."""
    check_lang(params.lang)
    if not params.file_id:
        raise BadRequest("missing file ID")
    file_id = parse_resource_id(params.file_id, "file ID")
    try:
        # read=False: an uploader link sees the file here and is refused at the role check.
        file = found.access.check(principal, file_id, read=False)
    except NotFound:
        raise NotFound("file does not exist") from None
    if file.is_folder:
        raise BadRequest("the given file id does not point to a file")
    requested = parse_view_mode(params.view_mode)
    template_id = _readable_template(found, principal, params.template_id) if params.template_id else None
    group_names = group_names_of(found, principal)
    registration = found.catalog.resolve(file.mimetype, params.app_name, usable_apps(found, group_names))
    provider = registration.provider
    app_name = provider.name
    role = ShareRole.EDITOR
    ceiling: ViewMode | None
    if principal.link is not None:
        ceiling = link_view_mode(principal.link.role)
    else:
        permissions = found.access.permissions(principal, file)
        role = permissions.role or ShareRole.VIEWER
        ceiling = ceiling_of(permissions, limited_roles_enforced=provider.enforces_limited_roles)
    if ceiling is ViewMode.WRITE and not may_edit_with_app(access_for(found.settings.apps, app_name), group_names):
        ceiling = ViewMode.READ
    view_mode = settle_view_mode(requested, ceiling)
    view_mode = secure_view_mode(found, principal, file, view_mode)
    file, template_claims = fill_from_template(found, principal, file, template_id, view_mode)

    locked_by: Lock | None = None
    if view_mode is ViewMode.WRITE:
        held = found.locks.get(file.id)
        if not may_join(held, app_name):
            locked_by = held
            view_mode = ViewMode.READ
    issued = found.tokens.issue(
        file_id=file.id,
        user_id=principal.user_id,
        view_mode=view_mode,
        audience=audience_for(app_name),
        link_id=principal.link.id if principal.link is not None else None,
        claims={"name": principal.display_name, "role": role.value, **template_claims},
    )
    request = LaunchRequest(
        file=file,
        user_id=principal.user_id,
        user_display_name=principal.display_name,
        view_mode=view_mode,
        access_token=issued.token,
        access_token_expires_at_ms=issued.expires_at_ms,
        lang=params.lang,
        template_id=template_id,
        link_id=principal.link.id if principal.link is not None else None,
        role=role,
    )
    try:
        launch = registration.driver.launch(request)
    except UpstreamError as error:
        log.warning("app %s could not launch %s (token %s): %s", app_name, file.id, token_tail(issued.token), error)
        raise ServerError(UNREACHABLE_MESSAGE) from error
    log.info("opened %s in %s as %s for %s%s", file.id, app_name, view_mode.value, principal.user_id,
             f" ({describe(locked_by)})" if locked_by else "")
    found.events.publish(FileOpened(file.id, app_name, view_mode.value, principal.user_id))
    return Opened(app_name, file, launch, locked_by)


def group_names_of(found: Services, principal: Principal | None) -> frozenset[str]:
    """The names of the caller's groups (none for anonymous callers and link visitors)."""
    if principal is None or principal.link is not None:
        return frozenset()
    return frozenset(group.name for group in found.groups.groups_of(principal.user_id))


def usable_apps(found: Services, group_names: frozenset[str]) -> Callable[[str], bool]:
    """Which apps a caller in these groups may use (the admin's ``apps.<name>.groups``)."""
    apps = found.settings.apps
    return lambda app_name: may_use_app(access_for(apps, app_name), group_names)


def _readable_template(found: Services, principal: Principal, text: str) -> ResourceId:
    template_id = parse_resource_id(text, "template ID")
    try:
        template = found.access.check(principal, template_id)
    except (NotFound, AccessDenied):
        # An unreadable template is reported like a missing one: no hint that it exists.
        raise NotFound("the template is not accessible or does not exist") from None
    if template.is_folder:
        raise BadRequest("the template id does not point to a file")
    # Its content goes into another file, which the template's secure view would not cover.
    found.policies.check_download(principal, template, "copy as a template")
    return template.id


def new_file(found: Services, principal: Principal, parent_container_id: str, filename: str, template: str) -> Node:
    """`POST /app/new`: create `filename` in the folder, from the blank document of its
    type, from `template`'s current content, or empty."""
    if not parent_container_id:
        raise BadRequest("missing parent container ID")
    parent_id = parse_resource_id(parent_container_id, "parent container ID")
    if not filename:
        raise BadRequest("missing filename")
    check_new_filename(filename)
    try:
        parent = found.access.check(principal, parent_id, read=False)
    except NotFound:
        raise NotFound("the parent container is not accessible or does not exist") from None
    if not parent.is_folder:
        raise BadRequest("the parent container id does not point to a container")
    if found.storage.find_child(parent.id, filename) is not None:
        raise AlreadyExists("the file already exists")
    if not found.access.permissions(principal, parent).write:
        raise AccessDenied("permission denied to create the file")
    template_id = _readable_template(found, principal, template) if template else None
    origin = principal.origin(NEW_FILE_SOURCE)
    limit = found.settings.storage.max_upload_bytes or None
    with _initial_content(found, filename, template_id) as content:
        try:
            node = found.storage.create_file(parent.id, filename, content, origin, max_bytes=limit)
        except AlreadyExists:
            raise AlreadyExists("the file already exists") from None
    log.info("created %s (%s) in %s for %s", node.id, filename, parent.id, principal.user_id)
    return node


@contextmanager
def _initial_content(found: Services, filename: str, template_id: ResourceId | None) -> Iterator[BinaryIO]:
    with ExitStack() as stack:
        if template_id is not None:
            _version, stream = found.storage.open_version(template_id)
            yield stack.enter_context(stream)
            return
        _stem, dot, extension = filename.rpartition(".")
        blank = blank_path(extension) if dot and _stem else None
        if blank is not None:
            yield stack.enter_context(blank.open("rb"))
            return
        yield io.BytesIO(b"")
