"""A WOPI client stand-in: publishes discovery (Collabora or Microsoft shape) from a real
loopback HTTP server and signs WOPI requests with its own RSA keys, current and old."""

from __future__ import annotations

import base64
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import quoteattr

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

EPOCH_TICKS = 621_355_968_000_000_000

COLLABORA_MIMETYPES = (
    "application/vnd.oasis.opendocument.text",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-wopi-test",
)
MICROSOFT_APPS = {
    "Word": ("docx", "wopitest"),
    "Excel": ("xlsx",),
}


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _b64_int(value: int) -> str:
    return base64.b64encode(value.to_bytes((value.bit_length() + 7) // 8, "big")).decode()


def csp_blob(key: rsa.RSAPrivateKey) -> str:
    """The key as a Windows PUBLICKEYBLOB, the way Microsoft publishes `value`."""
    numbers = key.public_key().public_numbers()
    bits = key.key_size
    header = bytes([0x06, 0x02, 0, 0]) + struct.pack("<I", 0x0000A400)
    rsapub = b"RSA1" + struct.pack("<II", bits, numbers.e)
    return base64.b64encode(header + rsapub + numbers.n.to_bytes(bits // 8, "little")).decode()


def ticks(moment: datetime | None = None) -> int:
    moment = moment or datetime.now(UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return EPOCH_TICKS + (delta.days * 86_400 + delta.seconds) * 10_000_000 + delta.microseconds * 10


def sign(key: rsa.RSAPrivateKey, token: str, url: str, timestamp: int) -> str:
    token_bytes = token.encode()
    url_bytes = url.upper().encode()
    message = (
        struct.pack(">I", len(token_bytes)) + token_bytes
        + struct.pack(">I", len(url_bytes)) + url_bytes
        + struct.pack(">I", 8) + struct.pack(">q", timestamp)
    )
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


@dataclass
class WopiClientStandIn:
    shape: str = "microsoft"  # or "collabora"
    publish_proof_keys: bool = True
    current_key: rsa.RSAPrivateKey = field(default_factory=new_key)
    old_key: rsa.RSAPrivateKey = field(default_factory=new_key)
    base_url: str = ""
    fail: bool = False  # answer 503 to discovery requests
    body_override: bytes | None = None  # serve this instead of discovery XML
    redirect_to: str = ""  # answer 302 to this location
    discovery_requests: int = 0

    @property
    def discovery_url(self) -> str:
        return self.base_url + "/hosting/discovery"

    def rotate(self) -> None:
        """New current key; the previous current becomes the old one."""
        self.old_key, self.current_key = self.current_key, new_key()

    def proof_key_element(self) -> str:
        if not self.publish_proof_keys:
            return ""
        cur = self.current_key.public_key().public_numbers()
        old = self.old_key.public_key().public_numbers()
        if self.shape == "microsoft":
            return (
                f'<proof-key oldvalue="{csp_blob(self.old_key)}" value="{csp_blob(self.current_key)}"'
                f' modulus="{_b64_int(cur.n)}" exponent="{_b64_int(cur.e)}"'
                f' oldmodulus="{_b64_int(old.n)}" oldexponent="{_b64_int(old.e)}"/>'
            )
        # Collabora publishes only value/oldvalue (CAPI blobs).
        return f'<proof-key value="{csp_blob(self.current_key)}" oldvalue="{csp_blob(self.old_key)}"/>'

    def discovery_xml(self) -> str:
        base = self.base_url or "http://127.0.0.1"
        apps = []
        if self.shape == "collabora":
            for mimetype in COLLABORA_MIMETYPES:
                apps.append(
                    f'<app name="{mimetype}"><action default="true" ext="" name="edit"'
                    f' urlsrc="{base}/browser/dist/cool.html?"/></app>'
                )
            apps.append(
                f'<app name="writer-pdf"><action ext="pdf" name="view"'
                f' urlsrc="{base}/browser/dist/cool.html?"/></app>'
            )
            apps.append(
                f'<app name="Capabilities"><action ext="" name="getinfo" urlsrc="{base}/hosting/capabilities"/></app>'
            )
            zone = "external-http"
        else:
            for app, extensions in MICROSOFT_APPS.items():
                actions = []
                for ext in extensions:
                    for action in ("view", "edit", "editnew", "embedview"):
                        urlsrc = (
                            f"{base}/{app.lower()}/{action}.aspx?<ui=UI_LLCC&><rs=DC_LLCC&>"
                            f"<dchat=DISABLE_CHAT&><hid=HOST_SESSION_ID&>"
                        )
                        actions.append(f'<action name="{action}" ext="{ext}" urlsrc={quoteattr(urlsrc)}/>')
                apps.append(f'<app name="{app}" favIconUrl="{base}/{app}.ico">{"".join(actions)}</app>')
            zone = "external-https"
        return (
            '<?xml version="1.0" encoding="utf-8"?><wopi-discovery>'
            f'<net-zone name="{zone}">{"".join(apps)}</net-zone>{self.proof_key_element()}</wopi-discovery>'
        )

    def proof_headers(
        self,
        token: str,
        url: str,
        *,
        when: datetime | None = None,
        current: rsa.RSAPrivateKey | None = None,
        old: rsa.RSAPrivateKey | None = None,
        garble_current: bool = False,
        garble_old: bool = False,
    ) -> dict[str, str]:
        stamp = ticks(when)
        current_sig = sign(current or self.current_key, token, url, stamp)
        old_sig = sign(old or self.old_key, token, url, stamp)
        garbage = base64.b64encode(b"INVALID").decode()  # what the WOPI validator sends
        return {
            "X-WOPI-TimeStamp": str(stamp),
            "X-WOPI-Proof": garbage if garble_current else current_sig,
            "X-WOPI-ProofOld": garbage if garble_old else old_sig,
        }


@contextmanager
def serve(stand_in: WopiClientStandIn) -> Iterator[WopiClientStandIn]:
    """Serve the stand-in's discovery on 127.0.0.1 until the block ends."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            if self.path != "/hosting/discovery":
                self.send_error(404)
                return
            stand_in.discovery_requests += 1
            if stand_in.fail:
                self.send_error(503)
                return
            if stand_in.redirect_to:
                self.send_response(302)
                self.send_header("Location", stand_in.redirect_to)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = stand_in.body_override if stand_in.body_override is not None else stand_in.discovery_xml().encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stand_in.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stand_in
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
