"""The settings check (CLI and admin API), start-up rules, admin commands, rename, save as."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from core.extensions import ExtensionError
from tests.conftest import ADMIN_PASSWORD, basic_auth
from tests.onlyoffice.conftest import DS_SECRET, Docbridge
from tests.onlyoffice.ds_standin import DocumentServerStandIn
from tests.support.net import free_port

ADMIN = basic_auth("admin", ADMIN_PASSWORD)


def test_cli_check_passes_against_a_well_configured_document_server(docbridge: Docbridge,
                                                                    ds: DocumentServerStandIn) -> None:
    result = docbridge.app.test_cli_runner().invoke(args=["onlyoffice", "check"])
    assert result.exit_code == 0, result.output
    assert "ok   healthcheck" in result.output
    assert "Document Server 9.0.4.50" in result.output
    assert "ONLYOFFICE settings are correct" in result.output
    assert any(d["url"].startswith(docbridge.base + "/onlyoffice/check-document") and d["status"] == 200
               for d in ds.downloads)


def test_admin_check_endpoint(docbridge: Docbridge) -> None:
    answer = docbridge.client.get("/api/v1/admin/onlyoffice/check", headers=ADMIN)
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["ok"] is True
    assert [step["name"] for step in body["steps"]] == ["mixed-content", "healthcheck", "version", "conversion", "download"]
    alice = docbridge.user("alice")
    assert docbridge.client.get("/api/v1/admin/onlyoffice/check", headers=alice.auth).status_code == 403
    assert docbridge.client.get("/api/v1/admin/onlyoffice/check").status_code == 401


def test_check_names_the_wrong_secret(start_docbridge: Callable[..., Docbridge], ds: DocumentServerStandIn) -> None:
    docbridge = start_docbridge(ds.base, jwt_secret="not-the-document-server-secret-" + "z" * 40)
    result = docbridge.app.test_cli_runner().invoke(args=["onlyoffice", "check"])
    assert result.exit_code == 1
    assert "FAIL version" in result.output and "onlyoffice.jwt_secret" in result.output


def test_check_names_the_unreachable_document_server(start_docbridge: Callable[..., Docbridge]) -> None:
    dead = f"http://127.0.0.1:{free_port()}/"
    docbridge = start_docbridge(dead)
    body = docbridge.client.get("/api/v1/admin/onlyoffice/check", headers=ADMIN).get_json()
    assert body["ok"] is False
    assert body["steps"][-1]["name"] == "healthcheck"
    assert dead in body["steps"][-1]["message"] and "document_server_internal_url" in body["steps"][-1]["message"]


def test_check_names_the_address_the_document_server_cannot_reach(start_docbridge: Callable[..., Docbridge],
                                                                  ds: DocumentServerStandIn) -> None:
    wrong = f"http://127.0.0.1:{free_port()}/"
    docbridge = start_docbridge(ds.base, docbridge_url_for_document_server=wrong)
    body = docbridge.client.get("/api/v1/admin/onlyoffice/check", headers=ADMIN).get_json()
    assert body["steps"][-1]["name"] == "conversion"
    assert wrong in body["steps"][-1]["message"]
    assert "docbridge_url_for_document_server" in body["steps"][-1]["message"]


def test_result_links_are_rewritten_to_the_internal_address(start_docbridge: Callable[..., Docbridge],
                                                              ds: DocumentServerStandIn) -> None:
    public = ds.base.replace("127.0.0.1", "localhost")
    ds.public_base = public  # the DS builds links with the browser-facing address
    docbridge = start_docbridge(public, document_server_internal_url=ds.base)
    body = docbridge.client.get("/api/v1/admin/onlyoffice/check", headers=ADMIN).get_json()
    assert body["ok"] is True, body


def test_check_names_the_internal_address_when_result_links_are_unreachable(
        start_docbridge: Callable[..., Docbridge], ds: DocumentServerStandIn) -> None:
    ds.public_base = f"http://127.0.0.2:{free_port()}/"  # a DS address Docbridge was not told about
    docbridge = start_docbridge(ds.base)
    body = docbridge.client.get("/api/v1/admin/onlyoffice/check", headers=ADMIN).get_json()
    assert body["ok"] is False
    assert body["steps"][-1]["name"] == "download"
    assert "document_server_internal_url" in body["steps"][-1]["message"]
    assert ds.public_base in body["steps"][-1]["message"]


def test_start_refuses_without_a_secret(make_app: Callable[..., Flask]) -> None:
    with pytest.raises(ExtensionError, match="onlyoffice.jwt_secret is required"):
        make_app(onlyoffice={"document_server_url": "http://127.0.0.1:9/"})


def test_jwt_off_warns_at_every_start(make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="onlyoffice.extension"):
        make_app(onlyoffice={"document_server_url": "http://127.0.0.1:9/", "jwt": False})
        make_app(onlyoffice={"document_server_url": "http://127.0.0.1:9/", "jwt": False})
    warnings = [r for r in caplog.records if "onlyoffice.jwt is off" in r.getMessage()]
    assert len(warnings) == 2


def test_jwt_off_journey_opens_and_saves(start_docbridge: Callable[..., Docbridge]) -> None:
    with DocumentServerStandIn(None) as plain:
        docbridge = start_docbridge(plain.base, jwt=False, jwt_secret="")
        alice = docbridge.user("alice")
        file_id = docbridge.upload(alice, "Report.docx", b"v1")
        config = docbridge.open_config(alice, file_id)
        assert "token" not in config
        session = plain.open(config)
        plain.edit(session.key, alice.id, b"v2")
        record = plain.close(session.key, alice.id)
        assert record is not None and record.answers == [(200, {"error": 0})]
        assert docbridge.content(alice, file_id) == b"v2"


def test_info_and_drop_commands(docbridge: Docbridge, ds: DocumentServerStandIn) -> None:
    alice = docbridge.user("alice")
    file_id = docbridge.upload(alice, "Report.docx", b"v1")
    closed = docbridge.client.post("/api/v1/admin/onlyoffice/command", json={"command": "info", "file_id": file_id},
                                   headers=ADMIN)
    assert closed.status_code == 404
    ds.open(docbridge.open_config(alice, file_id))
    info = docbridge.client.post("/api/v1/admin/onlyoffice/command", json={"command": "info", "file_id": file_id},
                                 headers=ADMIN)
    assert info.status_code == 200 and info.get_json()["users"] == [alice.id]
    drop = docbridge.client.post("/api/v1/admin/onlyoffice/command", json={"command": "drop", "file_id": file_id},
                                 headers=ADMIN)
    assert drop.status_code == 200 and drop.get_json()["error"] == 0
    bad = docbridge.client.post("/api/v1/admin/onlyoffice/command", json={"command": "license", "file_id": file_id},
                                headers=ADMIN)
    assert bad.status_code == 400
    result = docbridge.app.test_cli_runner().invoke(args=["onlyoffice", "command", "info", file_id])
    assert result.exit_code == 0 and alice.id in result.output


def test_rename_and_save_as_from_the_editor(docbridge: Docbridge, ds: DocumentServerStandIn) -> None:
    alice = docbridge.user("alice")
    file_id = docbridge.upload(alice, "Report.docx", b"v1")
    _page, form = docbridge.editor_page(alice, file_id)
    token = form["access_token"]
    renamed = docbridge.client.post("/onlyoffice/rename", json={"access_token": token, "title": "Final"})
    assert renamed.status_code == 200 and renamed.get_json()["name"] == "Final.docx"
    ds.cache["saveas1"] = (b"copy bytes", "docx")
    import hashlib
    url = f"{ds.base}cache/files/data/saveas1/output.docx?md5={hashlib.md5(b'saveas1').hexdigest()}"  # noqa: S324
    saved = docbridge.client.post("/onlyoffice/save-as", json={"access_token": token, "url": url, "title": "Final.docx"})
    assert saved.status_code == 200, saved.get_data(as_text=True)
    assert saved.get_json()["name"] == "Final (2).docx"
    assert docbridge.content(alice, saved.get_json()["file_id"]) == b"copy bytes"
    outside = docbridge.client.post("/onlyoffice/save-as", json={"access_token": token, "title": "x.docx",
                                                                 "url": "http://169.254.169.254/latest"})
    assert outside.status_code == 403


def test_editor_page_refuses_bad_access_tokens(docbridge: Docbridge) -> None:
    alice = docbridge.user("alice")
    file_id = docbridge.upload(alice, "Report.docx", b"v1")
    launch: dict[str, Any] = docbridge.launch(alice, file_id)
    assert launch["app_url"].startswith(docbridge.base + "/onlyoffice/editor?")
    assert set(launch["form_parameters"]) == {"access_token", "access_token_ttl"}
    forged = docbridge.client.post("/onlyoffice/editor", data={"access_token": launch["form_parameters"]["access_token"] + "x"})
    assert forged.status_code == 401
    assert "Cannot open the document" in forged.get_data(as_text=True)
    assert docbridge.client.post("/onlyoffice/editor").status_code == 401
    assert DS_SECRET not in docbridge.client.post("/onlyoffice/editor", data=launch["form_parameters"]).get_data(as_text=True)


def test_check_refuses_mixed_content(make_app: Callable[..., Flask], ds: DocumentServerStandIn) -> None:
    app = make_app(public_url="https://docbridge.example.org",
                   onlyoffice={"document_server_url": ds.base, "jwt_secret": DS_SECRET})
    result = app.test_cli_runner().invoke(args=["onlyoffice", "check"])
    assert result.exit_code == 1
    assert "FAIL mixed-content" in result.output and ds.base in result.output
