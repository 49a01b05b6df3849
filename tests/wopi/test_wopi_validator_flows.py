"""A validator-style run: the request flows of Microsoft's WOPI validator (TestCases.xml)
for the groups Docbridge supports, walked over HTTP, with the validator's prerequisites
deciding which groups apply: each case on a fresh file, and the whole suite in order on one
file, as the validator runs it.

The requests are built the way the validator builds them: the token both in the query and
as ``Authorization: Bearer``; file names UTF-7 encoded by .NET rules (``_`` becomes
``+AF8-``); RenameFile always sends ``X-WOPI-Lock`` (empty when the case names no lock);
``X-WOPI-OverwriteRelativeTarget`` is ``True``/``False``; an invalid token is the literal
``INVALID``; a garbled proof is the base64 of ``INVALID``; "ahead" and "behind" key
relations move the signatures between ``X-WOPI-Proof`` and ``X-WOPI-ProofOld``.

Supported groups: BaseWopiViewing, CheckFileInfoSchema, EditFlows, Locks, AccessTokens,
GetLock, ExtendedLockLength, PutRelativeFile, RenameFileIfCreateChildFileIsNotSupported,
FileVersion, ProofKeys. Skipped by their prerequisites (Docbridge does not claim them):
PutRelativeFileUnsupported, containers, ecosystem, CreateChildFile, FileUrlUsage, sharing
URLs, AddActivities, BusinessFlow.
"""

from __future__ import annotations

import base64
import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from core.ids import parse_resource_id
from core.tokens import ViewMode
from server.services import services_of
from tests.conftest import TestUser, upload
from tests.wopi.conftest import WopiCaller, issue_token
from tests.wopi.wopi_client import WopiClientStandIn
from wopi.host import VALIDATOR_AUDIENCE

RESOURCES = {
    "WordBlankDocument": b"PK\x03\x04 blank document " * 40,
    "WordSimpleDocument": b"PK\x03\x04 simple document " * 80,
    "WordComplexDocument": b"PK\x03\x04 complex document " * 160,
    "WordZeroByteDocument": b"",
    "ZeroByteFile": b"",
}
LOCK_256 = "1234567890" * 25 + "123456"
LOCK_1024 = LOCK_256 * 4
OFFICE_LOCK = '{"S":"0136ad16-9725-43c3-9ea0-5e01d2dbc162","E":2,"M":"DE997C5AC4E6","P":"6058AF1E-A36F-4691-9003-B8E2C7F50937"}'
LONG_NAME = "longwopitestfilename" * 26 + ".wopitestfoox"
INVALID_TOKEN = "INVALID"
INVALID_PROOF = base64.b64encode(b"INVALID").decode()
OFFICE_ONLINE_URL = r"^https:\/\/onenote\.officeapps(-df)?\.live\.com.+"
OFFICE_APPS_URL = r"^https:\/\/.*?\.officeapps(-df)?\.live\.com.+"
BASE64_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
# .NET's UTF7Encoding (no optional direct characters): RFC 2152 set D and white space.
UTF7_DIRECT = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'(),-./:? \t\r\n")


def dotnet_utf7(text: str) -> str:
    """UTF-7 as the validator's .NET code writes it: everything outside set D in base64,
    so ``madeup_name`` travels as ``madeup+AF8-name``."""
    out: list[str] = []
    run: list[str] = []

    def flush(following: str | None) -> None:
        if run:
            out.append("+" + base64.b64encode("".join(run).encode("utf-16-be")).decode().rstrip("="))
            if following is None or following in BASE64_CHARS or following == "-":
                out.append("-")
            run.clear()

    for char in text:
        if char in UTF7_DIRECT:
            flush(char)
            out.append(char)
        elif char == "+" and not run:
            out.append("+-")
        else:
            run.append(char)
    flush(None)
    return "".join(out)


def test_dotnet_utf7_matches_the_validator_encoding() -> None:
    assert dotnet_utf7("madeup_name.wopitestfoox") == "madeup+AF8-name.wopitestfoox"
    assert dotnet_utf7("ValidatorTestFile.docx") == "ValidatorTestFile.docx"
    assert dotnet_utf7("madeup_renamed").encode().decode("utf-7") == "madeup_renamed"

# JSON types of the CheckFileInfo schema properties Docbridge sends.
BOOL, STRING, INT, URL, DATE = "bool", "string", "int", "url", "date"
SCHEMA_TYPES = {
    "BaseFileName": STRING, "OwnerId": STRING, "Size": INT, "UserId": STRING, "Version": STRING,
    "BreadcrumbBrandName": STRING, "BreadcrumbBrandUrl": URL, "BreadcrumbFolderName": STRING,
    "BreadcrumbFolderUrl": URL, "CloseUrl": URL, "DisablePrint": BOOL, "FileExtension": STRING,
    "FileNameMaxLength": INT, "HostEditUrl": URL, "HostViewUrl": URL, "IsAnonymousUser": BOOL,
    "LastModifiedTime": DATE, "ReadOnly": BOOL, "SHA256": STRING, "SupportsDeleteFile": BOOL,
    "SupportsExtendedLockLength": BOOL, "SupportsGetLock": BOOL, "SupportsLocks": BOOL,
    "SupportsRename": BOOL, "SupportsUpdate": BOOL, "SupportsUserInfo": BOOL, "SupportsContainers": BOOL,
    "UserCanNotWriteRelative": BOOL, "UserCanRename": BOOL, "UserCanWrite": BOOL,
    "UserFriendlyName": STRING, "UserInfo": STRING, "PostMessageOrigin": URL,
}
REQUIRED = ("BaseFileName", "OwnerId", "Size", "UserId", "Version")


