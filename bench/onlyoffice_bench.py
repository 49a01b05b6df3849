"""ONLYOFFICE driver benchmark (not a test).

1. Callback save of a 100 MiB document: the Document Server stand-in posts a forcesave
   callback (status 6) and Docbridge streams the file from the stand-in's cache URL
   through the outbound fence straight into a new version and answers.
   Compared with a plain streamed download of the same bytes from the same loopback server
   into a temporary file.
2. Opening: ``POST /app/open`` followed by the editor page (config built and signed).

Run: ``.venv/bin/python bench/onlyoffice_bench.py [--size-mib 100] [--saves 5] [--opens 50]``
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.onlyoffice.ds_standin import DocumentServerStandIn  # noqa: E402
from tests.support.gunicorn import ADMIN_PASSWORD, run_gunicorn  # noqa: E402

SECRET = "bench-secret-" + "0123456789abcdef" * 4
ADMIN = ("admin", ADMIN_PASSWORD)


def plain_download(url: str) -> float:
    """Seconds to stream `url` into a temporary file and fsync it."""
    started = time.perf_counter()
    with requests.get(url, stream=True, timeout=120) as answer, tempfile.TemporaryFile() as spool:
        answer.raise_for_status()
        for chunk in answer.iter_content(1 << 20):
            spool.write(chunk)
        spool.flush()
        os.fsync(spool.fileno())
    return time.perf_counter() - started


def onlyoffice_environment(ds: DocumentServerStandIn, size: int) -> dict[str, str]:
    """Docbridge's settings for the stand-in, with a download cap that admits `size` bytes."""
    return {
        "DOCBRIDGE_ONLYOFFICE__DOCUMENT_SERVER_URL": ds.base,
        "DOCBRIDGE_ONLYOFFICE__JWT_SECRET": SECRET,
        "DOCBRIDGE_ONLYOFFICE__MAX_DOWNLOAD_BYTES": str(max(size, 104_857_600)),
    }


def http_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


def create_document(http: requests.Session, base: str) -> str:
    """A small Big.docx in the admin's home; returns its file id."""
    home_id = http.get(f"{base}/api/v1/me", auth=ADMIN, timeout=10).json()["home_id"]
    created = http.put(f"{base}/api/v1/containers/{home_id}/files/Big.docx", data=b"PK-small", auth=ADMIN, timeout=30)
    created.raise_for_status()
    return str(created.json()["file_id"])


def open_editor(http: requests.Session, base: str, file_id: str) -> requests.Response:
    """``POST /app/open`` then the launch form to the editor page, as a browser does."""
    launch = http.post(f"{base}/app/open", params={"file_id": file_id, "app_name": "OnlyOffice"},
                       auth=ADMIN, timeout=10).json()
    page = http.post(launch["app_url"], data=launch["form_parameters"], timeout=10)
    page.raise_for_status()
    return page


def editor_config(page: requests.Response) -> dict[str, Any]:
    found = re.search(r'id="docbridge-config">(.*?)</script>', page.text, re.S)
    assert found, "the editor page has no config"
    return dict(json.loads(found.group(1)))


def saves_against_downloads(ds: DocumentServerStandIn, config: dict[str, Any], content: bytes,
                            count: int) -> tuple[list[float], list[float]]:
    """`count` times, interleaved: a plain download of `content` from the stand-in's cache
    URL, then a forcesave callback (status 6) of the same bytes, timed until Docbridge
    answers; returns (save seconds, download seconds)."""
    session = ds.open(config)
    user_id = config["editorConfig"]["user"]["id"]
    saves: list[float] = []
    downloads: list[float] = []
    for _ in range(count):
        ds.edit(session.key, user_id, content)
        body = ds.save_body(session, 6, user_id, forcesavetype=0)
        downloads.append(plain_download(body["url"]))
        started = time.perf_counter()
        record = ds.post_callback(config["editorConfig"]["callbackUrl"], body)
        saves.append(time.perf_counter() - started)
        assert record.answers[-1] == (200, {"error": 0}), record.answers
    return saves, downloads


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=100)
    parser.add_argument("--saves", type=int, default=5)
    parser.add_argument("--opens", type=int, default=50)
    args = parser.parse_args()
    size = args.size_mib << 20
    http = http_session()
    with tempfile.TemporaryDirectory() as data_dir, DocumentServerStandIn(SECRET) as ds:
        environment = onlyoffice_environment(ds, size)
        with run_gunicorn(Path(data_dir) / "data", workers=2, threads=4, extra_env=environment) as server:
            base = server.url
            file_id = create_document(http, base)

            # --- open latency -----------------------------------------------------------
            opens: list[float] = []
            for _ in range(args.opens):
                started = time.perf_counter()
                page = open_editor(http, base, file_id)
                opens.append(time.perf_counter() - started)

            # --- callback save vs plain download ------------------------------------------
            big = os.urandom(1 << 20) * args.size_mib
            saves, downloads = saves_against_downloads(ds, editor_config(page), big, args.saves)
            versions = http.get(f"{base}/api/v1/files/{file_id}/versions", auth=ADMIN, timeout=10).json()
            assert max(v["size"] for v in versions["versions"]) == len(big)

    def ms(values: list[float]) -> str:
        ordered = sorted(values)
        p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
        return f"median {statistics.median(values) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, n={len(values)}"

    print(f"host: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, Docbridge: gunicorn 2 workers x 4 threads; DS stand-in in the bench process (loopback)")
    print(f"/app/open + editor page: {ms(opens)}")
    print(f"plain download of {args.size_mib} MiB to a temp file: {ms(downloads)}")
    print(f"callback save of {args.size_mib} MiB (status 6 → fenced download → new version → answer): {ms(saves)}")
    ratio = statistics.median(saves) / statistics.median(downloads)
    print(f"save / plain download: {ratio:.2f}x; save throughput {args.size_mib / statistics.median(saves):.0f} MiB/s")


if __name__ == "__main__":
    main()
