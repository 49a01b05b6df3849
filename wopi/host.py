"""The WOPI host service: each WOPI operation as a method that checks the access token's
grant, applies the pure rules (`locks`, `checkfileinfo`, `relative`) and calls storage.

Views hand in plain values (header strings, the request stream) and get plain values back;
errors are `core.errors` exceptions (plus the few WOPI-only ones below) that the view maps
to WOPI's status codes and headers.

Access tokens: the WOPISrc is shared by every configured WOPI app, so a token is accepted
when it verifies for the audience of any configured app (``app:<name>``), or for the
validator audience that ``flask wopi test-file`` issues. The audience that verified names
the app whose proof keys the request must carry.

Locks: a WOPI lock is the file's one lock (`storage.locks.LockBroker`), shared with every
other writer. Lock, RefreshLock, Unlock, UnlockAndRelock and GetLock follow `wopi.locks`;
PutFile, RenameFile, DeleteFile and PutRelativeFile targets are checked by storage with
the lock the client presents, before the body is read and again when the change commits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import IO, Any, BinaryIO, cast
from urllib.parse import quote, quote_plus, urlencode

from core.config import Settings
from core.errors import (
    AccessDenied,
    AlreadyExists,
    BadRequest,
    Conflict,
    DocbridgeError,
    InvalidName,
    InvalidToken,
    LockConflict,
    NotFound,
    NotImplementedFeature,
    ServerError,
    Unauthenticated,
    VersionConflict,
)
from core.ids import ResourceId, parse_resource_id
from core.policy import NO_EFFECTS, Effects, SecureViewRefused
from core.tokens import AccessGrant, TokenService, ViewMode, token_tail
from core.urls import origin_of
from registry.providers import TEMPLATE_CLAIM, TEMPLATE_VERSION_CLAIM, audience_for
from storage.access import Access, Principal, principal_from_grant
from storage.interface import Storage
from storage.lock_rules import Operation, holder_of, may_join
from storage.locks import LockBroker
from storage.metadata.database import now_utc
from storage.metadata.links import LinkStore
from storage.metadata.users import UserStore
from storage.names import free_name
from storage.policies import Policies
from storage.types import Lock, LockClaim, LockKind, Node, SaveOrigin, Version
from wopi import cool, locks
from wopi.checkfileinfo import Caller, HostUrls, check_file_info
from wopi.client import WopiClients
from wopi.profiles import Profile, ProfileInput, apply_profile, choose_profile
from wopi.proofkeys import ProofKeys, ProofResult, verify_proof
from wopi.relative import TargetMode, renamed, resolve_relative_target
from wopi.store import MAX_USER_INFO_CHARS, UserInfoStore
from wopi.utf7 import decode_header_name, encode_header_name

log = logging.getLogger(__name__)

# The audience of tokens `flask wopi test-file` issues for Microsoft's WOPI validator.
VALIDATOR_AUDIENCE = "wopi:validator"
# The audience of the tokens in Collabora's TemplateSource URLs (never accepted on /wopi/files).
TEMPLATE_AUDIENCE = "wopi:template"
TEMPLATE_TTL_SECONDS = 900
SAVE_SOURCE = "wopi"


class ProofRejected(ServerError):
    """The request's proof headers do not verify: 500, as the WOPI validator expects."""


class PreconditionFailed(DocbridgeError):
    """GetFile: the file is larger than X-WOPI-MaxExpectedSize (412)."""


class RelativeTargetExists(Conflict):
    """PutRelativeFile: the exact name is taken; `valid_target` is a free one (UTF-7)."""

    def __init__(self, message: str, valid_target: str) -> None:
        super().__init__(message)
        self.valid_target = valid_target


class InvalidFileName(BadRequest):
    """RenameFile: the name cannot be used; the reason goes to X-WOPI-InvalidFileNameError."""


class ExternallyModified(Conflict):
    """PutFile: the file changed since the client loaded it (``X-COOL-WOPI-Timestamp``):
    409 with ``{"COOLStatusCode": 1010}``."""


@dataclass(frozen=True, slots=True)
class PutFileHeaders:
    """What a client says with its PutFile besides the lock (Collabora's headers; None
    when absent)."""

    timestamp: str | None = None
    is_autosave: str | None = None
    is_exit_save: str | None = None
    is_modified_by_user: str | None = None