def schema_errors(info: dict[str, Any]) -> list[str]:
    errors = [f"missing {key}" for key in REQUIRED if key not in info]
    for key, value in info.items():
        kind = SCHEMA_TYPES.get(key)
        if kind is None:
            errors.append(f"{key} is not in the schema")
        elif kind == BOOL and not isinstance(value, bool):
            errors.append(f"{key} is not a boolean")
        elif kind == INT and (isinstance(value, bool) or not isinstance(value, int)):
            errors.append(f"{key} is not an integer")
        elif kind in (STRING, URL, DATE) and not isinstance(value, str):
            errors.append(f"{key} is not a string")
        elif kind == URL and value and not re.match(r"^https?://[^/\s]+", value):
            errors.append(f"{key} is not an absolute URL")
        elif kind == DATE and value:
            try:
                datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                errors.append(f"{key} is not a date-time")
    return errors


@dataclass
class Step:
    """One validator request and what its validators expect."""

    op: str
    args: dict[str, Any] = field(default_factory=dict)
    status: tuple[int, ...] = (200,)
    lock_mismatch: str | None = None  # LockMismatchValidator ExpectedLock
    json: dict[str, Any] = field(default_factory=dict)  # property -> value, or ("endswith", x)
    header: dict[str, Any] = field(default_factory=dict)  # header -> value, ("state", k), ("not_state", k), ("present",)
    content: str | None = None  # ResponseContentValidator ExpectedDocumentId
    save: dict[str, str] = field(default_factory=dict)  # state name -> json property or "header:<name>"
    url: str | None = None  # OverrideUrl state key
    mutate_token: bool = False
    proof: dict[str, Any] = field(default_factory=dict)


@dataclass
class Case:
    group: str
    name: str
    document: str
    steps: list[Step]
    cleanup: list[Step] = field(default_factory=list)


S = Step
LOCK = "LockString"
NEW = "NewLockString"
WRONG = "IncorrectLockString"
HOST_URLS = ("CloseUrl", "DownloadUrl", "FileSharingUrl", "FileUrl", "FileVersionUrl", "HostEditUrl",
             "HostEmbeddedViewUrl", "HostViewUrl", "SignInUrl", "SignoutUrl", "WorkflowUrl")
VIEWING_PROPERTIES: dict[str, Any] = {
    "BaseFileName": ("present",), "OwnerId": ("present",), "Size": ("present",), "Version": ("present",),
    **{key: ("opt_url",) for key in ("BreadcrumbBrandUrl", "BreadcrumbDocUrl", "BreadcrumbFolderUrl", "DownloadUrl",
                                      "CloseUrl", "HostEditUrl", "HostViewUrl")},
}
EDIT_STEPS = [S("CheckFileInfo", json=VIEWING_PROPERTIES), S("Lock", {"lock": LOCK}), S("GetFile", {"lock": LOCK}),
              S("PutFile", {"lock": LOCK, "resource": "WordSimpleDocument"}), S("Unlock", {"lock": LOCK})]
