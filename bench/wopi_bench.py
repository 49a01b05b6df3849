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
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests

from bench.storage_bench import make_source
from tests.support.gunicorn import GunicornServer, PeakSampler, run_cli, run_gunicorn, server_rss_mib

MIB = 1024 * 1024
WRK = "/usr/bin/wrk"


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


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(url: str, *, connections: int, seconds: int, script: Path | None = None) -> tuple[float, float, float, int]:
    """Run wrk; return (requests/s, p50 ms, p99 ms, non-2xx responses)."""
    command = [WRK, f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "60s"]
    if script is not None:
        command += ["-s", str(script)]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True, timeout=seconds + 120).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    if errors:
        print("wrk:", errors.group(0))
    return rate, p50, p99, int(bad.group(1)) if bad else 0


@dataclass
class WopiFile:
    url: str  # WOPISrc?access_token=…

    @property
    def contents(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}{parts.path}/contents?{parts.query}"


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


def measure(server: GunicornServer, name: str, url: str, connections: int, seconds: int,
            payload_bytes: int = 0, script: Path | None = None) -> Run:
    idle = server_rss_mib(server)
    with PeakSampler(server) as sampler:
        rate, p50, p99, bad = wrk(url, connections=connections, seconds=seconds, script=script)
    return Run(name, connections, seconds, rate, rate * payload_bytes / 1e6, p50, p99, bad, sampler.peak, idle)


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
            output = run_cli(data_dir, "wopi", "test-file", "admin", extra_env={"DOCBRIDGE_PUBLIC_URL": server.url})
            wopi_src = re.search(r"WOPISrc: (\S+)", output).group(1)  # type: ignore[union-attr]
            token = re.search(r"access_token: (\S+)", output).group(1)  # type: ignore[union-attr]
            base = WopiFile(f"{wopi_src}?access_token={token}")
            one = put_relative(base, "get-1m.bin", small)
            hundred = put_relative(base, "get-100m.bin", large)
            targets = [put_relative(base, f"put-1m-{n}.bin", small) for n in range(4)]
            for number, target in enumerate(targets):
                requests.post(target.url, headers={"X-WOPI-Override": "LOCK", "X-WOPI-Lock": f"bench-{number}"}, timeout=30).raise_for_status()
            for _ in range(20):  # warm-up: every worker has imported and connected
                requests.get(base.url, timeout=30).raise_for_status()

            script = root / "putfile.lua"
            paths = ", ".join(f'"{urlsplit(t.contents).path}?{urlsplit(t.contents).query}"' for t in targets)
            locks = ", ".join(f'"bench-{n}"' for n in range(len(targets)))
            script.write_text(
                f'local body = string.rep("x", {MIB})\nlocal paths = {{{paths}}}\nlocal locks = {{{locks}}}\n'
                "local i = 0\nrequest = function()\n  i = i % #paths + 1\n"
                '  return wrk.format("POST", paths[i], {["X-WOPI-Override"] = "PUT", ["X-WOPI-Lock"] = locks[i]}, body)\nend\n'
            )
            seconds = options.seconds
            runs = [
                measure(server, "CheckFileInfo", one.url, 8, seconds),
                measure(server, "CheckFileInfo (1 connection)", one.url, 1, seconds),
                measure(server, "GetFile 1 MiB", one.contents, 4, seconds, MIB),
                measure(server, "GetFile 100 MiB", hundred.contents, 2, 2 * seconds, 100 * MIB),
                measure(server, "PutFile 1 MiB (locked)", server.url, 4, seconds, MIB, script),
            ]
            check = requests.get(targets[0].contents, timeout=30)
            assert check.content == b"x" * MIB, "PutFile did not store the body"
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
