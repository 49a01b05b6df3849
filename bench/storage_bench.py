"""Storage benchmark: upload and download through /api/v1 against a real gunicorn.

Starts Docbridge with the project's gunicorn.conf.py on a free 127.0.0.1 port and a
temporary data directory (local blobs, SQLite), then moves 1 MiB files (many times) and a
1 GiB file (once each way). While each transfer runs, a sampler reads VmRSS of the master
and every worker from /proc every 20 ms; the figure reported is the peak of that sum minus
the sum when idle (measured after warm-up requests). Run with ``make bench-storage``;
``--large-mib`` and ``--small-count`` shrink the run; ``--backend webdav`` stores the
blobs on an nginx WebDAV server started on loopback. Only loopback traffic; bounded in time.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.support.gunicorn import ADMIN_PASSWORD, GunicornServer, PeakSampler, run_gunicorn, server_rss_mib
from tests.support.webdav import nginx_webdav

MIB = 1024 * 1024
ADMIN = ("admin", ADMIN_PASSWORD)


@dataclass(frozen=True)
class Result:
    operation: str
    size_mib: float
    count: int
    seconds: float
    rss_growth_mib: float
    rss_growth_over_start_mib: float

    @property
    def mib_per_second(self) -> float:
        return self.size_mib * self.count / self.seconds

    def row(self) -> str:
        per_request = self.seconds / self.count * 1000
        return (
            f"| {self.operation} | {self.size_mib:g} MiB × {self.count} | {self.mib_per_second:.0f} MiB/s | "
            f"{per_request:.1f} ms | {self.rss_growth_mib:.1f} MiB | {self.rss_growth_over_start_mib:.1f} MiB |"
        )


def make_source(path: Path, size: int) -> str:
    """A file of `size` bytes (a random MiB repeated); returns its sha256."""
    block = os.urandom(MIB)
    digest = hashlib.sha256()
    with open(path, "wb") as handle:
        for offset in range(0, size, MIB):
            piece = block[: min(MIB, size - offset)]
            handle.write(piece)
            digest.update(piece)
        # Written back now, so the disk is not still busy with the source while we measure.
        handle.flush()
        os.fsync(handle.fileno())
    return digest.hexdigest()


def iter_download(server: GunicornServer, file_id: str) -> Iterator[bytes]:
    with requests.get(f"{server.url}/api/v1/files/{file_id}/content", auth=ADMIN, stream=True, timeout=300) as response:
        response.raise_for_status()
        yield from response.iter_content(MIB)


def upload(server: GunicornServer, home: str, name: str, source: Path) -> str:
    with open(source, "rb") as handle:
        response = requests.put(
            f"{server.url}/api/v1/containers/{home}/files/{name}", data=handle, auth=ADMIN, timeout=300
        )
    response.raise_for_status()
    return str(response.json()["file_id"])


def download(server: GunicornServer, file_id: str, expected_sha256: str) -> None:
    digest = hashlib.sha256()
    for chunk in iter_download(server, file_id):
        digest.update(chunk)
    if digest.hexdigest() != expected_sha256:
        raise SystemExit(f"download of {file_id} returned other bytes than were uploaded")


def measure(
    server: GunicornServer, operation: str, size: int, count: int, idle: float, run: Callable[[int], None]
) -> Result:
    """Time `count` runs; RSS growth is over the sum just before (and over the idle sum at start)."""
    before = server_rss_mib(server)
    with PeakSampler(server) as sampler:
        started = time.perf_counter()
        for index in range(count):
            run(index)
        seconds = time.perf_counter() - started
    return Result(operation, size / MIB, count, seconds, sampler.peak - before, sampler.peak - idle)


def warm_up(server: GunicornServer, home: str, scratch: Path) -> None:
    """Touch every code path once in each worker so imports and pools are not counted as growth."""
    source = scratch / "warm.bin"
    sha = make_source(source, 64 * 1024)
    for index in range(8):
        file_id = upload(server, home, f"warm-{index}.bin", source)
        download(server, file_id, sha)


def run(large_mib: int, small_count: int, workers: int, threads: int, backend: str) -> tuple[list[Result], float]:
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="docbridge-bench-") as temporary, ExitStack() as stack:
        scratch = Path(temporary)
        environment = {}
        if backend == "webdav":
            dav = stack.enter_context(nginx_webdav())
            environment = {"DOCBRIDGE_STORAGE__BACKEND": "webdav", "DOCBRIDGE_STORAGE__WEBDAV_URL": dav.url}
        with run_gunicorn(scratch / "data", workers=workers, threads=threads, extra_env=environment) as server:
            home = requests.get(f"{server.url}/api/v1/me", auth=ADMIN, timeout=30).json()["home_id"]
            warm_up(server, home, scratch)
            time.sleep(0.5)
            idle = server_rss_mib(server)

            small = scratch / "small.bin"
            small_sha = make_source(small, MIB)
            small_ids: list[str] = []
            results.append(
                measure(
                    server,
                    "upload",
                    MIB,
                    small_count,
                    idle,
                    lambda i: small_ids.append(upload(server, home, f"small-{i}.bin", small)),
                )
            )
            results.append(
                measure(server, "download", MIB, small_count, idle, lambda i: download(server, small_ids[i], small_sha))
            )

            large = scratch / "large.bin"
            large_sha = make_source(large, large_mib * MIB)
            large_ids: list[str] = []
            results.append(
                measure(
                    server,
                    "upload",
                    large_mib * MIB,
                    1,
                    idle,
                    lambda _: large_ids.append(upload(server, home, "large.bin", large)),
                )
            )
            large.unlink()
            results.append(
                measure(
                    server, "download", large_mib * MIB, 1, idle, lambda _: download(server, large_ids[0], large_sha)
                )
            )
    return results, idle


def machine() -> str:
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    memory = int(Path("/proc/meminfo").read_text().split()[1]) // 1024 // 1024
    return (
        f"{os.cpu_count()} × {model}, {memory} GiB RAM, Linux {platform.release()}, Python {platform.python_version()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large-mib", type=int, default=1024, help="size of the large file (default 1024)")
    parser.add_argument("--small-count", type=int, default=100, help="how many 1 MiB files (default 100)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--backend", choices=["local", "webdav"], default="local", help="byte backend (webdav: a local nginx)"
    )
    options = parser.parse_args()
    results, idle = run(options.large_mib, options.small_count, options.workers, options.threads, options.backend)
    print(f"machine: {machine()}")
    print(
        f"gunicorn: gunicorn.conf.py, {options.workers} workers × {options.threads} threads (gthread), {options.backend} blobs, SQLite"
    )
    print(f"idle RSS (master + workers): {idle:.1f} MiB\n")
    print("| operation | size × count | throughput | per request | peak RSS growth | … over idle at start |")
    print("|---|---|---|---|---|---|")
    for result in results:
        print(result.row())


if __name__ == "__main__":
    main()