CASES: list[Case] = [
    Case("BaseWopiViewing", "CheckFileInfoFieldsNotToBeSetByHosts", "WordBlankDocument",
         [S("CheckFileInfo", json={"UserId": ("present",),
                                   **{key: ("opt", "") for key in ("HostAuthenticationId", "PresenceUserId", "TenantId",
                                                                   "UserPrincipalName", "AADUserObjectId")},
                                   "FileExtension": ("opt", ".wopitest")})]),
    Case("BaseWopiViewing", "ViewOnlySupport", "WordBlankDocument", [S("CheckFileInfo", json=VIEWING_PROPERTIES), S("GetFile")]),
    Case("BaseWopiViewing", "GetUnlockedFile", "WordSimpleDocument", [S("GetFile")]),
    Case("CheckFileInfoSchema", "FullCheckFileInfoSchema", "WordBlankDocument",
         [S("CheckFileInfo", args={"schema": True},
            json={"BaseFileName": ("not_match", r"^\..*$"), "FileExtension": ("opt", ".wopitest")})]),
    *[
        Case("CheckFileInfoSchema", f"HostUrls [{label}]", "WordBlankDocument",
             [S("CheckFileInfo", json={key: ("not_match", pattern) for key in HOST_URLS})])
        for label, pattern in (("onenote", OFFICE_ONLINE_URL), ("officeapps", OFFICE_APPS_URL))
    ],
    Case("CheckFileInfoSchema", "CheckFileWithInvalidAccessToken", "WordSimpleDocument",
         [S("CheckFileInfo", mutate_token=True, status=(401, 404))]),
    Case("EditFlows", "BasicEdit", "WordBlankDocument", [*EDIT_STEPS, S("GetFile", content="WordSimpleDocument")],
         [S("Unlock", {"lock": LOCK}, status=(200, 409))]),
    Case("EditFlows", "EditNoChange", "WordSimpleDocument", EDIT_STEPS, [S("Unlock", {"lock": LOCK}, status=(200, 409))]),
    Case("EditFlows", "PutUnlockedFile", "WordZeroByteDocument",
         [S("Lock", {"lock": LOCK}), S("PutFile", {"lock": LOCK, "resource": "ZeroByteFile"}), S("Unlock", {"lock": LOCK}),
          S("PutFile", {"resource": "WordBlankDocument"}), S("GetFile", content="WordBlankDocument")],
         [S("Unlock", {"lock": LOCK}, status=(200, 409))]),
    Case("EditFlows", "PutUnlockedFileNotZeroBytes", "WordBlankDocument",
         [S("Lock", {"lock": LOCK}), S("PutFile", {"lock": LOCK, "resource": "WordSimpleDocument"}), S("Unlock", {"lock": LOCK}),
          S("PutFile", {"resource": "WordBlankDocument"}, status=(409,))],
         [S("Unlock", {"lock": LOCK}, status=(200, 409))]),
    Case("EditFlows", "GetPutFileWithInvalidAccessToken", "WordSimpleDocument",
         [S("Lock", {"lock": LOCK}), S("GetFile", {"lock": LOCK}, mutate_token=True, status=(401, 404)),
          S("GetFile", {"lock": LOCK}),
          S("PutFile", {"lock": LOCK, "resource": "WordSimpleDocument"}, mutate_token=True, status=(401, 404)),
          S("PutFile", {"lock": LOCK, "resource": "WordSimpleDocument"}), S("Unlock", {"lock": LOCK})],
         [S("Unlock", {"lock": LOCK}, status=(200, 409))]),
    Case("Locks", "LockLengthValidation", "WordBlankDocument", [S("Lock", {"lock": LOCK_256}), S("Unlock", {"lock": LOCK_256})]),
    Case("Locks", "LockFormatValidation", "WordBlankDocument", [S("Lock", {"lock": OFFICE_LOCK}), S("Unlock", {"lock": OFFICE_LOCK})]),
    Case("Locks", "SuccessfulLockSequence", "WordSimpleDocument",
         [S("Lock", {"lock": LOCK}), S("RefreshLock", {"lock": LOCK}), S("UnlockAndRelock", {"old": LOCK, "lock": NEW}),
          S("Unlock", {"lock": NEW})]),
    Case("Locks", "LockMismatchAfterUnlockAndRelockRequest", "WordBlankDocument",
         [S("Lock", {"lock": LOCK}), S("UnlockAndRelock", {"old": LOCK, "lock": NEW}),
          S("Unlock", {"lock": LOCK}, status=(409,), lock_mismatch=NEW), S("Unlock", {"lock": NEW})]),
    Case("Locks", "DoubleLockSequence", "WordSimpleDocument",
         [S("Lock", {"lock": LOCK}), S("Lock", {"lock": LOCK}), S("Unlock", {"lock": LOCK})]),
    Case("Locks", "UnlockUnlockedFile", "WordBlankDocument", [S("Unlock", {"lock": LOCK}, status=(409,), lock_mismatch="")]),
    Case("Locks", "LockMismatchOnLockRequest", "WordBlankDocument",
         [S("Lock", {"lock": LOCK}), S("Lock", {"lock": WRONG}, status=(409,), lock_mismatch=LOCK), S("Unlock", {"lock": LOCK})]),
    Case("Locks", "LockMismatchOnUnlockRequest", "WordBlankDocument",
         [S("Lock", {"lock": LOCK}), S("Unlock", {"lock": WRONG}, status=(409,), lock_mismatch=LOCK), S("Unlock", {"lock": LOCK})]),
    Case("Locks", "LockMismatchOnRefreshLockRequest", "WordBlankDocument",
         [S("Lock", {"lock": LOCK}), S("RefreshLock", {"lock": WRONG}, status=(409,), lock_mismatch=LOCK), S("Unlock", {"lock": LOCK})]),
    Case("Locks", "LockMismatchOnUnlockAndRelockRequest", "WordBlankDocument",
         [S("Lock", {"lock": LOCK}), S("UnlockAndRelock", {"old": WRONG, "lock": NEW}, status=(409,), lock_mismatch=LOCK),
          S("Unlock", {"lock": LOCK})]),
    Case("Locks", "LockMismatchOnPutFileRequest", "WordBlankDocument",
         [S("Lock", {"lock": LOCK}), S("PutFile", {"lock": WRONG, "resource": "WordBlankDocument"}, status=(409,), lock_mismatch=LOCK),
          S("Unlock", {"lock": LOCK})]),
    Case("Locks", "LockFileWithInvalidAccessToken", "WordSimpleDocument",
         [S("Lock", {"lock": LOCK}, mutate_token=True, status=(401, 404))], [S("Unlock", {"lock": LOCK}, status=(200, 409))]),
    Case("Locks", "UnlockFileWithInvalidAccessToken", "WordSimpleDocument",
         [S("Lock", {"lock": LOCK}), S("Unlock", {"lock": LOCK}, mutate_token=True, status=(401, 404)), S("Unlock", {"lock": LOCK})],
         [S("Unlock", {"lock": LOCK}, status=(200, 409))]),
    Case("AccessTokens", "CheckFileWithInvalidAccessToken", "WordSimpleDocument",
         [S("CheckFileInfo", mutate_token=True, status=(401, 404))]),
    Case("AccessTokens", "GetPutFileWithInvalidAccessToken", "WordSimpleDocument",
         [S("CheckFileInfo"), S("Lock", {"lock": LOCK}), S("GetFile", {"lock": LOCK}, mutate_token=True, status=(401, 404)),
          S("GetFile", {"lock": LOCK}),
          S("PutFile", {"lock": LOCK, "resource": "WordSimpleDocument"}, mutate_token=True, status=(401, 404)),
          S("PutFile", {"lock": LOCK, "resource": "WordSimpleDocument"}), S("Unlock", {"lock": LOCK})]),
    Case("AccessTokens", "LockFileWithInvalidAccessToken", "WordSimpleDocument",
         [S("CheckFileInfo"), S("Lock", {"lock": LOCK}, mutate_token=True, status=(401, 404)), S("Lock", {"lock": LOCK}),
          S("Unlock", {"lock": LOCK}, mutate_token=True, status=(401, 404)), S("Unlock", {"lock": LOCK})]),
    Case("GetLock", "files.GetLock", "WordBlankDocument", [S("Lock", {"lock": LOCK}), S("GetLock", header={"X-WOPI-Lock": LOCK})],
         [S("Unlock", {"lock": LOCK})]),
    Case("GetLock", "files.GetLockAfterChange", "WordBlankDocument",
         [S("Lock", {"lock": LOCK}), S("UnlockAndRelock", {"old": LOCK, "lock": NEW}), S("GetLock", header={"X-WOPI-Lock": NEW})],
         [S("Unlock", {"lock": NEW})]),
    Case("GetLock", "files.GetLockOnUnlockedFile", "WordBlankDocument",
         [S("Lock", {"lock": LOCK}), S("Unlock", {"lock": LOCK}), S("GetLock", header={"X-WOPI-Lock": ""})]),
    Case("ExtendedLockLength", "files.ExtendedLockLengthValidation", "WordBlankDocument",
         [S("CheckFileInfo", json={"SupportsExtendedLockLength": True}), S("Lock", {"lock": LOCK_1024}),
          S("GetLock", header={"X-WOPI-Lock": LOCK_1024}), S("Unlock", {"lock": LOCK_1024})]),
    Case("PutRelativeFile", "PutRelativeFile.SuggestedExtension", "WordBlankDocument",
         [S("CheckFileInfo"), S("PutRelativeFile", {"mode": "Suggested", "name": ".foox", "resource": "WordSimpleDocument"},
                                json={"Name": ("endswith", ".foox"), "Url": ("url_with_token",)}, save={"NewFileUrl": "Url"})],
         [S("DeleteFile", url="NewFileUrl")]),
    Case("PutRelativeFile", "PutRelativeFile.SuggestedName", "WordBlankDocument",
         [S("CheckFileInfo"), S("PutRelativeFile", {"mode": "Suggested", "name": "madeupname.wopitest", "resource": "WordSimpleDocument"},
                                json={"Name": ("endswith", "wopitest")}, save={"NewFileUrl": "Url"})],
         [S("DeleteFile", url="NewFileUrl")]),
    Case("PutRelativeFile", "PutRelativeFile.SuggestedNameConflict", "WordBlankDocument",
         [S("CheckFileInfo"),
          S("PutRelativeFile", {"mode": "Suggested", "name": "madeupname.wopitest", "resource": "WordSimpleDocument"}, save={"NewUrl1": "Url"}),
          S("PutRelativeFile", {"mode": "Suggested", "name": "madeupname.wopitest", "resource": "WordSimpleDocument"},
            json={"Name": ("endswith", "wopitest"), "Url": ("url_with_token",)}, save={"NewUrl2": "Url"})],
         [S("DeleteFile", url="NewUrl1"), S("DeleteFile", url="NewUrl2")]),
    Case("PutRelativeFile", "PutRelativeFile.RelativeName", "WordBlankDocument",
         [S("CheckFileInfo"), S("PutRelativeFile", {"mode": "ExactName", "name": "madeupname.wopitestfoox", "resource": "WordSimpleDocument"},
                                json={"Name": "madeupname.wopitestfoox"}, save={"NewUrl": "Url"})],
         [S("DeleteFile", url="NewUrl")]),
    *[
        Case("PutRelativeFile", f"PutRelativeFile.RelativeNameOverwrite{flag.title()}NoEffect", "WordBlankDocument",
             [S("CheckFileInfo"), S("PutRelativeFile", {"mode": "ExactName", "name": "madeupname.wopitestfoox", "overwrite": flag,
                                                        "resource": "WordSimpleDocument"},
                                    json={"Name": "madeupname.wopitestfoox"}, save={"NewUrl": "Url"})],
             [S("DeleteFile", url="NewUrl")])
        for flag in ("true", "false")
    ],
    *[
        Case("PutRelativeFile", f"PutRelativeFile.RelativeNameConflict{label}", "WordBlankDocument",
             [S("CheckFileInfo"),
              S("PutRelativeFile", {"mode": "ExactName", "name": "madeupname.wopitestfoox", "resource": "WordSimpleDocument"}, save={"NewUrl": "Url"}),
              S("PutRelativeFile", {"mode": "ExactName", "name": "madeupname.wopitestfoox", "resource": "WordSimpleDocument", **extra},
                status=(409,))],
             [S("DeleteFile", url="NewUrl")])
        for label, extra in (("NoOverwrite", {}), ("OverwriteFalse", {"overwrite": "false"}))
    ],
    Case("PutRelativeFile", "PutRelativeFile.RelativeNameConflictOverwriteTrue", "WordBlankDocument",
         [S("CheckFileInfo"),
          S("PutRelativeFile", {"mode": "ExactName", "name": "madeupname.wopitestfoox", "resource": "WordSimpleDocument"}, save={"NewUrl1": "Url"}),
          S("PutRelativeFile", {"mode": "ExactName", "name": "madeupname.wopitestfoox", "overwrite": "true", "resource": "WordSimpleDocument"},
            json={"Name": ("endswith", ".wopitestfoox")}, save={"NewUrl2": "Url"}),
          S("CheckFileInfo", url="NewUrl2")],
         [S("DeleteFile", url="NewUrl1", status=(200, 404)), S("DeleteFile", url="NewUrl2", status=(200, 404))]),
    Case("PutRelativeFile", "PutRelativeFile.ConflictingHeaders", "WordBlankDocument",
         [S("CheckFileInfo"), S("PutRelativeFile", {"mode": "Conflicting", "name": "madeupname.wopitestfoox", "resource": "WordSimpleDocument"},
                                status=(400, 501))]),
    Case("PutRelativeFile", "PutRelativeFile.RelativeNameConflictOverwriteTrueLocked", "WordBlankDocument",
         [S("CheckFileInfo"),
          S("PutRelativeFile", {"mode": "ExactName", "name": "madeupname.wopitestfoox", "resource": "WordSimpleDocument"}, save={"NewUrl": "Url"}),
          S("Lock", {"lock": LOCK}, url="NewUrl"),
          S("PutRelativeFile", {"mode": "ExactName", "name": "madeupname.wopitestfoox", "overwrite": "true", "resource": "WordSimpleDocument"},
            status=(409,))],
         [S("Unlock", {"lock": LOCK}, url="NewUrl"), S("DeleteFile", url="NewUrl")]),
    Case("PutRelativeFile", "PutRelativeFile.FileNameReturnedIsCorrectlyEncoded", "WordBlankDocument",
         [S("CheckFileInfo"), S("PutRelativeFile", {"mode": "ExactName", "name": "madeup_name.wopitestfoox", "resource": "WordSimpleDocument"},
                                json={"Name": "madeup_name.wopitestfoox"}, save={"NewUrl": "Url"})],
         [S("DeleteFile", url="NewUrl")]),
    Case("PutRelativeFile", "PutRelativeFile.FileNameLongerThan512Chars", "WordBlankDocument",
         [S("CheckFileInfo"), S("PutRelativeFile", {"mode": "ExactName", "name": LONG_NAME, "resource": "WordSimpleDocument"},
                                status=(200, 400), save={"UrlWithFileNameLongerThan512Chars": "Url"})],
         [S("DeleteFile", url="UrlWithFileNameLongerThan512Chars")]),
    Case("PutRelativeFile", "PutRelativeFile.IncludeHostUrls", "WordBlankDocument",
         [S("PutRelativeFile", {"mode": "Suggested", "name": "new_file.wopitest", "resource": "WordSimpleDocument"},
            json={"HostEditUrl": ("url",), "HostViewUrl": ("url",)}, save={"NewFileUrl": "Url"})],
         [S("DeleteFile", url="NewFileUrl")]),
    *[
        Case("RenameFileIfCreateChildFileIsNotSupported", f"PutRelativeAndRenameFile.{name}", "WordBlankDocument",
             [S("PutRelativeFile", {"mode": "ExactName", "name": created, "resource": "WordSimpleDocument"},
                json={"Name": created}, save={"NewFileUrl": "Url"}),
              S("CheckFileInfo", url="NewFileUrl", json={"SupportsRename": True, "UserCanRename": True}),
              *middle,
              S("DeleteFile", url="NewFileUrl")],
             [S("Unlock", {"lock": LOCK}, url="NewFileUrl", status=(200, 404, 409)), S("DeleteFile", url="NewFileUrl", status=(200, 404))])
        for name, created, middle in (
            ("RenameShouldSucceed", "ValidatorTestFile.docx",
             [S("RenameFile", {"name": "ValidatorTestFileRenamed"}, url="NewFileUrl", json={"Name": "ValidatorTestFileRenamed"})]),
            ("FileNameAfterRenameIsCorrectlyEncoded", "madeup_name.wopitestfoox",
             [S("RenameFile", {"name": "madeup_renamed"}, url="NewFileUrl", json={"Name": "madeup_renamed"})]),
            ("RenamingALockedFileWithACorrectLockHeaderValueShouldSucceed", "ValidatorTestFile.docx",
             [S("Lock", {"lock": LOCK}, url="NewFileUrl"),
              S("RenameFile", {"name": "ValidatorTestFileRenamed", "lock": LOCK}, url="NewFileUrl", json={"Name": "ValidatorTestFileRenamed"}),
              S("Unlock", {"lock": LOCK}, url="NewFileUrl")]),
            ("RenamingALockedFileWithAnIncorrectLockHeaderValueShouldReturnA409", "ValidatorTestFile.docx",
             [S("Lock", {"lock": LOCK}, url="NewFileUrl"),
              S("RenameFile", {"name": "ValidatorTestFileRenamed", "lock": WRONG}, url="NewFileUrl", status=(409,)),
              S("Unlock", {"lock": LOCK}, url="NewFileUrl")]),
            ("RenameShouldNotChangeFileExtension", "ValidatorTestFile.docx",
             [S("RenameFile", {"name": "ValidatorTestFileRenamed"}, url="NewFileUrl", json={"Name": "ValidatorTestFileRenamed"}),
              S("CheckFileInfo", url="NewFileUrl", json={"BaseFileName": "ValidatorTestFileRenamed.docx", "FileExtension": ".docx"})]),
        )
    ],
    Case("RenameFileIfCreateChildFileIsNotSupported", "PutRelativeAndRenameFile.RenamingADeletedFileShouldReturnA404", "WordBlankDocument",
         [S("PutRelativeFile", {"mode": "ExactName", "name": "ValidatorTestFile.docx", "resource": "WordSimpleDocument"}, save={"NewFileUrl": "Url"}),
          S("CheckFileInfo", url="NewFileUrl", json={"SupportsRename": True, "UserCanRename": True}),
          S("DeleteFile", url="NewFileUrl"),
          S("RenameFile", {"name": "ValidatorTestFileRenamed"}, url="NewFileUrl", status=(404,))],
         [S("DeleteFile", url="NewFileUrl", status=(200, 404))]),
    Case("FileVersion", "files.GetFileReturnsVersion", "WordBlankDocument", [S("GetFile", header={"X-WOPI-ItemVersion": ("present",)})]),
    Case("FileVersion", "files.LockReturnsVersion", "WordBlankDocument",
         [S("Lock", {"lock": LOCK}, header={"X-WOPI-ItemVersion": ("present",)}), S("Unlock", {"lock": LOCK})]),
    Case("FileVersion", "files.UnlockReturnsVersion", "WordBlankDocument",
         [S("Lock", {"lock": LOCK}), S("Unlock", {"lock": LOCK}, header={"X-WOPI-ItemVersion": ("present",)})]),
    Case("FileVersion", "files.PutFileReturnsVersion", "WordBlankDocument",
         [S("Lock", {"lock": LOCK}), S("PutFile", {"lock": LOCK, "resource": "WordSimpleDocument"}, header={"X-WOPI-ItemVersion": ("present",)}),
          S("Unlock", {"lock": LOCK})]),
    Case("FileVersion", "files.PutFileReturnsDifferentVersion", "WordBlankDocument",
         [S("Lock", {"lock": LOCK}), S("CheckFileInfo", save={"OriginalVersion": "Version"}),
          S("PutFile", {"lock": LOCK, "resource": "WordSimpleDocument"}, header={"X-WOPI-ItemVersion": ("not_state", "OriginalVersion")},
            save={"SecondVersion": "header:X-WOPI-ItemVersion"}),
          S("PutFile", {"lock": LOCK, "resource": "WordComplexDocument"}, header={"X-WOPI-ItemVersion": ("not_state", "SecondVersion")}),
          S("Unlock", {"lock": LOCK}, save={"VersionOnUnlock": "header:X-WOPI-ItemVersion"}),
          S("CheckFileInfo", json={"Version": ("state", "VersionOnUnlock")})],
         [S("Unlock", {"lock": LOCK}, status=(200, 409))]),
    Case("PutUserInfo", "PutUserInfoSucceeds", "WordBlankDocument",
         [S("PutUserInfo", {"body": "PutUserInfoTest"}), S("CheckFileInfo", json={"UserInfo": "PutUserInfoTest"})]),
    Case("FileVersion", "files.LockAndUnlockAfterGetFileReturnsSameVersion", "WordBlankDocument",
         [S("CheckFileInfo", save={"OriginalVersion": "Version"}),
          S("GetFile", header={"X-WOPI-ItemVersion": ("state", "OriginalVersion")}),
          S("Lock", {"lock": LOCK}, header={"X-WOPI-ItemVersion": ("state", "OriginalVersion")}),
          S("Unlock", {"lock": LOCK}, header={"X-WOPI-ItemVersion": ("state", "OriginalVersion")})]),
    Case("ProofKeys", "ProofKeyCurrentValid", "WordBlankDocument", [S("CheckFileInfo")]),
    Case("ProofKeys", "ProofKeyCurrentOldGarbage", "WordBlankDocument",
         [S("CheckFileInfo", proof={"mutate_current": True, "mutate_old": True}, status=(500,))]),
    Case("ProofKeys", "ProofKeyCurrentValidOldGarbage", "WordBlankDocument", [S("CheckFileInfo", proof={"mutate_old": True})]),
    Case("ProofKeys", "ProofKeyWacAheadOfHost", "WordBlankDocument", [S("CheckFileInfo", proof={"relation": "Ahead"})]),
    Case("ProofKeys", "ProofKeyWacBehindHost", "WordBlankDocument", [S("CheckFileInfo", proof={"relation": "Behind"})]),
    Case("ProofKeys", "WopiTimestampOlderThan20Min", "WordBlankDocument",
         [S("CheckFileInfo", proof={"when": datetime(2015, 8, 17, tzinfo=UTC)}, status=(500,))]),
    Case("ProofKeys", "ProofKeyCurrentGarbageValidOldFromOldKey", "WordBlankDocument",
         [S("CheckFileInfo", proof={"mutate_current": True}, status=(500,))]),
]



