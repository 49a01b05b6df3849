"""A throw-away nginx WebDAV server in a temporary directory on a free loopback port.

By default it serves the configuration docs/storage.md recommends for plain nginx: the dav
module for PUT/DELETE/MKCOL/COPY/MOVE and a JSON autoindex for listing (nginx itself has no
PROPFIND). With ``propfind=True`` it loads Debian's dav-ext module instead, which answers
PROPFIND like other WebDAV servers, and no autoindex; with ``credentials`` it requires Basic
authentication. ``make test`` installs ``nginx-light`` and ``libnginx-mod-http-dav-ext``.
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
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log;
daemon off;
{user}
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root}/www;
        client_max_body_size 0;
        location /dav/ {{
            dav_methods PUT DELETE MKCOL COPY MOVE;
            create_full_put_path on;
            dav_access user:rw;
            {listing}
            {authentication}
        }}
    }}
}}
"""


@dataclass(frozen=True)
class WebDavServer:
    """`url` is the WebDAV tree (ending in /dav/); `root` is the folder nginx serves it from,
    for tests that check what was stored without asking the code under test."""

    url: str
    root: Path


def _binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if found is None:
        raise RuntimeError("nginx is not installed: run `make test`, which installs nginx-light")
    return found


JSON_INDEX = "autoindex on; autoindex_format json;"
DAV_EXT_MODULE = "ngx_http_dav_ext_module.so"


def _dav_ext_module() -> Path:
    for folder in ("/usr/lib/nginx/modules", "/usr/share/nginx/modules"):
        candidate = Path(folder) / DAV_EXT_MODULE
        if candidate.exists():
            return candidate
    raise RuntimeError("nginx's dav-ext module is missing: run `make test`, which installs libnginx-mod-http-dav-ext")


@contextmanager
def nginx_webdav(*, propfind: bool = False, credentials: tuple[str, str] | None = None) -> Iterator[WebDavServer]:
    """Yield the server; its WebDAV tree is ``url`` (ending in /dav/)."""
    root = Path(tempfile.mkdtemp(prefix="docbridge-dav-"))
    (root / "www" / "dav").mkdir(parents=True)
    (root / "body").mkdir()
    port = free_port()
    authentication = ""
    if credentials is not None:
        (root / "htpasswd").write_text(f"{credentials[0]}:{{PLAIN}}{credentials[1]}\n")
        authentication = f'auth_basic "docbridge"; auth_basic_user_file {root}/htpasswd;'
    config = root / "nginx.conf"
    config.write_text(
        NGINX_CONFIG.format(
            root=root,
            port=port,
            # As root, nginx would hand the workers to `nobody`, who cannot write the temp tree.
            user="user root root;" if os.geteuid() == 0 else "",
            modules=f"load_module {_dav_ext_module()};" if propfind else "",
            listing="dav_ext_methods PROPFIND OPTIONS;" if propfind else JSON_INDEX,
            authentication=authentication,
        )
    )
    process = subprocess.Popen(
        [_binary(), "-e", str(root / "error.log"), "-p", str(root), "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for_port(port, process)
        yield WebDavServer(f"http://127.0.0.1:{port}/dav/", root / "www" / "dav")
    finally:
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
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
