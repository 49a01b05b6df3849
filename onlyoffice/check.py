"""The settings check onlyoffice-owncloud users know, step by step, each failure naming the
address or secret to fix:

1. mixed content: an https Docbridge with an http Document Server cannot load the editor;
2. ``GET <internal>/healthcheck`` answers ``true`` (Docbridge reaches the DS internal address);
3. the ``version`` command succeeds (the DS accepts our secret and header);
4. the DS converts a small docx served by Docbridge (the DS reaches
   ``docbridge_url_for_document_server`` and Docbridge accepts the DS's JWT);
5. Docbridge downloads the converted result (the DS's result links reach Docbridge at the
   internal address).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from core.errors import DocbridgeError
from onlyoffice.ds_client import DocumentServerError

if TYPE_CHECKING:
    from onlyoffice.service import OnlyofficeService


@dataclass(frozen=True, slots=True)
class CheckStep:
    name: str
    ok: bool
    message: str


@dataclass(slots=True)
class CheckReport:
    steps: list[CheckStep] = field(default_factory=list)
    version: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(step.ok for step in self.steps)

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "version": self.version,
                "steps": [{"name": s.name, "ok": s.ok, "message": s.message} for s in self.steps]}


def run_check(service: OnlyofficeService) -> CheckReport:
    report = CheckReport()
    public, internal, base = service.public_ds, service.internal_ds, service.base_for_ds

    def fail(name: str, message: str) -> CheckReport:
        report.steps.append(CheckStep(name, False, message))
        return report

    if urlsplit(service.settings.public_url).scheme == "https" and urlsplit(public).scheme == "http":
        return fail("mixed-content", f"Docbridge is served over https but onlyoffice.document_server_url ({public}) "
                                     "is http: browsers will refuse to load the editor")
    report.steps.append(CheckStep("mixed-content", True, "addresses use compatible schemes"))

    try:
        healthy = service.client.healthcheck()
    except DocbridgeError as error:
        return fail("healthcheck", f"cannot reach the Document Server at {internal} "
                                   f"(onlyoffice.document_server_internal_url): {error.message}")
    if not healthy:
        return fail("healthcheck", f"the Document Server at {internal} reports a bad health status "
                                   "(GET /healthcheck did not answer true)")
    report.steps.append(CheckStep("healthcheck", True, f"{internal}healthcheck answered true"))

    try:
        report.version = service.client.version()
    except DocumentServerError as error:
        return fail("version", f"the version command was refused: {error.message}")
    except DocbridgeError as error:
        return fail("version", f"the command service at {internal} failed: {error.message}")
    report.steps.append(CheckStep("version", True, f"Document Server {report.version or '(unknown version)'}"))

    document_url = service.check_document_url()
    try:
        result = service.client.convert(url=document_url, file_type="docx", output_type="docx",
                                        key=f"check-{uuid.uuid4().hex}", title="check.docx",
                                        timeout_seconds=min(service.options.timeout_seconds, 60.0))
    except DocumentServerError as error:
        if error.ds_code == -4:
            return fail("conversion", f"the Document Server could not download {base}onlyoffice/check-document: "
                                      "check onlyoffice.docbridge_url_for_document_server, and that the Document "
                                      "Server's JWT secret equals onlyoffice.jwt_secret")
        return fail("conversion", f"the conversion of a document served by Docbridge failed: {error.message}")
    except DocbridgeError as error:
        return fail("conversion", f"the conversion service at {internal} failed: {error.message}")
    report.steps.append(CheckStep("conversion", True, f"the Document Server fetched and converted {base}…"))

    assert result.file_url is not None
    try:
        with service.http.download(result.file_url) as downloaded:
            size = downloaded.size
    except DocbridgeError as error:
        return fail("download", f"Docbridge cannot download the converted file from {result.file_url}: "
                                f"check onlyoffice.document_server_internal_url ({internal}): {error.message}")
    if size == 0:
        return fail("download", f"the converted file at {result.file_url} is empty")
    report.steps.append(CheckStep("download", True, f"downloaded the result ({size} bytes)"))
    return report
