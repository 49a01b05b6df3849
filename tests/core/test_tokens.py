"""Our access tokens are bound to file, user, mode and audience, and expire."""

from __future__ import annotations

import jwt
import pytest

from core.errors import InvalidToken
from core.ids import ResourceId
from core.tokens import TokenService, ViewMode

FILE = ResourceId("docbridge", "space", "file")
OTHER = ResourceId("docbridge", "space", "other")


def test_round_trip_keeps_binding() -> None:
    service = TokenService(b"k" * 32, 600)
    issued = service.issue(file_id=FILE, user_id="u1", view_mode=ViewMode.READ, audience="app:Collabora", claims={"name": "Ann"})
    grant = service.verify(issued.token, audience="app:Collabora", file_id=FILE)
    assert (grant.user_id, grant.view_mode, grant.claims["name"]) == ("u1", ViewMode.READ, "Ann")
    assert issued.expires_at_ms == issued.expires_at * 1000


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"audience": "app:OnlyOffice", "file_id": FILE}, "invalid access token"),
        ({"audience": "app:Collabora", "file_id": OTHER}, "another file"),
    ],
)
def test_wrong_audience_or_file_is_refused(kwargs: dict[str, object], message: str) -> None:
    service = TokenService(b"k" * 32, 600)
    token = service.issue(file_id=FILE, user_id="u", view_mode=ViewMode.WRITE, audience="app:Collabora").token
    with pytest.raises(InvalidToken, match=message):
        service.verify(token, **kwargs)  # type: ignore[arg-type]


def test_expired_forged_and_none_algorithm_are_refused() -> None:
    service = TokenService(b"k" * 32, 600)
    token = service.issue(file_id=FILE, user_id="u", view_mode=ViewMode.WRITE, audience="a", now=1000).token
    with pytest.raises(InvalidToken, match="expired"):
        service.verify(token, audience="a", now=1600)
    forged = TokenService(b"x" * 32, 600).issue(file_id=FILE, user_id="u", view_mode=ViewMode.WRITE, audience="a").token
    with pytest.raises(InvalidToken):
        service.verify(forged, audience="a")
    claims = jwt.decode(service.issue(file_id=FILE, user_id="u", view_mode=ViewMode.WRITE, audience="a").token, options={"verify_signature": False})
    unsigned = jwt.encode(claims, key=None, algorithm="none")  # type: ignore[arg-type]
    with pytest.raises(InvalidToken):
        service.verify(unsigned, audience="a")


def test_view_mode_is_lowered_never_raised() -> None:
    assert ViewMode.WRITE.at_most(ViewMode.READ) is ViewMode.READ
    assert ViewMode.VIEW.at_most(ViewMode.WRITE) is ViewMode.VIEW


def _counting_decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    decoded: list[str] = []
    real_decode = jwt.decode

    def counting(token: str, *args: object, **kwargs: object) -> object:
        decoded.append(token)
        return real_decode(token, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jwt, "decode", counting)
    return decoded


def test_a_token_is_decoded_once_and_still_checked_at_every_use(monkeypatch: pytest.MonkeyPatch) -> None:
    decoded = _counting_decodes(monkeypatch)
    service = TokenService(b"k" * 32, 600)
    token = service.issue(file_id=FILE, user_id="u", view_mode=ViewMode.WRITE, audience="a", now=1000).token
    for _ in range(3):
        assert service.verify(token, audience="a", file_id=FILE, now=1100).user_id == "u"
    assert decoded == [token]
    with pytest.raises(InvalidToken, match="invalid access token"):
        service.verify(token, audience="b", now=1100)
    with pytest.raises(InvalidToken, match="another file"):
        service.verify(token, audience="a", file_id=OTHER, now=1100)
    with pytest.raises(InvalidToken, match="expired"):
        service.verify(token, audience="a", now=1600)
    assert decoded == [token]


def test_refused_tokens_are_not_remembered_and_the_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    decoded = _counting_decodes(monkeypatch)
    monkeypatch.setattr("core.tokens.VERIFIED_TOKENS_REMEMBERED", 4)
    service = TokenService(b"k" * 32, 600)
    forged = TokenService(b"x" * 32, 600).issue(file_id=FILE, user_id="u", view_mode=ViewMode.WRITE, audience="a").token
    for _ in range(2):
        with pytest.raises(InvalidToken):
            service.verify(forged, audience="a")
    assert decoded == [forged, forged]

    tokens = [service.issue(file_id=FILE, user_id=f"u{n}", view_mode=ViewMode.READ, audience="a").token for n in range(6)]
    for token in tokens:
        service.verify(token, audience="a")
    decoded.clear()
    service.verify(tokens[-1], audience="a")
    assert decoded == []  # the newest is still known
    service.verify(tokens[0], audience="a")
    assert decoded == [tokens[0]]  # the oldest made room, and is decoded again
    assert all(service.verify(token, audience="a").user_id == f"u{n}" for n, token in enumerate(tokens))


def test_a_kept_grant_cannot_be_changed_by_one_caller_for_the_next() -> None:
    service = TokenService(b"k" * 32, 600)
    token = service.issue(file_id=FILE, user_id="u", view_mode=ViewMode.READ, audience="a", claims={"name": "Ann"}).token
    with pytest.raises(TypeError):
        service.verify(token, audience="a").claims["name"] = "Eve"  # type: ignore[index]
    assert service.verify(token, audience="a").claims["name"] == "Ann"
