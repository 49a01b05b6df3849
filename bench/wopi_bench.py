"""WOPI benchmark: CheckFileInfo, GetFile (1 MiB and 100 MiB) and PutFile (1 MiB) under
concurrent connections, driven by ``wrk`` against a real gunicorn on 127.0.0.1.

Set-up goes through the WOPI host itself: ``flask wopi test-file admin`` gives a WOPISrc
and a token, PutRelativeFile creates the files (each answer carries a token for the new
file) and Lock locks the PutFile targets. Proof keys are not involved (the validator
audience has none), as a load tool cannot sign requests. While each wrk run lasts, a
sampler sums VmRSS of the gunicorn master and workers every 20 ms; the peak is reported.

Run: ``.venv/bin/python -m bench.wopi_bench`` (add ``--markdown`` for the table in
docs/benchmarks.md). Only loopback traffic; bounded in time.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests

from bench.storage_bench import make_source
from bench.wrk import Target, rotating_requests_lua, run_wrk
from tests.support.gunicorn import GunicornServer, PeakSampler, run_cli, run_gunicorn, server_rss_mib

MIB = 1024 * 1024


@dataclass(frozen=True)
class Run:
    name: str
    connections: int
    seconds: int
    requests_per_second: float
    mb_per_second: float  # payload MB/s (10^6 bytes), 0 when not a transfer benchmark
    p50_ms: float
    p99_ms: float
    non_2xx: int
    peak_rss_mib: float
    idle_rss_mib: float

    def row(self) -> str:
        transfer = f"{self.mb_per_second:.0f}" if self.mb_per_second else "–"
        return (
            f"| {self.name} | {self.connections} × {self.seconds} s | {self.requests_per_second:.1f} | {transfer} "
            f"| {self.p50_ms:.1f} | {self.p99_ms:.1f} | {self.non_2xx} | {self.peak_rss_mib:.0f} (idle {self.idle_rss_mib:.0f}) |"
        )


@dataclass
class WopiFile:
    url: str  # WOPISrc?access_token=…

    @property
    def contents(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}{parts.path}/contents?{parts.query}"

    @property
    def contents_path(self) -> str:
        """The GetFile/PutFile path with its query string, as a request line carries it."""
        parts = urlsplit(self.contents)
        return f"{parts.path}?{parts.query}"

    def current_version(self) -> int:
        """The number of the current version (GetFile's X-WOPI-ItemVersion)."""
        with requests.get(self.contents, stream=True, timeout=60) as response:
            response.raise_for_status()
            return int(response.headers["X-WOPI-ItemVersion"])


def put_relative(base: WopiFile, name: str, source: Path) -> WopiFile:
    with open(source, "rb") as body:
        response = requests.post(
            base.url,
            data=body,
            headers={"X-WOPI-Override": "PUT_RELATIVE", "X-WOPI-RelativeTarget": name.encode("utf-7").decode()},
            timeout=300,
        )
    response.raise_for_status()
    return WopiFile(response.json()["Url"])


@dataclass
class WopiFiles:
    """The files a WOPI benchmark works on, all made through the WOPI host itself."""

    base: WopiFile  # the `flask wopi test-file` document
    one: WopiFile  # 1 MiB, for GetFile
    hundred: WopiFile  # 100 MiB, for GetFile
    targets: list[WopiFile]  # 1 MiB each, locked with `locks`, for PutFile
    locks: list[str]

    def put_requests(self) -> list[Target]:
        """PutFile of each locked target, for a wrk rotation."""
        return [
            Target("POST", target.contents_path, {"X-WOPI-Override": "PUT", "X-WOPI-Lock": lock})
            for target, lock in zip(self.targets, self.locks, strict=True)
        ]


def set_up_files(server: GunicornServer, data_dir: Path, small: Path, large: Path, *, put_targets: int = 4,
                 extra_env: Mapping[str, str] | None = None) -> WopiFiles:
    """``flask wopi test-file admin`` (with `extra_env`, e.g. the database URL), then
    PutRelativeFile of `small` and `large` and of `put_targets` copies of `small`, which
    are locked; finally warm-up requests, so every worker has imported and connected."""
    output = run_cli(data_dir, "wopi", "test-file", "admin",
                     extra_env={**(extra_env or {}), "DOCBRIDGE_PUBLIC_URL": server.url})
    wopi_src = re.search(r"WOPISrc: (\S+)", output).group(1)  # type: ignore[union-attr]
    token = re.search(r"access_token: (\S+)", output).group(1)  # type: ignore[union-attr]
    base = WopiFile(f"{wopi_src}?access_token={token}")
    one = put_relative(base, "get-1m.bin", small)
    hundred = put_relative(base, "get-100m.bin", large)
    targets = [put_relative(base, f"put-1m-{n}.bin", small) for n in range(put_targets)]
    locks = [f"bench-{n}" for n in range(put_targets)]
    for target, lock in zip(targets, locks, strict=True):
        requests.post(target.url, headers={"X-WOPI-Override": "LOCK", "X-WOPI-Lock": lock}, timeout=30).raise_for_status()
    for _ in range(20):
        requests.get(base.url, timeout=30).raise_for_status()
    return WopiFiles(base, one, hundred, targets, locks)


def measure(server: GunicornServer, name: str, url: str, connections: int, seconds: int,
            payload_bytes: int = 0, script: str = "") -> Run:
    idle = server_rss_mib(server)
    with PeakSampler(server) as sampler:
        result = run_wrk(url, connections=connections, seconds=seconds, threads=min(2, connections),
                         timeout_seconds=60, requests_lua=script)
    if any(result.socket_errors.values()):
        print("wrk socket errors:", result.socket_errors)
    return Run(name, connections, seconds, result.rate, result.rate * payload_bytes / 1e6, result.p50_ms,
               result.p99_ms, result.status_errors, sampler.peak, idle)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--markdown", action="store_true")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="wopi-bench-") as scratch:
        root = Path(scratch)
        data_dir = root / "data"
        small, large = root / "one.bin", root / "hundred.bin"
        make_source(small, MIB)
        make_source(large, 100 * MIB)
        with run_gunicorn(data_dir, workers=options.workers, threads=options.threads) as server:
            files = set_up_files(server, data_dir, small, large)
            one, hundred, targets = files.one, files.hundred, files.targets
            script = rotating_requests_lua(files.put_requests(), small)
            seconds = options.seconds
            runs = [
                measure(server, "CheckFileInfo", one.url, 8, seconds),
                measure(server, "CheckFileInfo (1 connection)", one.url, 1, seconds),
                measure(server, "GetFile 1 MiB", one.contents, 4, seconds, MIB),
                measure(server, "GetFile 100 MiB", hundred.contents, 2, 2 * seconds, 100 * MIB),
                measure(server, "PutFile 1 MiB (locked)", server.url, 4, seconds, MIB, script),
            ]
            check = requests.get(targets[0].contents, timeout=30)
            assert check.content == small.read_bytes(), "PutFile did not store the body"
            rss_idle = server_rss_mib(server)

    print(f"# {platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"gunicorn gthread {options.workers} workers × {options.threads} threads, idle RSS {rss_idle:.0f} MiB")
    header = "| operation | connections × duration | req/s | MB/s | p50 ms | p99 ms | non-2xx | peak RSS MiB (all processes) |"
    print(header)
    print("|---|---|---|---|---|---|---|---|")
    for run in runs:
        print(run.row())


if __name__ == "__main__":
    main()
