"""The gunicorn worker class of `gunicorn.conf.py`: gthread, accepting only while a thread is free.

A gthread worker accepts every connection it can and keeps each for the connection's life:
when keep-alive clients open their connections together, one worker often took most of
them while the others idled, and the rate fell to a third for as long as they stayed open
(docs/benchmarks.md, "Worker model"). This worker stops listening while all its threads
are busy, so a connection that arrives meanwhile goes to a worker with a free thread. It
does not cap the connections a worker keeps (an idle keep-alive connection costs no
thread), so no client waits for another's to close; when every worker is busy, a new
connection waits in the listen backlog until the first request anywhere finishes.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from gunicorn.workers.gthread import ThreadWorker


class FreeThreadWorker(ThreadWorker):  # type: ignore[misc]  # gunicorn ships no types
    """`ThreadWorker` that listens only while fewer requests are in hand than it has threads."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.requests_in_hand = 0

    def set_accept_enabled(self, enabled: bool) -> None:
        super().set_accept_enabled(enabled and self.requests_in_hand < self.cfg.threads)

    def enqueue_req(self, conn: Any) -> None:
        self.requests_in_hand += 1
        if self.requests_in_hand >= self.cfg.threads:
            self.set_accept_enabled(False)
        super().enqueue_req(conn)

    def finish_request(self, conn: Any, fs: Future[Any]) -> None:
        # Runs on the worker's main thread, as enqueue_req does: the count needs no lock.
        # The run loop enables accepting again, within the wake-up that brought this call.
        self.requests_in_hand -= 1
        super().finish_request(conn, fs)
