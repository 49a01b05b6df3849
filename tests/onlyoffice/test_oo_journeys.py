"""Journeys: Docbridge and a Document Server stand-in talking HTTP over loopback."""

from __future__ import annotations

from tests.onlyoffice.conftest import Docbridge
from tests.onlyoffice.ds_standin import DocumentServerStandIn

ORIGINAL = b"PK-original-docx-bytes"
EDITED = b"PK-edited-docx-bytes"


def test_open_edit_close_saves_a_new_version_and_a_new_key(docbridge: Docbridge, ds: DocumentServerStandIn) -> None:
    alice = docbridge.user("alice")
    file_id = docbridge.upload(alice, "Report.docx", ORIGINAL)
    config = docbridge.open_config(alice, file_id)
    session = ds.open(config)
    assert session.content == ORIGINAL
    ds.edit(session.key, alice.id, EDITED)
    record = ds.close(session.key, alice.id)
    assert record is not None and record.answers[-1] == (200, {"error": 0})
    versions = docbridge.versions(alice, file_id)
    assert [v["version"] for v in versions] == [1, 2]
    assert docbridge.content(alice, file_id) == EDITED
    assert versions[-1]["author_id"] == alice.id
    again = docbridge.open_config(alice, file_id)
    assert again["document"]["key"] != config["document"]["key"]
    assert ds.open(again).content == EDITED