@dataclass(frozen=True, slots=True)
class WopiSession:
    """One verified WOPI request: the token, what it grants and for which app."""

    token: str
    grant: AccessGrant
    app_name: str

    @property
    def file_id(self) -> ResourceId:
        return self.grant.file_id

    principal: Principal
    # The token's mode as the holder's access allows it now.
    view_mode: ViewMode
    # The file as read when the request was authorized (None: it is gone); the operations
    # start from it rather than read it again.
    node: Node | None = None
    # The file's folder, read with it (None: a space root, or the file is gone).
    parent: Node | None = None

    @property
    def origin(self) -> SaveOrigin:
        return self.principal.origin(SAVE_SOURCE)


@dataclass(frozen=True, slots=True)
class ProofHeaders:
    proof: str | None
    proof_old: str | None
    timestamp: str | None


@dataclass(frozen=True, slots=True)
class RelativeResult:
    name: str
    url: str
    host_view_url: str
    host_edit_url: str

    def to_json(self) -> dict[str, str]:
        return {"Name": self.name, "Url": self.url, "HostViewUrl": self.host_view_url, "HostEditUrl": self.host_edit_url}


class WopiHost:
    def __init__(
        self,
        settings: Settings,
        *,
        storage: Storage,
        access: Access,
        tokens: TokenService,
        users: UserStore,
        links: LinkStore,
        locks: LockBroker,
        clients: WopiClients,
        user_info: UserInfoStore,
        external_apps: Callable[[], Iterable[str]],
        clock: Callable[[], datetime] = now_utc,
        policies: Policies | None = None,
    ) -> None:
        """`external_apps` names the apps registered over HTTP, whose tokens reach files
        through this host too. `policies` applies secure view and watermarks."""
        self.settings = settings
        self.storage = storage
        self.access = access
        self.tokens = tokens
        self.users = users
        self.links = links
        self.locks = locks
        self.clients = clients
        self.user_info = user_info
        self.external_apps = external_apps
        self.clock = clock
        self.policies = policies

    # --- who is calling -----------------------------------------------------------------

    def authorize(self, file_id: ResourceId, token: str) -> WopiSession:
        """Verify the access token for this file against every accepted audience."""
        if not token:
            raise InvalidToken("missing access token")
        try:
            grant = self.tokens.verify(token, audience=self._accepts_audience, file_id=file_id)
        except InvalidToken as error:
            log.info("WOPI: refused token %s for %s: %s", token_tail(token), file_id, error.message)
            raise
        principal = principal_from_grant(grant, self.users, self.links, self.clock())
        client = self.clients.for_audience(grant.audience)
        view_mode, node, parent = self._view_mode_now(grant, principal)
        return WopiSession(token, grant, client.name if client else "", principal, view_mode, node, parent)

    def _accepts_audience(self, audience: str) -> bool:
        """The WOPI clients', the validator's, and those of apps that registered over HTTP:
        the registry hands them the file's WOPISrc with their token (read only when no
        configured client's audience matched)."""
        if audience == VALIDATOR_AUDIENCE or self.clients.for_audience(audience) is not None:
            return True
        return audience in {audience_for(name) for name in self.external_apps()}

    def check_proof(self, session: WopiSession, url: str, headers: ProofHeaders) -> None:
        """Verify the proof headers when the session's WOPI client publishes proof keys
        (``wopi.proof_keys``: required | if-published | off); re-read its discovery once
        before rejecting."""
        policy = self.settings.wopi.proof_keys
        if policy == "off":
            return
        client = self.clients.get(session.app_name)
        discovery = client.current() if client else None
        keys = discovery.proof_keys if discovery else None
        if keys is None:
            if policy == "required":
                raise ProofRejected("proof keys are required but the WOPI client publishes none")
            return
        result = self._verify(keys, session, url, headers)
        if result is not ProofResult.VALID and client is not None and client.refresh_after_proof_failure():
            refreshed = client.current()
            if refreshed is not None and refreshed.proof_keys is not None:
                result = self._verify(refreshed.proof_keys, session, url, headers)
        if result is not ProofResult.VALID:
            log.warning("WOPI: proof %s for token %s from app %s", result.value, token_tail(session.token), session.app_name)
            raise ProofRejected(f"proof check failed: {result.value}")

    def _verify(self, keys: ProofKeys, session: WopiSession, url: str, headers: ProofHeaders) -> ProofResult:
        return verify_proof(
            keys,
            access_token=session.token,
            url=url,
            proof=headers.proof,
            proof_old=headers.proof_old,
            timestamp=headers.timestamp,
            now=self.clock(),
        )

    # --- helpers ------------------------------------------------------------------------

    def _view_mode_now(
        self, grant: AccessGrant, principal: Principal
    ) -> tuple[ViewMode, Node | None, Node | None]:
        """What the token's holder may do now, and the file: the token's mode, lowered to
        what their access allows today, so a share revoked or narrowed since the token was
        issued ends or narrows it at its next use. WOPI clients express no role between
        viewer and editor: those read. The file's folder comes in the same read, for the
        operations that ask whether the holder may create files beside it."""
        try:
            node, parent = self.storage.stat_with_parent(grant.file_id)
        except NotFound:
            return grant.view_mode, None, None  # the operation answers 404 itself
        ceiling = self.access.ceiling(principal, node)
        if ceiling is None:
            raise InvalidToken("the access this token was issued for has ended")
        return grant.view_mode.at_most(ceiling), node, parent

    def _file(self, session: WopiSession) -> Node:
        node = session.node if session.node is not None else self.storage.stat(session.file_id)
        if node.is_folder:
            raise NotFound("not a file")
        return node

    def _require_write(self, session: WopiSession) -> None:
        if session.view_mode is not ViewMode.WRITE:
            raise Unauthenticated("the access token does not allow changes")

    def _parent(self, session: WopiSession, node: Node) -> Node | None:
        if node.parent_id is None:
            return None
        if node is session.node:
            return session.parent
        try:
            return self.storage.stat(node.parent_id)
        except NotFound:
            return None

    def _can_write_relative(self, session: WopiSession, parent: Node | None) -> bool:
        if session.view_mode is not ViewMode.WRITE or parent is None:
            return False
        try:
            return self.access.permissions(session.principal, parent).write
        except NotFound:
            return False

    def host_urls(self, node: Node, app_name: str) -> HostUrls:
        base = self.settings.public_base
        # As urlencode would spell it, in a fixed order; built directly, as every CheckFileInfo does.
        query = f"app={quote_plus(app_name)}&contextRouteName=files-spaces-personal&fileId={quote_plus(str(node.id))}"
        page = f"{base}/external?{query}"
        return HostUrls(view=page, edit=page, close=f"{base}/", brand=f"{base}/", post_message_origin=origin_of(base))

    def wopi_src(self, file_id: ResourceId) -> str:
        return f"{self.settings.public_base}/wopi/files/{quote(str(file_id), safe='')}"

    def _current_lock(self, file_id: ResourceId) -> Lock | None:
        return self.locks.get(file_id, self.clock())

    def _claim(self, session: WopiSession, lock_id: str | None) -> LockClaim:
        """What this client holds: the lock it presents, with the unlock/save grace."""
        return LockClaim.wopi(
            lock_id, session.app_name, session.grant.user_id, grace_seconds=self.settings.wopi.unlock_grace_seconds
        )

    @staticmethod
    def _raise_conflict(decision: locks.LockDecision) -> None:
        if decision.is_conflict:
            holder = holder_of(decision.holder) if decision.holder is not None else None
            raise LockConflict(decision.reason, decision.current_lock, decision.reason, holder)

    # --- operations ---------------------------------------------------------------------

    def check_file_info(self, session: WopiSession) -> dict[str, Any]:
        node = self._file(session)
        parent = self._parent(session, node)
        grant = session.grant
        view_mode = session.view_mode
        if view_mode is ViewMode.WRITE and not may_join(self._current_lock(node.id), session.app_name):
            # Another app holds the file (an ONLYOFFICE session, another WOPI client): this
            # client opens it read-only instead of failing its Lock.
            view_mode = ViewMode.READ
        caller = Caller(
            user_id=grant.user_id,
            display_name=str(grant.claims.get("name") or ""),
            view_mode=view_mode,
            is_anonymous=grant.link_id is not None,
            can_write_relative=self._can_write_relative(session, parent),
            user_info=self.user_info.get(grant.user_id),
        )
        info = check_file_info(node, caller, self.host_urls(node, session.app_name),
                               folder_name=parent.name if parent else "")
        profile = self.profile_of(session)
        return apply_profile(profile, info, self._profile_input(session, node, profile))

    def get_file(self, session: WopiSession, max_expected_size: str | None) -> tuple[Version, BinaryIO]:
        """GetFile: the current version's bytes; 412 past X-WOPI-MaxExpectedSize. Under
        secure view only a request whose proof verified (the WOPI client's) gets them."""
        node = self._file(session)
        self._refuse_unsigned_secure_get(session, node)
        if max_expected_size:
            try:
                limit = int(max_expected_size)
            except ValueError:
                raise BadRequest("X-WOPI-MaxExpectedSize is not an integer") from None
            if node.size > limit:
                raise PreconditionFailed(f"the file is {node.size} bytes, more than {limit}")
        return self.storage.open_version(session.file_id)

    def put_file(
        self, session: WopiSession, lock_id: str | None, content: IO[bytes], headers: PutFileHeaders | None = None
    ) -> tuple[Version, Node]:
        """PutFile: a new version, streamed, when the lock matches (or the file is empty
        and unlocked, or the lock was released by this app and user less than
        ``wopi.unlock_grace_seconds`` ago). The lock is checked before the body is read and
        again when the version commits: a lock lost meanwhile stores nothing.

        With ``X-COOL-WOPI-Timestamp``, the file must still be at the modified time the
        client names, also at the commit (ExternallyModified otherwise). Answers the new
        version and the file as it is now (its LastModifiedTime goes back to the client)."""
        self._require_write(session)
        node = self._file(session)
        given = headers or PutFileHeaders()
        expected: int | None = None
        if given.timestamp is not None:
            if not cool.timestamp_matches(given.timestamp, node.modified):
                raise ExternallyModified("the file was changed since the editor loaded it")
            expected = node.version
        is_autosave = cool.parse_flag(given.is_autosave)
        origin = replace(
            session.origin,
            save_kind=cool.save_kind(is_autosave, cool.parse_flag(given.is_exit_save)),
            modified_by_user=cool.parse_flag(given.is_modified_by_user),
        )
        limit = self.settings.storage.max_upload_bytes or None
        try:
            version = self.storage.write_version(
                session.file_id,
                cast(BinaryIO, content),
                origin,
                expected_version=expected,
                max_bytes=limit,
                holding=self._claim(session, lock_id),
            )
        except VersionConflict:
            raise ExternallyModified("the file was changed while the editor saved it") from None
        return version, self.storage.stat(session.file_id)

    def lock(self, session: WopiSession, lock_id: str | None, old_lock: str | None) -> Node:
        """Lock, or UnlockAndRelock when X-WOPI-OldLock is present."""
        self._require_write(session)
        new_id = locks.validate_lock_id(lock_id)
        node = self._file(session)
        expires = locks.lock_expiry(self.clock(), self.settings.wopi.lock_seconds)
        wanted = Lock(
            session.file_id,
            new_id,
            session.app_name,
            session.grant.user_id,
            expires,
            LockKind.WOPI,
            session.principal.display_name or session.principal.name,
        )
        if old_lock is not None:
            old_id = locks.validate_lock_id(old_lock, "X-WOPI-OldLock")

            def relock(current: Lock | None) -> Lock | None:
                self._raise_conflict(locks.decide_unlock_and_relock(current, old_id, new_id, self.clock()))
                return wanted

            self.locks.update(session.file_id, relock, self.clock())
        else:

            def grant(current: Lock | None) -> Lock | None:
                self._raise_conflict(locks.decide_lock(current, new_id, self.clock()))
                return wanted

            self.locks.update(session.file_id, grant, self.clock())
        return node

    def get_lock(self, session: WopiSession) -> tuple[str, Node]:
        node = self._file(session)
        decision = locks.decide_get_lock(self._current_lock(session.file_id), self.clock())
        self._raise_conflict(decision)
        return decision.current_lock, node

    def refresh_lock(self, session: WopiSession, lock_id: str | None) -> Node:
        self._require_write(session)
        presented = locks.validate_lock_id(lock_id)
        node = self._file(session)
        expires = locks.lock_expiry(self.clock(), self.settings.wopi.lock_seconds)

        def refresh(current: Lock | None) -> Lock | None:
            self._raise_conflict(locks.decide_refresh(current, presented, self.clock()))
            assert current is not None
            return replace(current, expires_at=expires)

        self.locks.update(session.file_id, refresh, self.clock())
        return node

    def unlock(self, session: WopiSession, lock_id: str | None) -> Node:
        self._require_write(session)
        presented = locks.validate_lock_id(lock_id)
        node = self._file(session)

        def release(current: Lock | None) -> Lock | None:
            self._raise_conflict(locks.decide_unlock(current, presented, self.clock()))
            return None

        self.locks.update(session.file_id, release, self.clock())
        return node

    def rename(self, session: WopiSession, lock_id: str | None, requested_header: str | None) -> str:
        """RenameFile: answers the new name without its extension. The id stays."""
        self._require_write(session)
        node = self._file(session)
        if requested_header is None:
            raise InvalidFileName("missing X-WOPI-RequestedName")
        claim = self._claim(session, lock_id)
        self.storage.check_lock(node.id, claim, Operation.RENAME)  # the lock before the name, as WOPI orders them
        requested = decode_header_name(requested_header, "X-WOPI-RequestedName")
        try:
            new_name = renamed(node.name, requested)
            self.storage.rename(node.id, new_name, holding=claim)
        except (InvalidName, AlreadyExists) as error:
            raise InvalidFileName(error.message) from error
        return requested

    def delete(self, session: WopiSession) -> None:
        """DeleteFile: never while the file is locked (it carries no lock to present)."""
        self._require_write(session)
        node = self._file(session)
        self.storage.delete(node.id)

    def put_user_info(self, session: WopiSession, body: bytes) -> None:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("UserInfo must be UTF-8 text") from None
        if len(text) > MAX_USER_INFO_CHARS:
            raise BadRequest(f"UserInfo is longer than {MAX_USER_INFO_CHARS} characters")
        self._file(session)
        self.user_info.put(session.grant.user_id, text)

    def put_relative(
        self, session: WopiSession, headers: Mapping[str, str | None], stream: IO[bytes]
    ) -> RelativeResult:
        """PutRelativeFile: a new file next to this one (or a new version of an existing
        one with X-WOPI-OverwriteRelativeTarget), answered with a WOPISrc and a fresh token."""
        content = cast(BinaryIO, stream)
        node = self._file(session)
        if not self._can_write_relative(session, self._parent(session, node)) or self.effects(session, node).secure_view:
            raise NotImplementedFeature("this access token may not create files here")
        suggested = headers.get("X-WOPI-SuggestedTarget")
        relative = headers.get("X-WOPI-RelativeTarget")
        target = resolve_relative_target(
            None if suggested is None else decode_header_name(suggested, "X-WOPI-SuggestedTarget"),
            None if relative is None else decode_header_name(relative, "X-WOPI-RelativeTarget"),
            headers.get("X-WOPI-OverwriteRelativeTarget"),
            node.name,
        )
        assert node.parent_id is not None
        parent_id = node.parent_id
        storage = self.storage

        def taken(name: str) -> bool:
            return storage.find_child(parent_id, name) is not None

        limit = self.settings.storage.max_upload_bytes or None
        if target.mode is TargetMode.SUGGESTED:
            created = storage.create_file(parent_id, free_name(target.name, taken), content, session.origin, max_bytes=limit)
        else:
            existing = storage.find_child(parent_id, target.name)
            if existing is not None and not target.overwrite:
                raise RelativeTargetExists(
                    "a file with that name exists", encode_header_name(free_name(target.name, taken))
                )
            if existing is not None:
                if existing.is_folder:
                    raise RelativeTargetExists("a folder has that name", encode_header_name(free_name(target.name, taken)))
                # The target is another file: this client holds no lock on it, so it is
                # replaced only while nobody holds it (checked again at the commit).
                storage.write_version(existing.id, content, session.origin, expected_version=None, max_bytes=limit)
                created = storage.stat(existing.id)
            else:
                created = storage.create_file(parent_id, target.name, content, session.origin, max_bytes=limit)
        return self._relative_result(session, created)

    def _relative_result(self, session: WopiSession, created: Node) -> RelativeResult:
        grant = session.grant
        issued = self.tokens.issue(
            file_id=created.id,
            user_id=grant.user_id,
            view_mode=ViewMode.WRITE,
            audience=grant.audience,
            link_id=grant.link_id,
            claims=grant.claims,
        )
        urls = self.host_urls(created, session.app_name)
        url = f"{self.wopi_src(created.id)}?{urlencode({'access_token': issued.token})}"
        return RelativeResult(created.name, url, urls.view, urls.edit)

    # --- secure view, watermarks and client profiles -----------------------------------

    def profile_of(self, session: WopiSession) -> Profile:
        """The CheckFileInfo profile of the app the token was issued for (wopi/profiles.py);
        the validator's for tokens that name no configured app."""
        client = self.clients.get(session.app_name)
        if client is None:
            return Profile.VALIDATOR
        return choose_profile(client.app.profile, client.current())

    def effects(self, session: WopiSession, node: Node) -> Effects:
        if self.policies is None:
            return NO_EFFECTS
        return self.policies.effects(session.principal, node)

    def _profile_input(self, session: WopiSession, node: Node, profile: Profile) -> ProfileInput:
        effects = self.effects(session, node)
        if profile is not Profile.COLLABORA:
            return ProfileInput(session.view_mode, effects.secure_view, effects.watermark)
        return ProfileInput(session.view_mode, effects.secure_view, effects.watermark,
                            template_source=self._template_source(session, node),
                            user_extra_info=self._user_extra_info(session))

    def _user_extra_info(self, session: WopiSession) -> dict[str, str]:
        """What Collabora may show co-editors about the user: the e-mail address, when the
        admin lets Docbridge show them (``sharing.show_email``)."""
        if session.principal.is_public or not self.settings.sharing.show_email:
            return {}
        user = self.users.find(session.grant.user_id)
        return {"mail": user.email} if user is not None and user.email else {}

    def _template_source(self, session: WopiSession, node: Node) -> str:
        """Collabora's ``TemplateSource``: while the file still holds what /app/open copied
        from its template, a URL serving the template (Collabora makes the document from it
        and saves it back); "" otherwise."""
        claims = session.grant.claims
        template, made = claims.get(TEMPLATE_CLAIM), claims.get(TEMPLATE_VERSION_CLAIM)
        if session.view_mode is not ViewMode.WRITE or not isinstance(template, str) or made != node.version:
            return ""
        try:
            template_id = parse_resource_id(template, "template ID")
        except BadRequest:
            return ""
        issued = self.tokens.issue(file_id=template_id, user_id=session.grant.user_id, view_mode=ViewMode.READ,
                                   audience=TEMPLATE_AUDIENCE, ttl_seconds=TEMPLATE_TTL_SECONDS,
                                   link_id=session.grant.link_id)
        path = f"/wopi/templates/{quote(str(template_id), safe='')}"
        return f"{self.settings.public_base}{path}?{urlencode({'access_token': issued.token})}"

    def open_template(self, template_id: ResourceId, token: str) -> tuple[Version, BinaryIO]:
        """The bytes behind a ``TemplateSource``: the token names the template and the user,
        whose access (and secure view) is checked again now."""
        grant = self.tokens.verify(token, audience=TEMPLATE_AUDIENCE, file_id=template_id)
        principal = principal_from_grant(grant, self.users, self.links, self.clock())
        try:
            template = self.access.check(principal, template_id)
        except (NotFound, AccessDenied) as error:
            raise InvalidToken("the template is not readable for this token") from error
        if template.is_folder:
            raise NotFound("not a file")
        if self.policies is not None:
            self.policies.check_download(principal, template, "copy as a template")
        return self.storage.open_version(template.id)

    def _proofs_checked(self, session: WopiSession) -> bool:
        """Whether this request's proof was verified (the views check it before any
        operation): the session's app publishes proof keys and ``proof_keys`` is not off."""
        if self.settings.wopi.proof_keys == "off":
            return False
        client = self.clients.get(session.app_name)
        discovery = client.current() if client else None
        return discovery is not None and discovery.proof_keys is not None

    def _refuse_unsigned_secure_get(self, session: WopiSession, node: Node) -> None:
        """Secure view: the access token alone is in the user's browser (the launch form), so
        GetFile serves the bytes only to a request the WOPI client signed."""
        if self.policies is None or self._proofs_checked(session):
            return
        effects = self.policies.effects(session.principal, node)
        if effects.secure_view:
            self.policies.refused(session.principal, node, "unsigned WOPI GetFile", effects)
            raise SecureViewRefused("secure view: GetFile needs a request signed with the WOPI client's proof key")