def renamed_case(case: Case, names: dict[str, str]) -> Case:
    """The same case with the file names of the other TestCases.xml revision."""

    def swap(value: Any) -> Any:
        if isinstance(value, str):
            for old, new in names.items():
                value = value.replace(old, new)
            return value
        if isinstance(value, tuple):
            return tuple(swap(item) for item in value)
        if isinstance(value, dict):
            return {key: swap(item) for key, item in value.items()}
        return value

    def swap_step(step: Step) -> Step:
        return dataclasses.replace(step, args=swap(step.args), json=swap(step.json))

    return Case(case.group, f"{case.name} [{names['foox']}]", case.document,
                [swap_step(step) for step in case.steps], [swap_step(step) for step in case.cleanup])


# The current TestCases.xml names the created files *.wopitestx and ValidatorTestFile.wopitest;
# an earlier revision used *.wopitestfoox / .foox and ValidatorTestFile.docx.
CASES += [
    renamed_case(case, {"foox": "wopitestx", ".wopitestwopitestx": ".wopitestx", ".docx": ".wopitest"})
    for case in CASES
    if case.group in ("PutRelativeFile", "RenameFileIfCreateChildFileIsNotSupported")
]

# Group -> the CheckFileInfo conditions of its validator prerequisites.
PREREQUISITES: dict[str, dict[str, Any]] = {
    "BaseWopiViewing": {},
    "CheckFileInfoSchema": {},
    "EditFlows": {"UserCanWrite": True, "SupportsUpdate": True, "SupportsLocks": True},
    "Locks": {"SupportsUpdate": True, "SupportsLocks": True},
    "AccessTokens": {"SupportsLocks": True},
    "GetLock": {"SupportsUpdate": True, "SupportsLocks": True, "SupportsGetLock": True},
    "ExtendedLockLength": {"SupportsUpdate": True, "SupportsLocks": True, "SupportsGetLock": True, "SupportsExtendedLockLength": True},
    "PutRelativeFile": {"SupportsUpdate": True, "UserCanNotWriteRelative": False, "SupportsLocks": True, "SupportsDeleteFile": True},
    "PutRelativeFileUnsupported": {"SupportsUpdate": True, "SupportsLocks": True, "UserCanNotWriteRelative": True},
    "RenameFileIfCreateChildFileIsNotSupported": {
        "SupportsUpdate": True, "SupportsLocks": True, "SupportsDeleteFile": True, "SupportsContainers": False,
        "SupportsRename": True, "UserCanNotWriteRelative": False,
    },
    "FileVersion": {"SupportsLocks": True},
    "PutUserInfo": {"SupportsUserInfo": True},
    "ProofKeys": {},
    "Container": {"SupportsContainers": True},
}


