"""A throw-away nginx WebDAV server in a temporary directory on a free loopback port.

By default it serves the configuration docs/storage.md recommends for plain nginx: the dav
module for PUT/DELETE/MKCOL/COPY/MOVE and a JSON autoindex for listing (nginx itself has no
PROPFIND). With ``propfind=True`` it loads Debian's dav-ext module instead, which answers
PROPFIND like other WebDAV servers, and no autoindex; with ``credentials`` it requires Basic
authentication. ``make test`` installs ``nginx-light`` and ``libnginx-mod-http-dav-ext``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.nginx import run_nginx

DAV_LOCATION = """\
location /dav/ {{
            dav_methods PUT DELETE MKCOL COPY MOVE;
            create_full_put_path on;
            dav_access user:rw;
            {listing}
            {authentication}
        }}"""


@dataclass(frozen=True)
class WebDavServer:
    """`url` is the WebDAV tree (ending in /dav/); `root` is the folder nginx serves it from,
    for tests that check what was stored without asking the code under test."""

    url: str
    root: Path


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
    authentication = ""
    htpasswd = None
    if credentials is not None:
        htpasswd = f"{credentials[0]}:{{PLAIN}}{credentials[1]}\n"
        # Relative to nginx.conf's folder, the server's temporary one; written once nginx runs
        # (nginx reads it per request).
        authentication = 'auth_basic "docbridge"; auth_basic_user_file htpasswd;'
    location = DAV_LOCATION.format(
        listing="dav_ext_methods PROPFIND OPTIONS;" if propfind else JSON_INDEX,
        authentication=authentication,
    )
    modules = f"load_module {_dav_ext_module()};" if propfind else ""
    with run_nginx(location, modules=modules, prefix="docbridge-dav-") as server:
        (server.www / "dav").mkdir()
        if htpasswd is not None:
            (server.www.parent / "htpasswd").write_text(htpasswd)
        yield WebDavServer(f"{server.url}/dav/", server.www / "dav")
