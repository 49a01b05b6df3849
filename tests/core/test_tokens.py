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