def json_matches(expected: tuple[Any, ...], value: Any, state: dict[str, str]) -> bool:
    """The JsonResponseContentValidator property checks, by kind."""
    kind, operand = expected[0], expected[-1]
    if kind == "present":
        return value is not None
    if kind == "opt":
        return value is None or value == operand
    if kind == "state":
        return bool(value == state.get(operand))
    if kind == "opt_url":
        return value is None or (isinstance(value, str) and bool(re.match(r"^https?://[^/\s]+", value)))
    if kind == "not_match":
        return value is None or not re.match(operand, str(value))
    if kind == "endswith":
        return isinstance(value, str) and value.endswith(operand)
    if kind == "url":
        return isinstance(value, str) and value.startswith("http")
    if kind == "url_with_token":
        return isinstance(value, str) and value.startswith("http") and "access_token=" in value
    raise AssertionError(kind)


def mutate_proof(options: dict[str, Any]) -> Callable[[dict[str, str]], dict[str, str]] | None:
    """The validator's ProofKey mutator: garble X-WOPI-Proof and/or X-WOPI-ProofOld, or move
    the signatures as a client ahead of (or behind) the host's view of its keys would."""
    if not options:
        return None

    def mutate(headers: dict[str, str]) -> dict[str, str]:
        result = dict(headers)
        relation = options.get("relation")
        if relation == "Behind":
            result["X-WOPI-Proof"], result["X-WOPI-ProofOld"] = result["X-WOPI-ProofOld"], INVALID_PROOF
        elif relation == "Ahead":
            result["X-WOPI-ProofOld"], result["X-WOPI-Proof"] = result["X-WOPI-Proof"], INVALID_PROOF
        else:
            if options.get("mutate_current"):
                result["X-WOPI-Proof"] = INVALID_PROOF
            if options.get("mutate_old"):
                result["X-WOPI-ProofOld"] = INVALID_PROOF
        return result

    return mutate


