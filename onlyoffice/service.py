"""The ONLYOFFICE driver's rules that need storage, tokens and the network: opening the
editor, serving ``document.url``, handling callbacks, history, restore, save-as, rename and
"convert and edit". Views call exactly one method here; decisions stay in the pure modules.

Three addresses are in play (settings ``onlyoffice.*``): ``document_server_url`` (browsers:
api.js), ``document_server_internal_url`` (Docbridge → DS: commands, conversion, callback
downloads) and ``docbridge_url_for_document_server`` (DS → Docbridge: ``document.url``,
``callbackUrl``).

Session locks (docs: onlyoffice.md): an editor opening a file for editing takes the file's
lock for its session (kind ``session``, lock id = the document key), which co-editors share;
the editor page renews it (`heartbeat`) every quarter of ``onlyoffice.session_lock_seconds``,
as do presence callbacks and forcesaves; the final save (status 2), a close without changes
(4) and a failed final save (3) release it. A file another writer holds opens read-only.
A save that may not go into the file (another writer holds it, or changed it while the
session's lock had lapsed) is never dropped: it is kept in a conflict copy beside the file.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, BinaryIO
from urllib.parse import parse_qs, urlencode, urlsplit

from core.config import Settings
from core.errors import (
    AccessDenied,
    BadRequest,
    Conflict,
    DocbridgeError,
    InvalidToken,
    LockConflict,
    NotFound,
    OriginNotAllowed,
    PayloadTooLarge,
    StorageUnavailable,
    UpstreamError,
    UpstreamInterrupted,
)
from core.events import ConflictCopySaved, EventBus
from core.ids import ResourceId, parse_resource_id
from core.policy import NO_EFFECTS, Effects
from core.tokens import AccessGrant, TokenService, ViewMode, token_tail
from core.urls import origin_of
from onlyoffice import callbacks
from onlyoffice.config_builder import EditorInput, build_editor_config, history_data, sign_config
from onlyoffice.ds_client import DocumentServerClient, OutboundHttp, StreamedBody
from onlyoffice.ds_tokens import DsTokens
from onlyoffice.formats import Format, OpenPlan, format_for, open_plan
from onlyoffice.keys import conversion_key, history_key
from onlyoffice.store import OnlyofficeStore
from registry.providers import audience_for
from storage.access import Access, Principal, ceiling_of, principal_from_grant
from storage.interface import Storage
from storage.locks import LockBroker
from storage.metadata.database import now_utc
from storage.metadata.links import LinkStore
from storage.metadata.users import UserStore
from storage.names import conflict_copy_name
from storage.policies import Policies
from storage.types import Lock, LockClaim, Node, SaveOrigin, ShareRole, Version

log = logging.getLogger(__name__)

DOWNLOAD_AUDIENCE = "onlyoffice:download"
CALLBACK_AUDIENCE = "onlyoffice:callback"
CHANGES_AUDIENCE = "onlyoffice:changes"
CHECK_AUDIENCE = "onlyoffice:check"
DOWNLOAD_TTL_SECONDS = 900
CALLBACK_TTL_SECONDS = 7 * 24 * 3600
SAVE_SOURCE = "onlyoffice"
# The settings check's document is no stored file; its token names this placeholder id.
_CHECK_FILE = ResourceId("onlyoffice", "check", "check")


@dataclass(frozen=True, slots=True)
class EditorPage:
    config: dict[str, Any]
    api_js_url: str
    node: Node
    plan: OpenPlan
    convert_target: str | None
    locked_by: LockConflict | None = None  # why a file the user may edit opens read-only
    heartbeat_seconds: int = 0  # how often the page renews the session lock (0: it holds none)


@dataclass(frozen=True, slots=True)
class CallbackAnswer:
    http_status: int
    body: dict[str, int]


class OnlyofficeService:
    def __init__(self, settings: Settings, *, storage: Storage, access: Access, tokens: TokenService,
                 users: UserStore, links: LinkStore, store: OnlyofficeStore, ds_tokens: DsTokens,
                 http: OutboundHttp, locks: LockBroker, events: EventBus, lossy_edit: tuple[str, ...] = (),
                 policies: Policies | None = None) -> None:
        self.settings = settings
        self.locks = locks
        self.events = events
        self.options = settings.onlyoffice
        self.storage = storage
        self.access = access
        self.tokens = tokens
        self.users = users
        self.links = links
        self.store = store
        self.ds_tokens = ds_tokens
        self.http = http
        self.lossy_edit = lossy_edit
        self.policies = policies
        self.public_ds = self.options.document_server_url.rstrip("/") + "/"
        self.internal_ds = (self.options.document_server_internal_url or self.options.document_server_url).rstrip("/") + "/"
        self.base_for_ds = (self.options.docbridge_url_for_document_server or settings.public_url).rstrip("/") + "/"
        self.client = DocumentServerClient(http, ds_tokens, internal_base=self.internal_ds, public_base=self.public_ds)
        self.instance_id = settings.public_base

    @property
    def audience(self) -> str:
        return audience_for(self.options.name)

    @property
    def api_js_url(self) -> str:
        return self.public_ds + "web-apps/apps/api/documents/api.js"

    # --- who is calling --------------------------------------------------------------

    def principal_of(self, grant: AccessGrant) -> Principal:
        """The principal an access token stands for, as it is now (links can be revoked)."""
        return principal_from_grant(grant, self.users, self.links, now_utc())

    def verify_access(self, access_token: str) -> AccessGrant:
        return self.tokens.verify(access_token, audience=self.audience)

    def effective_access(self, grant: AccessGrant, node: Node) -> tuple[ViewMode, ShareRole]:
        """The mode and role the token's holder has now: what the token grants, lowered to
        what their access allows today (a share changed or revoked since it was issued).
        A role between viewer and editor keeps write mode: the editor enforces it."""
        permissions = self.access.permissions(self.principal_of(grant), node)
        ceiling = ceiling_of(permissions, limited_roles_enforced=True)
        if ceiling is None:
            raise NotFound("file does not exist")
        try:
            granted = ShareRole(str(grant.claims.get("role") or ShareRole.EDITOR.value))
        except ValueError:
            granted = ShareRole.VIEWER
        held = permissions.role or ShareRole.VIEWER
        return grant.view_mode.at_most(ceiling), granted if granted.rank <= held.rank else held

    def effective_mode(self, grant: AccessGrant, node: Node) -> ViewMode:
        return self.effective_access(grant, node)[0]

    def effects(self, grant: AccessGrant, node: Node) -> Effects:
        """The secure-view and watermark rules' effects for the token's holder on `node`."""
        if self.policies is None:
            return NO_EFFECTS
        return self.policies.effects(self.principal_of(grant), node)

    def _refuse_copy(self, grant: AccessGrant, node: Node, action: str) -> None:
        """Secure view: the file's content may not go into another file ("save copy as",
        "convert and edit"), which the rules would not cover."""
        if self.policies is not None:
            self.policies.check_download(self.principal_of(grant), node, action)

    def _require_editor(self, grant: AccessGrant, node: Node) -> None:
        """Restoring, renaming and converting change the file itself: editors only."""
        mode, role = self.effective_access(grant, node)
        if mode is not ViewMode.WRITE or role is not ShareRole.EDITOR:
            raise AccessDenied("permission denied")

    # --- URLs the DS calls -----------------------------------------------------------

    def download_url(self, file_id: ResourceId, version: int, user_id: str, *, ttl: int = DOWNLOAD_TTL_SECONDS) -> str:
        issued = self.tokens.issue(file_id=file_id, user_id=user_id, view_mode=ViewMode.READ,
                                            audience=DOWNLOAD_AUDIENCE, ttl_seconds=ttl, claims={"v": version})
        return self.base_for_ds + "onlyoffice/download?" + urlencode({"t": issued.token})

    def callback_url(self, file_id: ResourceId, user_id: str, view_mode: ViewMode, link_id: str | None) -> str:
        issued = self.tokens.issue(file_id=file_id, user_id=user_id, view_mode=view_mode,
                                            audience=CALLBACK_AUDIENCE, ttl_seconds=CALLBACK_TTL_SECONDS,
                                            link_id=link_id)
        return self.base_for_ds + "onlyoffice/callback?" + urlencode({"t": issued.token})

    def changes_url(self, file_id: ResourceId, version: int, user_id: str) -> str:
        issued = self.tokens.issue(file_id=file_id, user_id=user_id, view_mode=ViewMode.READ,
                                            audience=CHANGES_AUDIENCE, ttl_seconds=DOWNLOAD_TTL_SECONDS,
                                            claims={"v": version})
        return self.settings.public_base + "/onlyoffice/changes?" + urlencode({"t": issued.token})

    # --- editor ------------------------------------------------------------------------

    def editor(self, grant: AccessGrant, *, lang: str = "") -> EditorPage:
        """The signed config for the file and user of `grant` (the registry's access token)."""
        node = self.storage.stat(grant.file_id)
        mode, role = self.effective_access(grant, node)
        fmt = format_for(node.extension)
        plan = open_plan(fmt, mode, self.lossy_edit)
        if fmt is None or plan is OpenPlan.UNSUPPORTED:
            raise BadRequest(f"ONLYOFFICE cannot open files of type {node.extension or node.mimetype!r}")
        effects = self.effects(grant, node)
        if effects.secure_view and not self.ds_tokens.enabled:
            # Without the DS's JWT the download URL in the page would hand the bytes to anyone.
            raise AccessDenied("secure view needs the Document Server's JWT (onlyoffice.jwt)")
        file_key = str(node.id)
        key = self.store.key_for_open(file_key, node.version)
        user_name = str(grant.claims.get("name") or grant.user_id)
        self.store.remember_user(file_key, grant.user_id, user_name)
        locked_by: LockConflict | None = None
        if plan is OpenPlan.EDIT:
            try:
                # The key was just settled for the file as it is: the session may lock it,
                # and any other session key of this app is spent.
                self._hold_session(node.id, key, grant.user_id, user_name, resumable=True, replace_spent=True)
            except LockConflict as conflict:
                locked_by = conflict
                mode = mode.at_most(ViewMode.READ)
                plan = open_plan(fmt, mode, self.lossy_edit)
        config = build_editor_config(EditorInput(
            file_id=file_key, title=node.name, fmt=fmt, plan=plan, document_key=key,
            download_url=self.download_url(node.id, node.version, grant.user_id),
            callback_url=self.callback_url(node.id, grant.user_id, mode, grant.link_id),
            user_id=grant.user_id, user_name=user_name, view_mode=mode, role=role, lang=lang or "en",
            forcesave=self.options.forcesave, instance_id=self.instance_id,
            modified=node.modified.strftime("%Y-%m-%d %H:%M"),
            secure_view=effects.secure_view, watermark=effects.watermark,
        ))
        log.info("onlyoffice editor: file=%s user=%s key=%s mode=%s%s", file_key, grant.user_id, key,
                 config["editorConfig"]["mode"], f" (read-only: {locked_by.message})" if locked_by else "")
        heartbeat = max(15, self.options.session_lock_seconds // 4) if plan is OpenPlan.EDIT else 0
        return EditorPage(sign_config(config, self.ds_tokens), self.api_js_url, node, plan,
                          fmt.convert_target if plan is OpenPlan.CONVERT else None, locked_by, heartbeat)

    # --- session locks -------------------------------------------------------------------

    def _hold_session(self, file_id: ResourceId, key: str, user_id: str, user_name: str, *, resumable: bool,
                      replace_spent: bool = False, based_on: int | None = None) -> Lock:
        claim = LockClaim.session(key, self.options.name, user_id, based_on=based_on)
        return self.locks.hold_session(file_id, claim, user_name=user_name, seconds=self.options.session_lock_seconds,
                                       resumable=resumable, replace_spent=replace_spent)

    def _renew_session(self, file_id: ResourceId, key: str, user_id: str, user_name: str) -> Lock:
        """Renew the session lock of `key`, or take it again if it lapsed while nobody
        changed the file. LockConflict when another writer holds or changed the file;
        Conflict when `key` is no longer the file's session."""
        node = self.storage.stat(file_id)
        state = self.store.session(str(file_id), key)
        if state is None:
            raise Conflict("the editing session has ended")
        resumable = node.version in (state.base_version, state.session_version)
        return self._hold_session(file_id, key, user_id, user_name, resumable=resumable,
                                  based_on=state.session_version)

    def heartbeat(self, grant: AccessGrant, key: str) -> Lock:
        """The editor page of a session that edits says it is still open: renew its lock."""
        node = self.storage.stat(grant.file_id)
        if self.effective_mode(grant, node) is not ViewMode.WRITE:
            raise AccessDenied("permission denied")
        user_name = str(grant.claims.get("name") or grant.user_id)
        return self._renew_session(node.id, key, grant.user_id, user_name)

    def _renew_quietly(self, file_id: ResourceId, key: str, user_id: str) -> None:
        """Renew on news from the DS (editors joined or left, a forcesave); a session that
        lost its file is told by its page, and keeps its saves in a conflict copy."""
        try:
            self._renew_session(file_id, key, user_id, self.store.user_name(str(file_id), user_id) or user_id)
        except (LockConflict, Conflict, NotFound) as refused:
            log.info("onlyoffice: session lock of file=%s key=%s not renewed: %s", file_id, key, refused.message)

    def _page_claim(self, file_id: ResourceId, user_id: str) -> LockClaim | None:
        """What an editor page's own changes (restore, rename) hold: the file's live session."""
        key = self.store.current_key(str(file_id))
        return LockClaim.session(key, self.options.name, user_id) if key else None

    # --- document.url ------------------------------------------------------------------

    def open_download(self, url_token: str, authorization: str | None, requested_path: str) -> tuple[Version, BinaryIO]:
        """The bytes behind a ``document.url``: our short-lived token bound to file and
        version, and (JWT on) the DS header token whose ``payload.url`` is this very URL."""
        grant = self.tokens.verify(url_token, audience=DOWNLOAD_AUDIENCE)
        if self.ds_tokens.enabled:
            self.verify_download_header(authorization, requested_path, url_token)
        version = grant.claims.get("v")
        if not isinstance(version, int):
            raise InvalidToken("invalid download token")
        return self.storage.open_version(grant.file_id, version)

    def verify_download_header(self, authorization: str | None, requested_path: str, url_token: str) -> None:
        """The DS JWT of a download must be valid and name the requested URL."""
        claimed = self.ds_tokens.download_url_claim(authorization)
        if not _same_url(claimed, self.base_for_ds, requested_path, url_token):
            raise InvalidToken("the Document Server token is for another URL")

    def check_document_url(self) -> str:
        issued = self.tokens.issue(file_id=_CHECK_FILE, user_id="onlyoffice-check", view_mode=ViewMode.READ,
                                            audience=CHECK_AUDIENCE, ttl_seconds=DOWNLOAD_TTL_SECONDS)
        return self.base_for_ds + "onlyoffice/check-document?" + urlencode({"t": issued.token})

    # --- callbacks ---------------------------------------------------------------------

    def handle_callback(self, url_token: str, body: Mapping[str, Any], authorization: str | None) -> CallbackAnswer:
        """Answer a DS callback: 200 {"error":0} done; 200 {"error":1} refused for good
        (the DS keeps the changes in its forgotten store); 5xx transient (the DS retries);
        403 bad token."""
        try:
            grant = self.tokens.verify(url_token, audience=CALLBACK_AUDIENCE)
            fields = self.ds_tokens.callback_fields(body, authorization)
        except InvalidToken as error:
            log.warning("onlyoffice callback refused: %s (url token %s)", error.message, token_tail(url_token))
            return CallbackAnswer(403, {"error": 1})
        file_key = str(grant.file_id)
        try:
            callback = callbacks.parse_callback(fields)
        except BadRequest as error:
            log.warning("onlyoffice callback file=%s malformed: %s", file_key, error.message)
            return CallbackAnswer(400, {"error": 1})
        try:
            decision = self._decide(grant, callback)
            version = self._apply(grant, callback, decision)
        except (StorageUnavailable, UpstreamInterrupted) as error:
            log.error("onlyoffice callback file=%s key=%s status=%d: %s; asking for a retry",
                      file_key, callback.key, callback.status, error.message)
            return CallbackAnswer(503, {"error": 1})
        except (OriginNotAllowed, PayloadTooLarge, UpstreamError, NotFound, AccessDenied, DocbridgeError) as error:
            log.error("onlyoffice callback file=%s key=%s status=%d refused: %s", file_key, callback.key,
                      callback.status, error.message)
            return CallbackAnswer(200, {"error": 1})
        except Exception:  # the protocol boundary: the DS must always get its JSON answer
            log.exception("onlyoffice callback file=%s key=%s status=%d failed", file_key, callback.key,
                          callback.status)
            return CallbackAnswer(500, {"error": 1})
        log.info("onlyoffice callback file=%s key=%s status=%d action=%s version=%s error=%d %s", file_key,
                 callback.key, callback.status, decision.action.value, version, decision.error_code, decision.reason)
        return CallbackAnswer(200, {"error": decision.error_code})

    def _decide(self, grant: AccessGrant, callback: callbacks.Callback) -> callbacks.Decision:
        file_key = str(grant.file_id)
        current = self.store.current_key(file_key)
        handled = False
        if callback.url:
            for kind in (callbacks.CallbackAction.SAVE, callbacks.CallbackAction.RECOVER):
                if self.store.handled_version(callbacks.dedupe_key(callback, kind)) is not None:
                    handled = True
        can_write = False
        if grant.view_mode is ViewMode.WRITE:
            try:
                node = self.storage.stat(grant.file_id)
                # Commenters, reviewers and form fillers save too: the editor kept them to it.
                can_write = self.effective_mode(grant, node) is ViewMode.WRITE
            except (NotFound, InvalidToken):
                can_write = False
        return callbacks.decide(callback, current_key=current, already_handled=handled, can_write=can_write,
                                bound_user_id=grant.user_id, spent_key=self.store.spent_key(file_key))

    def _apply(self, grant: AccessGrant, callback: callbacks.Callback, decision: callbacks.Decision) -> int | None:
        file_key = str(grant.file_id)
        action = decision.action
        if action is callbacks.CallbackAction.PRESENCE:
            self.store.record_editors(file_key, callback.users)
            if callback.users:
                self._renew_quietly(grant.file_id, callback.key, callback.users[0])
            return None
        if not decision.stores_bytes:
            if decision.end_session:
                self._end_session(grant.file_id, callback.key, rotate=decision.rotate_key)
            return None
        assert callback.url is not None and decision.dedupe_key is not None
        author_id = decision.author_id or grant.user_id
        author_name = self.store.user_name(file_key, author_id) or self._display_name(author_id)
        recovered = action is callbacks.CallbackAction.RECOVER
        origin = SaveOrigin(author_id=author_id, author_name=author_name, source=SAVE_SOURCE,
                            dedupe_key=decision.dedupe_key, recovered=recovered,
                            comment="recovered from a failed ONLYOFFICE save" if recovered else "",
                            edited_at=callbacks.edit_time(callback), save_kind=callbacks.save_kind_of(callback))
        # What the session knows as its own, read before the download: a save that reaches
        # the commit after another save of the same session ended it is still its own.
        state = self.store.session(file_key, callback.key)
        claim = LockClaim.session(callback.key, self.options.name, author_id,
                                  based_on=state.session_version if state else None)
        copied = action is callbacks.CallbackAction.CONFLICT_COPY
        url = self._saved_bytes_url(grant.file_id, callback, decision.dedupe_key)
        # Streamed into storage as it arrives: the bytes are written once, by the blob store.
        with self.http.stream(url) as fetched:
            if copied:
                saved = self._keep_conflict_copy(grant.file_id, callback.key, url, fetched, origin, decision.reason)
                self.store.record_handled(decision.dedupe_key, file_key, saved.number)
                return saved.number  # the spent session is over for this file: nothing else to do
            try:
                saved = self.storage.write_version(grant.file_id, fetched.file, origin,
                                                   max_bytes=self.options.max_download_bytes, holding=claim)
            except LockConflict as refused:
                saved = self._keep_conflict_copy(grant.file_id, callback.key, url, fetched, origin, refused.message)
                copied = True
        self.store.record_handled(decision.dedupe_key, file_key, saved.number)
        if decision.keep_history and not copied:
            self._keep_history(file_key, saved.number, callback)
        if action is callbacks.CallbackAction.SAVE and not decision.end_session and not copied:
            if saved.is_current:
                # A forcesave overtaken by a newer save moves the session nowhere.
                self.store.wrote_during_session(file_key, callback.key, saved.number)
            self._renew_quietly(grant.file_id, callback.key, author_id)
        if decision.end_session:
            self._end_session(grant.file_id, callback.key, rotate=decision.rotate_key)
        return saved.number

    def _end_session(self, file_id: ResourceId, key: str, *, rotate: bool) -> None:
        self.store.end_session(str(file_id), key, rotate=rotate)
        self.locks.release_session(file_id, key, self.options.name)

    def _keep_conflict_copy(self, file_id: ResourceId, key: str, url: str, fetched: StreamedBody,
                            origin: SaveOrigin, reason: str) -> Version:
        """Keep a save the file refused: in the session's conflict copy beside the file (made
        by its first refused save), so that no edit is lost; the owner is told by an event.
        The bytes are `fetched` (the DS's answer from `url`), or `url` fetched again once
        `fetched` was consumed by a write that was then refused."""
        node = self.storage.stat(file_id)
        assert node.parent_id is not None
        existing = self.store.conflict_copy(key)
        if existing is not None:
            try:
                with self._from_the_start(url, fetched) as content:
                    return self.storage.write_version(parse_resource_id(existing), content, origin,
                                                      max_bytes=self.options.max_download_bytes)
            except (NotFound, LockConflict):
                pass  # the copy is gone or taken: start another
        name = self.storage.free_child_name(
            node.parent_id, conflict_copy_name(node.name, now_utc(), origin.author_name or origin.author_id or ""))
        comment = f"kept beside {node.name}: {reason}"
        with self._from_the_start(url, fetched) as content:
            created = self.storage.create_file(node.parent_id, name, content, replace(origin, comment=comment),
                                               max_bytes=self.options.max_download_bytes)
        self.store.remember_conflict_copy(key, str(file_id), str(created.id))
        log.warning("onlyoffice: save of file=%s key=%s kept as conflict copy %s (%s): %s", file_id, key,
                    created.id, name, reason)
        self.events.publish(ConflictCopySaved(file_id, created.id, created.name, node.owner_id, origin.author_id,
                                              origin.author_name, reason))
        return self.storage.list_versions(created.id)[0]

    @contextmanager
    def _from_the_start(self, url: str, fetched: StreamedBody) -> Iterator[BinaryIO]:
        """The saved bytes from their first one: `fetched` while nothing of it was read (a
        write refused before it began), else `url` again (the DS keeps its result link valid
        until the callback is answered)."""
        if fetched.unread:
            yield fetched.file
            return
        with self.http.stream(url) as again:
            yield again.file

    def _saved_bytes_url(self, file_id: ResourceId, callback: callbacks.Callback, dedupe_key: str) -> str:
        """Where to fetch the saved bytes: the callback ``url``, or, when the DS assembled
        another format than the file's (``filetype``), the result of converting it back."""
        assert callback.url is not None
        url = self.client.to_internal(callback.url)
        node = self.storage.stat(file_id)
        if not callback.file_type or not node.extension or callback.file_type.lower() == node.extension:
            return url
        # The conversion key follows the save, so a retried callback reuses the DS's result.
        key = conversion_key(self.store.key_salt, str(file_id), node.version, dedupe_key)
        result = self.client.convert(url=url, file_type=callback.file_type.lower(), output_type=node.extension,
                                     key=key, title=node.name, timeout_seconds=self.options.timeout_seconds)
        assert result.file_url is not None
        return result.file_url

    def _keep_history(self, file_key: str, version: int, callback: callbacks.Callback) -> None:
        """Store ``history`` and the changes.zip; a failure here never fails the save."""
        try:
            if callback.changes_url:
                with self.http.stream(self.client.to_internal(callback.changes_url)) as changes:
                    self.store.save_history(file_key, version, callback.key, dict(callback.history or {}),
                                            changes.file)
            else:
                self.store.save_history(file_key, version, callback.key, dict(callback.history or {}), None)
        except DocbridgeError as error:
            log.warning("onlyoffice: changes of file=%s version=%d not kept: %s", file_key, version, error.message)
            self.store.save_history(file_key, version, callback.key, dict(callback.history or {}), None)

    def _display_name(self, user_id: str) -> str:
        user = self.users.find(user_id)
        return user.display_name if user else user_id

    # --- history -----------------------------------------------------------------------

    def history(self, grant: AccessGrant) -> dict[str, Any]:
        """The object for ``docEditor.refreshHistory``."""
        node = self.storage.stat(grant.file_id)
        self.effective_mode(grant, node)
        kept = self.store.history(str(node.id))
        entries = []
        for version in self.storage.list_versions(grant.file_id):
            if version.recovered:
                continue
            entry: dict[str, Any] = {
                "version": version.number,
                "key": self._version_key(node, version.number),
                "created": version.created.strftime("%Y-%m-%d %H:%M:%S"),
                "user": {"id": version.author_id or "", "name": version.author_name or version.author_id or ""},
            }
            record = kept.get(version.number)
            if record and record.history:
                entry["changes"] = record.history.get("changes")
                entry["serverVersion"] = record.history.get("serverVersion")
            entries.append(entry)
        entries.sort(key=lambda item: item["version"])
        return {"currentVersion": node.version, "history": entries}

    def _version_key(self, node: Node, number: int) -> str:
        if number == node.version:
            current = self.store.current_key(str(node.id))
            if current:
                return current
        return history_key(self.store.key_salt, str(node.id), number)

    def history_data(self, grant: AccessGrant, number: int) -> dict[str, Any]:
        """The object for ``docEditor.setHistoryData``, signed when JWT is on."""
        node = self.storage.stat(grant.file_id)
        self.effective_mode(grant, node)
        numbers = [v.number for v in self.storage.list_versions(node.id) if not v.recovered]
        if number not in numbers:
            raise NotFound("no such version")
        fmt = format_for(node.extension)
        file_type = fmt.extension if fmt else node.extension
        previous = None
        earlier = [n for n in numbers if n < number]
        if earlier:
            prior = max(earlier)
            previous = {"key": self._version_key(node, prior), "url": self.download_url(node.id, prior, grant.user_id),
                        "fileType": file_type}
        changes = None
        if self.store.history(str(node.id)).get(number, None) and self.store.history(str(node.id))[number].has_changes:
            changes = self.changes_url(node.id, number, grant.user_id)
        if changes and self.effects(grant, node).secure_view:
            changes = None  # the changes.zip goes to the browser, and holds the document's text
        return history_data(version=number, key=self._version_key(node, number),
                            url=self.download_url(node.id, number, grant.user_id), file_type=file_type,
                            changes_url=changes, previous=previous, tokens=self.ds_tokens)

    def open_changes(self, url_token: str) -> BinaryIO:
        grant = self.tokens.verify(url_token, audience=CHANGES_AUDIENCE)
        version = grant.claims.get("v")
        stream = self.store.open_changes(str(grant.file_id), int(version)) if isinstance(version, int) else None
        if stream is None:
            raise NotFound("no changes kept for this version")
        return stream

    def restore(self, grant: AccessGrant, number: int) -> Version:
        node = self.storage.stat(grant.file_id)
        self._require_editor(grant, node)
        author = self.principal_of(grant)
        return self.storage.restore_version(
            node.id, number, author.origin(SAVE_SOURCE, comment=f"restored version {number}"),
            holding=self._page_claim(node.id, grant.user_id))

    # --- save as, rename, convert -------------------------------------------------------

    def save_as(self, grant: AccessGrant, url: str, title: str) -> Node:
        """``onRequestSaveAs``: store the DS's copy (fetched from the DS only) as a new file
        next to the original."""
        node = self.storage.stat(grant.file_id)
        self.effective_mode(grant, node)
        self._refuse_copy(grant, node, "save a copy")
        if node.parent_id is None:
            raise BadRequest("the file has no folder")
        principal = self.principal_of(grant)
        self.access.check(principal, node.parent_id, write=True, read=False)
        name = self.storage.free_child_name(node.parent_id, title)
        origin = principal.origin(SAVE_SOURCE, comment=f"saved as from {node.name}")
        with self.http.stream(self.client.to_internal(url)) as copy:
            return self.storage.create_file(node.parent_id, name, copy.file, origin,
                                            max_bytes=self.options.max_download_bytes)

    def rename(self, grant: AccessGrant, title: str) -> Node:
        """``onRequestRename``: rename the file (keeping its extension) and tell the editors."""
        node = self.storage.stat(grant.file_id)
        self._require_editor(grant, node)
        stem = title.strip()
        if node.extension and not stem.lower().endswith("." + node.extension):
            stem = f"{stem}.{node.extension}"
        renamed = self.storage.rename(node.id, stem, holding=self._page_claim(node.id, grant.user_id))
        key = self.store.current_key(str(node.id))
        if key:
            try:
                self.client.meta(key, renamed.name)
            except DocbridgeError as error:
                log.warning("onlyoffice: meta command for file=%s failed: %s", node.id, error.message)
        return renamed

    def convert_and_edit(self, grant: AccessGrant) -> tuple[Node, Format]:
        """"Convert and edit": the DS converts the file to OOXML; the result becomes a new
        file next to the original, which stays untouched."""
        node = self.storage.stat(grant.file_id)
        mode = self.effective_mode(grant, node)
        fmt = format_for(node.extension)
        if mode is not ViewMode.WRITE or fmt is None or open_plan(fmt, mode, self.lossy_edit) is not OpenPlan.CONVERT:
            raise BadRequest("this file cannot be converted for editing")
        self._refuse_copy(grant, node, "convert to a copy")
        target = fmt.convert_target
        assert target is not None and node.parent_id is not None
        principal = self.principal_of(grant)
        self.access.check(principal, node.parent_id, write=True, read=False)
        key = conversion_key(self.store.key_salt, str(node.id), node.version, uuid.uuid4().hex)
        result = self.client.convert(url=self.download_url(node.id, node.version, grant.user_id),
                                     file_type=fmt.extension, output_type=target, key=key, title=node.name,
                                     timeout_seconds=self.options.timeout_seconds)
        assert result.file_url is not None
        stem = node.name.rsplit(".", 1)[0] if "." in node.name else node.name
        name = self.storage.free_child_name(node.parent_id, f"{stem}.{target}")
        origin = principal.origin(SAVE_SOURCE, comment=f"converted from {node.name}")
        with self.http.stream(result.file_url) as converted_bytes:
            created = self.storage.create_file(node.parent_id, name, converted_bytes.file, origin,
                                               max_bytes=self.options.max_download_bytes)
        converted = format_for(target)
        assert converted is not None
        return created, converted

    # --- admin commands ---------------------------------------------------------------

    def command(self, command: str, file_id: ResourceId) -> dict[str, Any]:
        if command not in ("forcesave", "info", "drop"):
            raise BadRequest("command must be forcesave, info or drop")
        key = self.store.current_key(str(file_id))
        if key is None:
            raise NotFound("the file is not open in ONLYOFFICE")
        if command == "forcesave":
            changed = self.client.forcesave(key)
            return {"key": key, "saved": changed,
                    "message": "forcesave requested" if changed else "no changes since the last save"}
        if command == "info":
            return {"key": key, **self.client.info(key)}
        return {"key": key, **self.client.drop(key)}


def _same_url(claimed: str, base_for_ds: str, requested_path: str, url_token: str) -> bool:
    """``payload.url`` names this download: our address for the DS, this path, this token."""
    parts = urlsplit(claimed)
    base = urlsplit(base_for_ds)
    if origin_of(claimed) != origin_of(base_for_ds):
        return False
    if parts.path != requested_path and parts.path != base.path.rstrip("/") + requested_path:
        return False
    return parse_qs(parts.query).get("t") == [url_token]
