"""Docbridge → Document Server: command service, conversion API and health check.

Requests carry the DS JWT twice, as onlyoffice-owncloud and the vendor's example do: a
header token ``{"payload": params}`` and a body field ``token`` whose claims are the params.
All traffic goes through the outbound fence (`core.fetch`) to the DS internal address.
The DS's numeric error codes become messages that say what to fix.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol
from urllib.parse import urlsplit

import defusedxml.ElementTree as SafeXml
import requests
from defusedxml import DefusedXmlException

from core.errors import UpstreamError
from core.urls import origin_of
from onlyoffice.ds_tokens import DsTokens

COMMAND_PATH = "coauthoring/CommandService.ashx"
CONVERT_PATH = "ConvertService.ashx"
HEALTH_PATH = "healthcheck"

COMMAND_ERRORS: Mapping[int, str] = {
    1: "the document key is missing or no document with that key is open",
    2: "the callback URL could not be parsed",
    3: "internal error of the Document Server",
    4: "the document was not changed since the last save",
    5: "unknown command",
    6: "the Document Server refused the token: onlyoffice.jwt_secret or onlyoffice.jwt_header "
       "does not match the Document Server's secret and header",
    7: "the Document Server says the token has expired: check the clocks of both servers",
}

CONVERSION_ERRORS: Mapping[int, str] = {
    -1: "unknown conversion error",
    -2: "the conversion timed out",
    -3: "the document could not be converted (damaged or unsupported file)",
    -4: "the Document Server could not download the document from Docbridge: check "
        "onlyoffice.docbridge_url_for_document_server and that the Document Server can reach it",
    -5: "the document is protected by a password",
    -6: "the Document Server's database failed",
    -7: "the Document Server refused the conversion parameters",
    -8: "the Document Server refused the token: onlyoffice.jwt_secret or onlyoffice.jwt_header "
        "does not match the Document Server's secret and header",
    -9: "the Document Server could not detect the document's format",
    -10: "the document is larger than the Document Server accepts",
}


class Download(Protocol):
    file: BinaryIO
    size: int
    sha256: str


class StreamedBody(Protocol):
    """An answer read as it arrives (`core.fetch.Stream`)."""

    @property
    def file(self) -> BinaryIO: ...

    @property
    def unread(self) -> bool: ...


class OutboundHttp(Protocol):
    """What `core.fetch.Fetcher` offers; the seam the clients are built on."""

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response: ...

    def download(self, url: str, headers: Mapping[str, str] | None = None) -> AbstractContextManager[Any]: ...

    def stream(self, url: str, headers: Mapping[str, str] | None = None) -> AbstractContextManager[StreamedBody]: ...


class DocumentServerError(UpstreamError):
    """The DS answered with an error code; `ds_code` is the DS's number."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.ds_code = code


@dataclass(frozen=True, slots=True)
class ConversionStep:
    """One answer of the conversion API."""

    end: bool
    percent: int
    file_url: str | None = None
    file_type: str | None = None
    error: int | None = None


def parse_conversion(answer: requests.Response) -> ConversionStep:
    """A conversion answer, JSON or (older DS, ``ConvertService.ashx``) XML."""
    text = answer.text.strip()
    if text.startswith("<"):
        try:
            root = SafeXml.fromstring(text)
            fields = {child.tag: (child.text or "") for child in root}
            data: dict[str, Any] = {
                "error": int(fields["Error"]) if fields.get("Error") else None,
                "fileUrl": fields.get("FileUrl"),
                "fileType": fields.get("FileType"),
                "percent": int(fields.get("Percent") or 0),
                "endConvert": fields.get("EndConvert", "").lower() == "true",
            }
        except (SafeXml.ParseError, DefusedXmlException, ValueError):
            raise UpstreamError("the Document Server sent an unreadable conversion answer") from None
    else:
        try:
            data = answer.json()
        except ValueError:
            raise UpstreamError("the Document Server sent an unreadable conversion answer") from None
        if not isinstance(data, dict):
            raise UpstreamError("the Document Server sent an unreadable conversion answer")
    error = data.get("error")
    if error is not None and int(error) != 0:
        return ConversionStep(end=True, percent=0, error=int(error))
    return ConversionStep(
        end=bool(data.get("endConvert")),
        percent=int(data.get("percent") or 0),
        file_url=data.get("fileUrl") or None,
        file_type=data.get("fileType") or None,
    )


def conversion_message(code: int) -> str:
    return CONVERSION_ERRORS.get(code, f"conversion failed with Document Server error {code}")


def command_message(code: int) -> str:
    return COMMAND_ERRORS.get(code, f"command failed with Document Server error {code}")