class Runner:
    def __init__(self, client: FlaskClient, stand_in: WopiClientStandIn, caller: WopiCaller) -> None:
        self.client = client
        self.stand_in = stand_in
        self.main = caller
        self.state: dict[str, str] = {}

    def caller_for(self, step: Step) -> WopiCaller:
        base = WopiCaller.from_url(self.client, self.stand_in, self.state[step.url]) if step.url else self.main
        options = {key: value for key, value in step.proof.items() if key == "when"}
        mutation = mutate_proof({key: value for key, value in step.proof.items() if key != "when"})
        token = INVALID_TOKEN if step.mutate_token else base.token
        return dataclasses.replace(
            base, token=token, proof_options=options, proof_mutation=mutation,
            extra_headers={"Authorization": f"Bearer {token}"},
        )

    def request(self, step: Step):  # type: ignore[no-untyped-def]
        caller = self.caller_for(step)
        args = step.args
        if step.op == "CheckFileInfo":
            return caller.check_file_info()
        if step.op == "GetFile":
            return caller.get_file()
        if step.op == "PutFile":
            return caller.put_file(RESOURCES[args["resource"]], lock=args.get("lock"))  # no X-WOPI-Lock without one
        if step.op == "Lock":
            return caller.lock(args["lock"])
        if step.op == "UnlockAndRelock":
            return caller.lock(args["lock"], old=args["old"])
        if step.op == "Unlock":
            return caller.unlock(args["lock"])
        if step.op == "RefreshLock":
            return caller.post("REFRESH_LOCK", {"X-WOPI-Lock": args["lock"]})
        if step.op == "GetLock":
            return caller.post("GET_LOCK")
        if step.op == "DeleteFile":
            return caller.post("DELETE")
        if step.op == "PutUserInfo":
            return caller.post("PUT_USER_INFO", {}, args["body"].encode())
        if step.op == "RenameFile":
            # The validator sends X-WOPI-Lock even when the case names no lock (empty then).
            headers = {"X-WOPI-RequestedName": dotnet_utf7(args["name"]), "X-WOPI-Lock": args.get("lock", "")}
            return caller.post("RENAME_FILE", headers)
        if step.op == "PutRelativeFile":
            name = dotnet_utf7(args["name"])
            content = RESOURCES[args["resource"]]
            headers = {"X-WOPI-Size": str(len(content))}
            if args["mode"] in ("Suggested", "Conflicting"):
                headers["X-WOPI-SuggestedTarget"] = name
            if args["mode"] in ("ExactName", "Conflicting"):
                headers["X-WOPI-RelativeTarget"] = name
            if "overwrite" in args and args["mode"] == "ExactName":
                headers["X-WOPI-OverwriteRelativeTarget"] = args["overwrite"].title()  # .NET bool: True/False
            return caller.post("PUT_RELATIVE", headers, content)
        raise AssertionError(step.op)

    def check(self, step: Step, response) -> list[str]:  # type: ignore[no-untyped-def]
        errors: list[str] = []
        if response.status_code not in step.status:
            return [f"{step.op}: HTTP {response.status_code}, expected {step.status}"]
        length = response.headers.get("Content-Length")
        if length is not None and int(length) != len(response.data):  # the validator's ContentLengthValidator
            errors.append(f"{step.op}: Content-Length {length} but {len(response.data)} bytes")
        if step.lock_mismatch is not None and response.headers.get("X-WOPI-Lock", "") != step.lock_mismatch:
            errors.append(f"{step.op}: X-WOPI-Lock {response.headers.get('X-WOPI-Lock')!r} != {step.lock_mismatch!r}")
        body = response.get_json(silent=True) or {}
        if step.args.get("schema"):
            errors.extend(schema_errors(body))
        for key, expected in step.json.items():
            value = body.get(key)
            if isinstance(expected, tuple):
                ok = json_matches(expected, value, self.state)
            else:
                ok = value == expected
            if not ok:
                errors.append(f"{step.op}: {key}={value!r}, expected {expected!r}")
        for name, expected in step.header.items():
            value = response.headers.get(name)
            if isinstance(expected, tuple):
                ok = {
                    "present": value is not None,
                    "state": value == self.state.get(expected[-1]),
                    "not_state": value is not None and value != self.state.get(expected[-1]),
                }[expected[0]]
            else:
                ok = value == expected
            if not ok:
                errors.append(f"{step.op}: header {name}={value!r}, expected {expected!r}")
        if step.content is not None and response.data != RESOURCES[step.content]:
            errors.append(f"{step.op}: content is not {step.content}")
        for state_key, source in step.save.items():
            self.state[state_key] = response.headers.get(source[7:]) if source.startswith("header:") else body.get(source)
        return errors

    def run(self, case: Case) -> list[str]:
        self.state = {}
        errors: list[str] = []
        for step in case.steps:
            step_errors = self.check(step, self.request(step))
            errors.extend(f"{case.name}: {error}" for error in step_errors)
            if step_errors:
                break
        for step in case.cleanup:
            if step.url and not self.state.get(step.url):
                continue
            self.request(step)
        return errors


