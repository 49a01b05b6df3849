"""wrk, driven from Python: one run, its figures read from a JSON line that a Lua ``done()``
prints (requests, duration, bytes, errors by kind, p50, p99), not from wrk's text report.

``rotating_requests_lua`` builds the requests a run cycles through (method, path, headers,
one body read from a file), formatted once per wrk thread, so wrk spends no time building
a 1 MiB request each time. Only loopback URLs are given to it by the benchmarks.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPORT_LUA = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK-REPORT {"requests": %.0f, "duration_us": %.0f, "bytes": %.0f, "status_errors": %.0f, '
    .. '"connect": %.0f, "read": %.0f, "write": %.0f, "timeout": %.0f, "p50_us": %.0f, "p99_us": %.0f}\n',
    summary.requests, summary.duration, summary.bytes, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    bytes: int  # every byte read, headers included
    status_errors: int  # answers with a status above 399, as wrk counts them
    socket_errors: dict[str, int]  # connect, read, write, timeout
    p50_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def read_mb_per_second(self) -> float:
        return self.bytes / self.seconds / 1e6

    @property
    def errors(self) -> int:
        return self.status_errors + sum(self.socket_errors.values())


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise RuntimeError("wrk is not installed: run `bash scripts/install-test-deps.sh`")
    return found


def wrk_version() -> str:
    completed = subprocess.run([wrk_binary(), "-v"], capture_output=True, text=True, timeout=10, check=False)
    first = (completed.stdout or completed.stderr).splitlines()[0]
    return first.split(" [")[0].removeprefix("wrk ").removeprefix("debian/")


def run_wrk(
    url: str,
    *,
    connections: int,
    seconds: int,
    threads: int = 1,
    timeout_seconds: int = 10,
    requests_lua: str = "",
) -> WrkResult:
    """``wrk -t<threads> -c<connections> -d<seconds>s --timeout <t>s --latency -s <script> <url>``."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="wrk-") as script:
        script.write(requests_lua + REPORT_LUA)
        script.flush()
        command = [
            wrk_binary(), f"-t{threads}", f"-c{connections}", f"-d{seconds}s",
            "--timeout", f"{timeout_seconds}s", "--latency", "-s", script.name, url,
        ]
        completed = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120, check=False)
    lines = [line for line in completed.stdout.splitlines() if line.startswith("WRK-REPORT ")]
    if completed.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({completed.returncode}) on {url}:\n{completed.stdout}\n{completed.stderr}")
    report = json.loads(lines[-1].removeprefix("WRK-REPORT "))
    return WrkResult(
        requests=int(report["requests"]),
        seconds=report["duration_us"] / 1e6,
        bytes=int(report["bytes"]),
        status_errors=int(report["status_errors"]),
        socket_errors={kind: int(report[kind]) for kind in ("connect", "read", "write", "timeout")},
        p50_ms=report["p50_us"] / 1000,
        p99_ms=report["p99_us"] / 1000,
    )


@dataclass(frozen=True)
class Target:
    """One request of a rotation: `path` includes the query string."""

    method: str
    path: str
    headers: Mapping[str, str]


def _lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string of ASCII text is a valid Lua string literal


def rotating_requests_lua(targets: Sequence[Target], body_file: Path) -> str:
    """Lua that sends the targets round-robin, each with the bytes of `body_file` as its body."""
    entries = []
    for target in targets:
        headers = ", ".join(f"[{_lua_string(name)}] = {_lua_string(value)}" for name, value in target.headers.items())
        entries.append(f"  {{{_lua_string(target.method)}, {_lua_string(target.path)}, {{{headers}}}}},")
    return (
        f"local file = assert(io.open({_lua_string(str(body_file))}, \"rb\"))\n"
        "local body = file:read(\"*a\")\nfile:close()\n"
        "local targets = {\n" + "\n".join(entries) + "\n}\n"
        "local prepared = {}\nlocal next_one = 0\n"
        "init = function(args)\n"
        "  for i, t in ipairs(targets) do prepared[i] = wrk.format(t[1], t[2], t[3], body) end\n"
        "end\n"
        "request = function()\n  next_one = next_one % #prepared + 1\n  return prepared[next_one]\nend\n"
    )
