"""Fixtures for the registry's tests: an app with two test app drivers registered."""

from __future__ import annotations

import pytest
from flask import Flask

from registry.providers import AppProvider
from server.services import services_of
from tests.registry.helpers import DOCX, ODT, PDF, TXT, XLSX, Apps, RecordingDriver


@pytest.fixture
def apps(app: Flask) -> Apps:
    """Two apps: FakeOffice (odt, docx, xlsx, txt) and PdfViewer (pdf, odt; priority 1)."""
    catalog = services_of(app).catalog
    office, viewer = RecordingDriver(), RecordingDriver(app_url="https://viewer.example.test/view", method="GET")
    catalog.register(
        AppProvider("FakeOffice", (ODT, DOCX, XLSX, TXT), icon="https://office.example.test/i.png"), office
    )
    catalog.register(AppProvider("PdfViewer", (PDF, ODT), priority=1, product_name="Viewer"), viewer)
    return Apps(office, viewer)