def applies(group: str, info: dict[str, Any]) -> bool:
    if not info.get("BaseFileName", "").endswith(".wopitest"):  # WopiValidatorPrereq
        return False
    return all(info.get(key, False if isinstance(value, bool) else None) == value for key, value in PREREQUISITES[group].items())


@pytest.fixture
def runner_factory(app: Flask, client: FlaskClient, alice: TestUser, stand_in: WopiClientStandIn) -> Callable[[Case], Runner]:
    counter = iter(range(10_000))

    def make(case: Case) -> Runner:
        folder = client.post(f"/api/v1/containers/{alice.home_id}/folders", json={"name": f"run{next(counter)}"}, headers=alice.auth)
        parent = folder.get_json()["id"] if folder.status_code in (200, 201) else alice.home_id
        file_id = upload(client, alice, parent, "test.wopitest", RESOURCES[case.document])
        return Runner(client, stand_in, WopiCaller(client, stand_in, issue_token(app, alice, file_id), file_id))

    return make


@pytest.mark.parametrize("case", CASES, ids=[f"{c.group}:{c.name}" for c in CASES])
def test_validator_case(case: Case, runner_factory: Callable[[Case], Runner]) -> None:
    runner = runner_factory(case)
    info = runner.main.check_file_info().get_json()
    assert applies(case.group, info), f"prerequisites of {case.group} not met"
    assert runner.run(case) == []


