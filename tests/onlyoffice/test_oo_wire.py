"""Docbridge driven over HTTP with exactly the bytes the real Document Server sends.

The stand-in's session bookkeeping is reused, but every request here is built by hand as the
DS builds it (DocService / FileConverter): header names and prefix, token claims, body field
order, the reduced header when the callback is large, clock skew.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
import requests

from onlyoffice.ds_client import parse_conversion
from tests.conftest import ADMIN_PASSWORD, basic_auth
from tests.onlyoffice.conftest import DS_SECRET, Docbridge
from tests.onlyoffice.ds_standin import DocumentServerStandIn
from tests.support.net import free_port

ORIGINAL = b"PK-original-docx-bytes"
EDITED = b"PK-edited-docx-bytes"
# FileConverter's requestDefaults: these go with every download of document.url.
DS_DOWNLOAD_HEADERS = {"User-Agent": "Node.js/6.13", "Connection": "Keep-Alive", "Accept-Encoding": "gzip, deflate"}
# The DS drops changesurl (and empties history) in the plain body when its header token is this long.
DS_MAX_HEADER_TOKEN = 7 * 1024


def _jwt(claims: dict[str, Any], *, age: int = 0, ttl: int = 300) -> str:
    """HS256 as the DS signs: iat/exp from jsonwebtoken's expiresIn, `age` seconds ago."""
    issued = int(time.time()) - age
    return jwt.encode({**claims, "iat": issued, "exp": issued + ttl}, DS_SECRET, algorithm="HS256")


def _ds_body(fields: list[tuple[str, Any]]) -> dict[str, Any]:
    """A callback body in the DS's field order (OutputSfcData: key, status, url, changesurl,
    history, users, actions, userdata, lastsave, notmodified, forcesavetype, token; filetype
    is set last). Fields the DS leaves undefined are absent."""
    return {name: value for name, value in fields if value is not None}


def _save(key: str, status: int, user: str, url: str, *, changes_url: str | None = None,
          changes: list[dict[str, Any]] | None = None, users: list[str] | None = None,
          actions: list[dict[str, Any]] | None = None, lastsave: str = "2026-11-21T10:00:05.123Z",
          forcesave_type: int | None = None) -> dict[str, Any]:
    """A status 2/3/6/7 body as commandSfcCallback fills it."""
    history = {"serverVersion": "9.0.4", "changes": changes} if changes is not None else None
    return _ds_body([("key", key), ("status", status), ("url", url), ("changesurl", changes_url), ("history", history),
                     ("users", users or [user]), ("actions", actions), ("lastsave", lastsave),
                     ("notmodified", False), ("forcesavetype", forcesave_type), ("filetype", "docx")])


def _post_like_the_ds(url: str, body: dict[str, Any], *, header: str = "Authorization", age: int = 0,
                      reduce_header: bool = True) -> requests.Response:
    """POST a callback as DocsCoServer does: body token over the full body, header token
    ``{"payload": body}``; when that header is too long, changesurl and history leave the
    header and the plain body, but stay in the body token signed before."""
    body_token = _jwt(dict(body), age=age)
    header_token = _jwt({"payload": body}, age=age)
    plain = dict(body)
    if reduce_header and len(header_token) >= DS_MAX_HEADER_TOKEN:
        plain.pop("changesurl", None)
        plain["history"] = {}
        header_token = _jwt({"payload": plain}, age=age)
    if len(header_token) >= DS_MAX_HEADER_TOKEN:
        raise AssertionError("a header the DS would not send")
    ordered = {name: plain[name] for name in plain if name != "filetype"}
    ordered["token"] = body_token
    if "filetype" in plain:
        ordered["filetype"] = plain["filetype"]
    return requests.post(url, data=json.dumps(ordered, separators=(",", ":")),
                         headers={"Content-Type": "application/json", header: "Bearer " + header_token}, timeout=30)


def _assert_ds_accepts(answer: requests.Response) -> None:
    """What DocsCoServer requires of a callback answer: HTTP 200 and JSON with error 0."""
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].split(";")[0] == "application/json"
    assert json.loads(answer.text) == {"error": 0}