def rewrite_to_internal(url: str, public_base: str, internal_base: str) -> str:
    """A DS link built with the browser-facing address, pointed at the internal address
    (onlyoffice-owncloud: replaceDocumentServerUrlToInternal).

    The DS builds its links from the Host the browser sent, so the origin is compared as
    an origin (case, default port), the path as a prefix."""
    public = public_base.rstrip("/") + "/"
    internal = internal_base.rstrip("/") + "/"
    if public == internal:
        return url
    origin = origin_of(public)
    if not origin or origin_of(url) != origin:
        return url
    public_path = urlsplit(public).path or "/"
    parts = urlsplit(url)
    if not parts.path.startswith(public_path):
        return url
    rest = parts.path[len(public_path):]
    return internal + rest + (f"?{parts.query}" if parts.query else "") + (f"#{parts.fragment}" if parts.fragment else "")


class DocumentServerClient:
    def __init__(self, http: OutboundHttp, tokens: DsTokens, *, internal_base: str, public_base: str,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.http = http
        self.tokens = tokens
        self.internal_base = internal_base.rstrip("/") + "/"
        self.public_base = public_base.rstrip("/") + "/"
        self._sleep = sleep

    def _signed(self, params: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        body = dict(params)
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if self.tokens.enabled:
            body["token"] = self.tokens.sign_object(params)
            headers[self.tokens.header_name] = self.tokens.header_value(self.tokens.sign_header(params))
        return body, headers

    def to_internal(self, url: str) -> str:
        return rewrite_to_internal(url, self.public_base, self.internal_base)

    # --- command service ---------------------------------------------------------------

    def command(self, command: str, **params: Any) -> dict[str, Any]:
        """Run a command; return the DS answer, raising DocumentServerError for error ≠ 0
        (except error 4 for forcesave, "not modified", which callers read as a result)."""
        body, headers = self._signed({"c": command, **params})
        answer = self.http.request("POST", self.internal_base + COMMAND_PATH, json=body, headers=headers)
        if answer.status_code != 200:
            raise UpstreamError(f"the command service answered HTTP {answer.status_code}")
        try:
            data = answer.json()
        except ValueError:
            raise UpstreamError("the command service sent an answer that is not JSON") from None
        if not isinstance(data, dict):
            raise UpstreamError("the command service sent an unexpected answer")
        code = int(data.get("error", 0))
        if code != 0 and not (command == "forcesave" and code == 4):
            raise DocumentServerError(command_message(code), code)
        return data

    def version(self) -> str:
        return str(self.command("version").get("version", ""))

    def forcesave(self, key: str, userdata: str = "") -> bool:
        """Ask for a forcesave; False when nothing changed since the last save."""
        params: dict[str, Any] = {"key": key}
        if userdata:
            params["userdata"] = userdata
        return int(self.command("forcesave", **params).get("error", 0)) == 0

    def info(self, key: str) -> dict[str, Any]:
        return self.command("info", key=key)

    def drop(self, key: str, users: list[str] | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"key": key}
        if users:
            params["users"] = users
        return self.command("drop", **params)

    def meta(self, key: str, title: str) -> dict[str, Any]:
        return self.command("meta", key=key, meta={"title": title})

    def healthcheck(self) -> bool:
        answer = self.http.request("GET", self.internal_base + HEALTH_PATH)
        return answer.status_code == 200 and answer.text.strip().lower() == "true"

    # --- conversion ------------------------------------------------------------------

    def convert(self, *, url: str, file_type: str, output_type: str, key: str, title: str = "",
                poll_seconds: float = 1.0, timeout_seconds: float = 120.0) -> ConversionStep:
        """Convert asynchronously, repeating the same request until ``endConvert``.

        Returns the final step (``file_url`` rewritten to the internal address); raises
        DocumentServerError with the DS code turned into a message."""
        params: dict[str, Any] = {"async": True, "filetype": file_type, "outputtype": output_type,
                                  "key": key, "url": url}
        if title:
            params["title"] = title
        deadline = time.monotonic() + timeout_seconds
        while True:
            body, headers = self._signed(params)
            answer = self.http.request("POST", self.internal_base + CONVERT_PATH, json=body, headers=headers)
            if answer.status_code != 200:
                raise UpstreamError(f"the conversion service answered HTTP {answer.status_code}")
            step = parse_conversion(answer)
            if step.error is not None:
                raise DocumentServerError(conversion_message(step.error), step.error)
            if step.end:
                if not step.file_url:
                    raise UpstreamError("the conversion ended without a result URL")
                return ConversionStep(True, 100, self.to_internal(step.file_url), step.file_type or output_type)
            if time.monotonic() >= deadline:
                raise DocumentServerError(conversion_message(-2), -2)
            self._sleep(poll_seconds)
