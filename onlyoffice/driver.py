"""The app-registry driver: opening a file in ONLYOFFICE means posting the access token to
Docbridge's own editor page, which builds and signs the DS config."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from core.config import OnlyofficeSettings
from onlyoffice.formats import FORMATS, registry_mimetypes
from registry.providers import AppProvider, Launch, LaunchRequest


@dataclass(frozen=True, slots=True)
class OnlyofficeDriver:
    public_base: str

    def launch(self, request: LaunchRequest) -> Launch:
        query = {"file_id": str(request.file.id)}
        if request.lang:
            query["lang"] = request.lang
        return Launch(
            app_url=f"{self.public_base}/onlyoffice/editor?{urlencode(query)}",
            method="POST",
            form_parameters={
                "access_token": request.access_token,
                "access_token_ttl": str(request.access_token_expires_at_ms),
            },
        )


TEMPLATE_TARGETS = {"dotx": "docx", "dotm": "docm", "xltx": "xlsx", "xltm": "xlsm", "potx": "pptx", "potm": "pptm"}


def provider_for(options: OnlyofficeSettings) -> AppProvider:
    """What `/app/list` shows: every mimetype of the formats table (edit, view, convert)."""
    # As in oCIS: a template's mimetype names the kind of file a new document from it becomes.
    target_ext = {
        FORMATS[template].mimetypes[0]: document
        for template, document in TEMPLATE_TARGETS.items()
        if template in FORMATS
    }
    return AppProvider(
        name=options.name,
        mimetypes=registry_mimetypes(),
        icon=options.icon,
        description="Edit documents, spreadsheets and presentations with ONLYOFFICE Docs",
        product_name="ONLYOFFICE",
        capability="WOPI_CAPABILITY_UNSPECIFIED",
        priority=options.priority,
        target_ext=target_ext,
        enforces_limited_roles=True,
    )