def test_document_url_with_a_custom_header_and_clock_skew(start_docbridge: Callable[..., Docbridge]) -> None:
    with DocumentServerStandIn(DS_SECRET, header="AuthorizationJwt") as ds:
        docbridge = start_docbridge(ds.base, jwt_header="AuthorizationJwt")
        alice = docbridge.user("alice")
        file_id = docbridge.upload(alice, "Report.docx", ORIGINAL)
        url = docbridge.open_config(alice, file_id)["document"]["url"]

        def get(header: str, token: str) -> requests.Response:
            return requests.get(url, headers={**DS_DOWNLOAD_HEADERS, header: "Bearer " + token}, timeout=30,
                                allow_redirects=False)

        answer = get("AuthorizationJwt", _jwt({"payload": {"url": url}}))
        assert answer.status_code == 200  # the DS takes 200 only (not 206, no redirect)
        assert answer.headers["Content-Length"] == str(len(ORIGINAL))
        assert answer.content == ORIGINAL
        # Signed 330 s ago with the DS's 5 minutes: expired 30 s ago, within the 60 s tolerance.
        assert get("AuthorizationJwt", _jwt({"payload": {"url": url}}, age=330)).status_code == 200
        assert get("AuthorizationJwt", _jwt({"payload": {"url": url}}, age=400)).status_code == 403
        # The token in the wrong header is no token at all.
        assert get("Authorization", _jwt({"payload": {"url": url}})).status_code == 403
        # Callbacks carry their header token under the same name; the body token is checked first.
        config = docbridge.open_config(alice, file_id)
        joined = _ds_body([("key", config["document"]["key"]), ("status", 1), ("users", [alice.id]),
                           ("actions", [{"type": 1, "userid": alice.id}])])
        _assert_ds_accepts(_post_like_the_ds(config["editorConfig"]["callbackUrl"], joined, header="AuthorizationJwt"))


def test_presence_callbacks_are_acknowledged_even_for_unknown_keys(docbridge: Docbridge,
                                                                   ds: DocumentServerStandIn) -> None:
    alice = docbridge.user("alice")
    file_id = docbridge.upload(alice, "Report.docx", ORIGINAL)
    config = docbridge.open_config(alice, file_id)
    callback_url = config["editorConfig"]["callbackUrl"]
    key = config["document"]["key"]
    joined = _ds_body([("key", key), ("status", 1), ("users", [alice.id]),
                       ("actions", [{"type": 1, "userid": alice.id}])])
    _assert_ds_accepts(_post_like_the_ds(callback_url, joined))
    # The DS says status 1/4 for keys it alone knows (a session of an older key still open).
    for status in (1, 4):
        body = _ds_body([("key", "d9.9.unknown"), ("status", status), ("users", [alice.id] if status == 1 else None),
                         ("actions", [{"type": 0, "userid": alice.id}])])
        _assert_ds_accepts(_post_like_the_ds(callback_url, body))
    # Status 4 carries no users.
    closed = _ds_body([("key", key), ("status", 4), ("actions", [{"type": 0, "userid": alice.id}])])
    _assert_ds_accepts(_post_like_the_ds(callback_url, closed, age=330))
    assert [v["version"] for v in docbridge.versions(alice, file_id)] == [1]


def test_a_large_history_arrives_only_in_the_body_token(docbridge: Docbridge, ds: DocumentServerStandIn) -> None:
    alice = docbridge.user("alice")
    file_id = docbridge.upload(alice, "Report.docx", ORIGINAL)
    config = docbridge.open_config(alice, file_id)
    session = ds.open(config)
    ds.edit(session.key, alice.id, EDITED)
    url, changes_url = ds.cache_links(session)
    changes = [{"created": "2026-11-21 10:00:00", "user": {"id": alice.id, "name": "alice"}}] * 200
    body = _save(session.key, 2, alice.id, url, changes_url=changes_url, changes=changes,
                 actions=[{"type": 0, "userid": alice.id}])
    assert len(_jwt({"payload": body})) > DS_MAX_HEADER_TOKEN
    _assert_ds_accepts(_post_like_the_ds(config["editorConfig"]["callbackUrl"], body))
    assert docbridge.content(alice, file_id) == EDITED
    kept = docbridge.app.extensions["onlyoffice"].store.history(file_id)[2]
    assert kept.has_changes
    assert kept.history["changes"] == changes


def test_save_button_forcesave_is_authored_by_the_clicker(docbridge: Docbridge, ds: DocumentServerStandIn) -> None:
    alice, bob = docbridge.user("alice"), docbridge.user("bob")
    file_id = docbridge.upload(alice, "Report.docx", ORIGINAL)
    config = docbridge.open_config(alice, file_id)
    session = ds.open(config)
    ds.edit(session.key, alice.id, EDITED)
    url, _changes = ds.cache_links(session)
    body = _save(session.key, 6, alice.id, url, actions=[{"type": 2, "userid": bob.id}], forcesave_type=1)
    _assert_ds_accepts(_post_like_the_ds(config["editorConfig"]["callbackUrl"], body))
    versions = docbridge.versions(alice, file_id)
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[-1]["author_id"] == bob.id
    # Timer (2) and command (0) forcesaves carry no actions: the author is users[0], the last changer.
    for forcesave_type in (0, 2):
        ds.edit(session.key, alice.id, EDITED + bytes([forcesave_type]))
        url, _changes = ds.cache_links(session)
        body = _save(session.key, 6, alice.id, url, lastsave=f"2026-11-21T10:0{forcesave_type}:09.000Z",
                     forcesave_type=forcesave_type)
        _assert_ds_accepts(_post_like_the_ds(config["editorConfig"]["callbackUrl"], body))
    versions = docbridge.versions(alice, file_id)
    assert [v["author_id"] for v in versions] == [alice.id, bob.id, alice.id, alice.id]
    # The session goes on: the key stays.
    assert docbridge.open_config(alice, file_id)["document"]["key"] == session.key


