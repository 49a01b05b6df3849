from __future__ import annotations

import jwt
import pytest

from core.tokens import ViewMode
from onlyoffice.config_builder import EditorInput, build_editor_config, history_data, permissions_for, sign_config
from onlyoffice.ds_tokens import DsTokens
from onlyoffice.formats import OpenPlan, format_for

SECRET = "config-secret-" + "0123456789abcdef" * 4
TOKENS = DsTokens(secret=SECRET)


def _input(mode: ViewMode = ViewMode.WRITE, plan: OpenPlan = OpenPlan.EDIT, ext: str = "docx",
           user_id: str = "42") -> EditorInput:
    fmt = format_for(ext)
    assert fmt is not None
    return EditorInput(
        file_id="s$p!f", title=f"Report.{ext}", fmt=fmt, plan=plan, document_key="d1.0.abc",
        download_url="http://docbridge/onlyoffice/download?t=x", callback_url="http://docbridge/onlyoffice/callback?t=y",
        user_id=user_id, user_name="Alice", view_mode=mode, lang="de", forcesave=True, instance_id="inst",
    )


def test_config_shape_for_an_editor() -> None:
    config = build_editor_config(_input())
    assert config["documentType"] == "word"
    assert config["document"]["fileType"] == "docx"
    assert config["document"]["key"] == "d1.0.abc"
    assert config["document"]["title"] == "Report.docx"
    assert config["document"]["url"].endswith("t=x")
    assert config["document"]["permissions"]["edit"] is True
    assert config["editorConfig"]["mode"] == "edit"
    assert config["editorConfig"]["callbackUrl"].endswith("t=y")
    assert config["editorConfig"]["lang"] == "de"
    assert config["editorConfig"]["user"] == {"id": "42", "name": "Alice"}
    assert config["editorConfig"]["customization"]["forcesave"] is True


@pytest.mark.parametrize(
    ("mode", "plan", "edit", "download", "mode_text"),
    [
        (ViewMode.WRITE, OpenPlan.EDIT, True, True, "edit"),
        (ViewMode.WRITE, OpenPlan.VIEW, False, True, "view"),
        (ViewMode.WRITE, OpenPlan.CONVERT, False, True, "view"),
        (ViewMode.READ, OpenPlan.VIEW, False, True, "view"),
        (ViewMode.VIEW, OpenPlan.VIEW, False, False, "view"),
    ],
)
def test_permissions_follow_the_view_mode(mode: ViewMode, plan: OpenPlan, edit: bool, download: bool,
                                          mode_text: str) -> None:
    config = build_editor_config(_input(mode, plan))
    permissions = config["document"]["permissions"]
    assert permissions["edit"] is edit
    assert permissions["review"] is edit
    assert permissions["download"] is download
    assert permissions["print"] is download
    assert config["editorConfig"]["mode"] == mode_text
    assert permissions == permissions_for(mode, plan)


def test_numeric_user_id_becomes_a_string() -> None:
    config = build_editor_config(_input(user_id=7))  # type: ignore[arg-type]
    assert config["editorConfig"]["user"]["id"] == "7"


@pytest.mark.parametrize(("ext", "document_type"), [("xlsx", "cell"), ("pptx", "slide"), ("pdf", "pdf")])
def test_document_type(ext: str, document_type: str) -> None:
    assert build_editor_config(_input(ext=ext))["documentType"] == document_type


def test_signed_config_token_carries_every_required_field() -> None:
    config = build_editor_config(_input())
    signed = sign_config(config, TOKENS, now=1_000)
    claims = jwt.decode(signed["token"], SECRET, algorithms=["HS256"], options={"verify_exp": False})
    assert claims["exp"] - claims["iat"] == 300
    for section in ("document", "editorConfig", "documentType"):
        assert claims[section] == config[section]
    assert claims["document"]["key"] and claims["document"]["url"] and claims["document"]["permissions"]
    assert claims["editorConfig"]["callbackUrl"] and claims["editorConfig"]["mode"] == "edit"
    assert "token" not in claims


def test_jwt_off_leaves_the_config_unsigned() -> None:
    config = build_editor_config(_input())
    assert "token" not in sign_config(config, DsTokens(secret="", enabled=False))


def test_history_data_has_its_own_token() -> None:
    data = history_data(version=2, key="h2", url="http://d/v2", file_type="docx", changes_url="http://d/c2",
                        previous={"key": "h1", "url": "http://d/v1", "fileType": "docx"}, tokens=TOKENS)
    claims = jwt.decode(data["token"], SECRET, algorithms=["HS256"])
    assert claims["version"] == 2 and claims["changesUrl"] == "http://d/c2"
    assert claims["previous"]["key"] == "h1"
