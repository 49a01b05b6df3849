"""Two Docbridge instances on one PostgreSQL never both grant a lock."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from flask import Flask

from server.services import services_of
from tests.conftest import TestUser, basic_auth, upload
from tests.wopi.conftest import WopiCaller, issue_token, wopi_settings
from tests.wopi.wopi_client import WopiClientStandIn

pytestmark = pytest.mark.slow
ROUNDS = 25


def test_two_instances_never_both_grant(
    make_app: Callable[..., Flask], stand_in: WopiClientStandIn, pg_url: str
) -> None:
    first = make_app(database_url=pg_url, **wopi_settings(stand_in))
    second = make_app(database_url=pg_url, **wopi_settings(stand_in))
    user = services_of(first).users.create("ivy", "secret")
    test_user = TestUser(user.id, "ivy", "secret", str(user.home_id), basic_auth("ivy", "secret"))
    file_id = upload(first.test_client(), test_user, test_user.home_id, "shared.docx", b"x")
    callers = [
        WopiCaller(app.test_client(), stand_in, issue_token(app, test_user, file_id), file_id) for app in (first, second)
    ]
    for round_number in range(ROUNDS):
        barrier = threading.Barrier(len(callers))
        results: dict[int, tuple[int, str]] = {}

        def attempt(
            index: int,
            barrier: threading.Barrier = barrier,
            round_number: int = round_number,
            results: dict[int, tuple[int, str]] = results,
        ) -> None:
            barrier.wait()
            response = callers[index].lock(f"lock-{index}-{round_number}")
            results[index] = (response.status_code, response.headers.get("X-WOPI-Lock", ""))

        threads = [threading.Thread(target=attempt, args=(index,)) for index in range(len(callers))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        granted = [index for index, (status, _) in results.items() if status == 200]
        assert len(granted) == 1, results
        winner = f"lock-{granted[0]}-{round_number}"
        loser = 1 - granted[0]
        assert results[loser] == (409, winner)
        # both instances see the winner's lock
        for caller in callers:
            assert caller.post("GET_LOCK").headers["X-WOPI-Lock"] == winner
        assert callers[loser].unlock(winner).status_code == 200