@pytest.mark.parametrize("configured_host", ["localhost", "LocalHost"])
def test_saved_url_on_the_browser_facing_address_is_fetched_from_the_internal_one(
        start_docbridge: Callable[..., Docbridge], ds: DocumentServerStandIn, configured_host: str) -> None:
    # Browsers reach the DS at an address Docbridge cannot use (nothing listens there for it).
    port = free_port()
    public = f"http://localhost:{port}/"
    ds.public_base = public  # the DS builds cache links from the Host header the browser sent
    docbridge = start_docbridge(f"http://{configured_host}:{port}", document_server_internal_url=ds.base)
    alice = docbridge.user("alice")
    file_id = docbridge.upload(alice, "Report.docx", ORIGINAL)
    config = docbridge.open_config(alice, file_id)
    session = ds.open(config)
    ds.edit(session.key, alice.id, EDITED)
    url, changes_url = ds.cache_links(session)
    assert url.startswith(public)
    body = _save(session.key, 2, alice.id, url, changes_url=changes_url, changes=[],
                 actions=[{"type": 0, "userid": alice.id}])
    _assert_ds_accepts(_post_like_the_ds(config["editorConfig"]["callbackUrl"], body))
    assert docbridge.content(alice, file_id) == EDITED


def test_a_retried_save_with_a_freshly_signed_link_stores_once_and_is_acknowledged(
        docbridge: Docbridge, ds: DocumentServerStandIn) -> None:
    """The DS retries a status 2 after a network error by running the save callback again;
    the cache link is signed anew (``md5``/``expires`` change every second), ``lastsave``
    and the link's path stay. Docbridge stored it the first time: the retry must be
    acknowledged (else the DS parks the file as "forgotten") and store nothing."""
    alice = docbridge.user("alice")
    file_id = docbridge.upload(alice, "Report.docx", ORIGINAL)
    config = docbridge.open_config(alice, file_id)
    session = ds.open(config)
    ds.edit(session.key, alice.id, EDITED)
    url, changes_url = ds.cache_links(session)

    def body(link: str) -> dict[str, Any]:
        return _save(session.key, 2, alice.id, link, changes_url=changes_url, changes=[],
                     actions=[{"type": 0, "userid": alice.id}])

    callback_url = config["editorConfig"]["callbackUrl"]
    _assert_ds_accepts(_post_like_the_ds(callback_url, body(url)))
    resigned = url.replace("expires=9999999999", "expires=9999999998")
    assert resigned != url
    _assert_ds_accepts(_post_like_the_ds(callback_url, body(resigned)))
    assert [v["version"] for v in docbridge.versions(alice, file_id)] == [1, 2]
    assert docbridge.content(alice, file_id) == EDITED


def test_conversion_asks_for_json_and_reads_the_xml_the_ds_sends_otherwise(docbridge: Docbridge,
                                                                         ds: DocumentServerStandIn) -> None:
    """ConvertService.ashx answers XML unless Accept asks for JSON."""
    report = docbridge.client.get("/api/v1/admin/onlyoffice/check", headers=basic_auth("admin", ADMIN_PASSWORD))
    assert report.get_json()["ok"] is True, report.get_json()
    assert ds.conversion_accepts and set(ds.conversion_accepts) == {"application/json"}
    service = docbridge.app.extensions["onlyoffice"]
    unsigned = {"async": False, "filetype": "docx", "outputtype": "pdf", "key": "c1.xml-check",
                "url": service.check_document_url()}
    # Signed as Docbridge signs, sent without Accept.
    plain = requests.post(ds.base + "ConvertService.ashx", json={**unsigned, "token": _jwt(unsigned)}, timeout=30)
    assert plain.headers["Content-Type"].startswith("text/xml")
    step = parse_conversion(plain)
    assert step.end and step.file_type == "pdf" and step.file_url and "&" in step.file_url