def test_unsupported_groups_are_skipped_by_their_prerequisites(runner_factory: Callable[[Case], Runner]) -> None:
    info = runner_factory(CASES[0]).main.check_file_info().get_json()
    assert not applies("PutRelativeFileUnsupported", info)
    assert not applies("Container", info)


def run_suite(runner: Runner, groups: set[str] | None = None) -> list[str]:
    errors: list[str] = []
    for case in CASES:
        if groups is not None and case.group not in groups:
            continue
        info = runner.main.check_file_info().get_json()
        if not applies(case.group, info):
            errors.append(f"{case.name}: prerequisites of {case.group} not met")
            continue
        errors.extend(runner.run(case))
    return errors


def test_the_whole_suite_in_order_on_one_file(runner_factory: Callable[[Case], Runner]) -> None:
    """The validator runs every case against the one .wopitest file it was given, checking
    the group's prerequisites before each case; what a case leaves behind (content, locks,
    files it created) must not break the next."""
    assert run_suite(runner_factory(CASES[0])) == []


def test_the_suite_with_a_test_file_token(
    app: Flask, client: FlaskClient, alice: TestUser, stand_in: WopiClientStandIn
) -> None:
    """What `flask wopi test-file` sets up: an empty test.wopitest in the user's home and a
    token for the validator audience. Without ``--app`` no WOPI app's proof keys apply, so
    the ProofKeys group (whose negative cases need them) is left out here."""
    file_id = upload(client, alice, alice.home_id, "test.wopitest", b"")
    token = services_of(app).tokens.issue(
        file_id=parse_resource_id(file_id), user_id=alice.id, view_mode=ViewMode.WRITE,
        audience=VALIDATOR_AUDIENCE, claims={"name": "Alice"},
    ).token
    runner = Runner(client, stand_in, WopiCaller(client, stand_in, token, file_id))
    assert run_suite(runner, {case.group for case in CASES} - {"ProofKeys"}) == []
