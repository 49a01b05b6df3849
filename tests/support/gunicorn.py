"""Docbridge under a real gunicorn (the project's gunicorn.conf.py) on a free loopback port,
and the admin CLI run as a separate process, for tests and benchmarks that need real
processes: killed workers, crashes between two steps, memory of the whole server.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.support.net import free_port

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ADMIN_PASSWORD = "admin-secret"


def docbridge_environment(data_dir: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The process environment for Docbridge: this one without DOCBRIDGE_* plus the given."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("DOCBRIDGE_")}
    environment.update(
        DOCBRIDGE_DATA_DIR=str(data_dir),
        DOCBRIDGE_ADMIN_PASSWORD=ADMIN_PASSWORD,
        DOCBRIDGE_LOG_LEVEL="WARNING",
    )
    environment.update(extra or {})
    return environment


@dataclass
class GunicornServer:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def master_pid(self) -> int:
        return self.process.pid

    def worker_pids(self) -> list[int]:
        """The master's children, read from /proc."""
        children = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            fields = _stat_fields(int(entry.name))
            if fields and int(fields[1]) == self.master_pid:
                children.append(int(entry.name))
        return sorted(children)

    def wait_for_workers(self, count: int, *, not_in: set[int] | frozenset[int] = frozenset()) -> list[int]:
        """Wait until `count` workers run that are not in `not_in` (e.g. after a respawn) and serve."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            self.check_alive()
            workers = [pid for pid in self.worker_pids() if pid not in not_in]
            if len(workers) >= count and self._healthy():
                return workers
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not run {count} new worker(s) within 60 s:\n{self.log()}")

    def _healthy(self) -> bool:
        try:
            return requests.get(f"{self.url}/healthz", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


@contextmanager
def run_gunicorn(
    data_dir: Path,
    *,
    workers: int = 1,
    threads: int = 4,
    extra_env: Mapping[str, str] | None = None,
    app: str = "app:create_app()",
) -> Iterator[GunicornServer]:
    """Start ``gunicorn -c gunicorn.conf.py 'app:create_app()'`` and wait until it serves.

    `app` names another WSGI app to run with the same settings (the benchmarks' limit apps);
    it must answer ``GET /healthz`` with 200."""
    port = free_port()
    environment = docbridge_environment(
        data_dir,
        {
            "DOCBRIDGE_HOST": "127.0.0.1",
            "DOCBRIDGE_PORT": str(port),
            "DOCBRIDGE_WORKERS": str(workers),
            "DOCBRIDGE_THREADS": str(threads),
            "DOCBRIDGE_PUBLIC_URL": f"http://127.0.0.1:{port}",
            **(extra_env or {}),
        },
    )
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir.parent / f"gunicorn-{port}.log"
    gunicorn = Path(sys.executable).parent / "gunicorn"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(gunicorn), "-c", "gunicorn.conf.py", app],
            cwd=PROJECT_ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own process group: no worker outlives the context, even if the master hangs.
            start_new_session=True,
        )
    server = GunicornServer(f"http://127.0.0.1:{port}", process, log_path)
    try:
        server.wait_for_workers(workers)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def run_cli(data_dir: Path, *arguments: str, extra_env: Mapping[str, str] | None = None) -> str:
    """Run ``flask --app app <arguments>`` as an admin would; return its output."""
    completed = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *arguments],
        cwd=PROJECT_ROOT,
        env=docbridge_environment(data_dir, extra_env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"flask {' '.join(arguments)} failed:\n{completed.stdout}\n{completed.stderr}")
    return completed.stdout


# --- memory and CPU time of the whole server (for benchmarks) ------------------------------


def _stat_fields(pid: int) -> list[str]:
    """/proc/<pid>/stat from field 3 (state) on; empty when the process is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    # The command name may hold spaces and parentheses: the fields follow the last ')'.
    return stat.rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) so far, from /proc/<pid>/stat."""
    fields = _stat_fields(pid)
    if not fields:
        return 0.0
    # utime and stime are fields 14 and 15, in clock ticks.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu_seconds(server: GunicornServer) -> dict[int, float]:
    """CPU time of the master and of each worker, by pid."""
    return {pid: cpu_seconds(pid) for pid in [server.master_pid, *server.worker_pids()]}


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def server_rss_mib(server: GunicornServer) -> float:
    """Resident memory of the master and all workers together."""
    return sum(rss_kib(pid) for pid in [server.master_pid, *server.worker_pids()]) / 1024


class PeakSampler:
    """Samples the server's total RSS in a thread; `peak` is the highest sum seen."""

    def __init__(self, server: GunicornServer, interval: float = 0.02) -> None:
        self.server = server
        self.interval = interval
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, server_rss_mib(self.server))
            time.sleep(self.interval)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, server_rss_mib(self.server))
