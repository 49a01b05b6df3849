"""Test doubles and helpers for the registry's tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask.testing import FlaskClient

from core.errors import UpstreamError
from registry.providers import Launch, LaunchRequest

ODT = "application/vnd.oasis.opendocument.text"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"
TXT = "text/plain"


@dataclass
class RecordingDriver:
    """A test app driver at the IO boundary: answers a fixed launch and records requests."""

    app_url: str = "https://office.example.test/open"
    method: str = "POST"
    fail: bool = False
    requests: list[LaunchRequest] = field(default_factory=list)

    def launch(self, request: LaunchRequest) -> Launch:
        self.requests.append(request)
        if self.fail:
            raise UpstreamError("connection refused")
        if self.method == "GET":
            return Launch(app_url=self.app_url, method="GET", headers={"X-Token": request.access_token})
        return Launch(
            app_url=self.app_url,
            form_parameters={
                "access_token": request.access_token,
                "access_token_ttl": str(request.access_token_expires_at_ms),
            },
        )


@dataclass
class Apps:
    office: RecordingDriver
    viewer: RecordingDriver


def make_link(client: FlaskClient, auth: dict[str, str], node_id: str, **body: Any) -> dict[str, Any]:
    response = client.post(f"/api/v1/files/{node_id}/links", json=body, headers=auth)
    assert response.status_code == 201, response.get_data(as_text=True)
    return dict(response.get_json())


def make_folder(client: FlaskClient, auth: dict[str, str], parent_id: str, name: str) -> str:
    response = client.post(f"/api/v1/containers/{parent_id}/folders", json={"name": name}, headers=auth)
    assert response.status_code == 201, response.get_data(as_text=True)
    return str(response.get_json()["id"])


def assert_error(response: Any, status: int, code: str, message: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert response.get_json() == {"code": code, "message": message}
