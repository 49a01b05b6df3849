"""A throw-away nginx in a temporary directory on a free loopback port.

The caller gives the ``location`` blocks of its one server; the server's root is the
``www`` folder of the temporary directory, which is removed when nginx stops. The WebDAV
server of the storage tests (``tests/support/webdav.py``) and the benchmarks' static and
PUT limits (``bench/compare.py``) are both started here. ``make test`` installs
``nginx-light``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.net import free_port

NGINX_CONFIG = """\
{modules}
worker_processes {worker_processes};
pid {root}/nginx.pid;
error_log {root}/error.log;
daemon off;
{user}
events {{ worker_connections 1024; }}
http {{
    access_log off;
    {http}
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root}/www;
        client_max_body_size 0;
        {locations}
    }}
}}
"""


@dataclass(frozen=True)
class NginxServer:
    """`url` is the server's base (no trailing slash); `www` is the folder it serves."""

    url: str
    www: Path


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if found is None:
        raise RuntimeError("nginx is not installed: run `make test`, which installs nginx-light")
    return found


def nginx_version() -> str:
    completed = subprocess.run([nginx_binary(), "-v"], capture_output=True, text=True, timeout=10, check=False)
    return (completed.stderr or completed.stdout).strip().removeprefix("nginx version: ").removeprefix("nginx/")


@contextmanager
def run_nginx(
    locations: str,
    *,
    modules: str = "",
    http: str = "",
    worker_processes: int = 1,
    prefix: str = "docbridge-nginx-",
) -> Iterator[NginxServer]:
    """Start nginx in the foreground with one loopback server; stop it (SIGQUIT) on exit."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    (root / "www").mkdir()
    (root / "body").mkdir()
    port = free_port()
    config = root / "nginx.conf"
    config.write_text(
        NGINX_CONFIG.format(
            root=root,
            port=port,
            # As root, nginx would hand the workers to `nobody`, who cannot write the temp tree.
            user="user root root;" if os.geteuid() == 0 else "",
            modules=modules,
            http=http,
            worker_processes=worker_processes,
            locations=locations,
        )
    )
    process = subprocess.Popen(
        [nginx_binary(), "-e", str(root / "error.log"), "-p", str(root), "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        _wait_for_port(port, process)
        yield NginxServer(f"http://127.0.0.1:{port}", root / "www")
    finally:
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if process.stderr is not None:
            process.stderr.close()
        shutil.rmtree(root, ignore_errors=True)


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            error = process.stderr.read().decode(errors="replace") if process.stderr else ""
            raise RuntimeError(f"nginx exited at start: {error}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nginx did not start listening within 10 s")
