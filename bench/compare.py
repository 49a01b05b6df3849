"""Docbridge side by side with the machine's limits (``make bench-compare``).

Starts, all on 127.0.0.1: nginx (2 worker processes, sendfile) for a static 400-byte JSON,
1 MiB and 100 MiB files and a dav PUT location; the limit apps of ``bench/limits/`` (a bare
Flask app answering a fixed 400-byte JSON, and a durable-PUT app) and Docbridge, each under
gunicorn with the project's ``gunicorn.conf.py`` as ``make run`` uses it (same workers,
worker class, threads, keepalive). Docbridge runs on SQLite, on a real PostgreSQL (fsync
on), or on both one after the other (the default), each with its own interleaved run of the
limits. wrk (``-t1``, ``--timeout 10s``, a Lua report) goes round-robin over every pair:
Docbridge, then its limit(s), then the next scenario, with pauses; then CheckFileInfo at 8
keep-alive connections is repeated (Docbridge and bare Flask alternately) to see whether
a worker starves; last, the ONLYOFFICE callback save of 100 MiB is timed against a plain
download of the same bytes. Every run must have no error and the stored and served bytes
must equal the sources, or the script exits non-zero without writing anything. It prints
a markdown section; ``--write`` puts it into docs/benchmarks.md.

Run: ``.venv/bin/python -m bench.compare [--rounds 3] [--seconds 10] [--database both] [--write]``;
``--workers N --threads M`` runs every gunicorn server with another worker model instead.
Only loopback traffic; bounded in count and time (about 20 minutes with the defaults).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import importlib.metadata
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import requests

from bench.limits.bare_json import BODY as BARE_JSON
from bench.onlyoffice_bench import (
    SECRET,
    create_document,
    editor_config,
    http_session,
    onlyoffice_environment,
    open_editor,
    saves_against_downloads,
)
from bench.storage_bench import make_source
from bench.wopi_bench import WopiFiles, set_up_files
from bench.wrk import Target, WrkResult, rotating_requests_lua, run_wrk, wrk_version
from tests.onlyoffice.ds_standin import DocumentServerStandIn
from tests.support.gunicorn import (
    ADMIN_PASSWORD,
    PROJECT_ROOT,
    GunicornServer,
    PeakSampler,
    run_gunicorn,
    server_cpu_seconds,
    server_rss_mib,
)
from tests.support.nginx import NginxServer, nginx_version, run_nginx
from tests.support.postgres import create_database, postgres_cluster, postgres_version

MIB = 1 << 20
PUT_TARGETS = 4
FLAT_MEMORY_MIB = 10.0  # "flat": a 100 MiB download grows the server by less than a tenth of it
DOC = PROJECT_ROOT / "docs" / "benchmarks.md"
SECTION = "## Side by side with the machine's limits (make bench-compare)"
DATABASES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}

NGINX_LOCATIONS = """\
location /dav/ {
            dav_methods PUT;
            create_full_put_path on;
            dav_access user:rw;
        }"""
NGINX_HTTP = "sendfile on; tcp_nopush on; types { application/json json; } default_type application/octet-stream;"


# --- the settings `make run` gives gunicorn -------------------------------------------------


@dataclass(frozen=True)
class MakeRunSettings:
    workers: int
    threads: int
    worker_class: str
    keepalive: int

    def describe(self) -> str:
        return f"{self.worker_class}, {self.workers} workers × {self.threads} threads, keepalive {self.keepalive} s"


def make_run_settings() -> MakeRunSettings:
    """gunicorn.conf.py read as `make run` reads it: with no DOCBRIDGE_* variable set."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("DOCBRIDGE_")}
    code = (
        "import json, runpy; c = runpy.run_path('gunicorn.conf.py'); "
        "print(json.dumps({k: c[k] for k in ('workers', 'threads', 'worker_class', 'keepalive')}))"
    )
    completed = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, env=environment,
                               capture_output=True, text=True, timeout=30, check=True)
    return MakeRunSettings(**json.loads(completed.stdout))


# --- one side of a pair, and its runs --------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    wrk: WrkResult
    cpu_ms_per_request: float | None  # master + workers, when the side is a gunicorn server
    rss_growth_mib: float | None  # peak over idle, when sampled
    worker_cpu_seconds: dict[int, float]  # by worker pid, during the run


@dataclass
class Side:
    label: str
    url: str
    requests_lua: str = ""
    server: GunicornServer | None = None  # read its CPU time around each run
    sample_memory: bool = False
    body_bytes: int = 0  # a GET's answer body, to check what wrk read; 0: not checked
    runs: list[Measured] = field(default_factory=list)

    def measure(self, connections: int, seconds: int, failures: list[str]) -> Measured:
        server = self.server
        before = server_cpu_seconds(server) if server else {}
        with ExitStack() as stack:
            sampler = None
            if server and self.sample_memory:
                idle = server_rss_mib(server)
                sampler = stack.enter_context(PeakSampler(server, 0.05))
            result = run_wrk(self.url, connections=connections, seconds=seconds, requests_lua=self.requests_lua)
        cpu_ms = None
        workers: dict[int, float] = {}
        if server:
            after = server_cpu_seconds(server)
            spent = {pid: seconds_now - before.get(pid, 0.0) for pid, seconds_now in after.items()}
            workers = {pid: value for pid, value in spent.items() if pid != server.master_pid}
            cpu_ms = sum(spent.values()) / result.requests * 1000 if result.requests else None
        measured = Measured(result, cpu_ms, sampler.peak - idle if sampler else None, workers)
        self.runs.append(measured)
        self._check(measured.wrk, connections, failures)
        return measured

    def _check(self, result: WrkResult, connections: int, failures: list[str]) -> None:
        where = f"{self.label} at {connections} connection(s)"
        if result.requests == 0:
            failures.append(f"{where}: no request answered")
            return
        if result.status_errors:
            failures.append(f"{where}: {result.status_errors} answers with an error status")
        if any(result.socket_errors.values()):
            failures.append(f"{where}: socket errors {result.socket_errors}")
        if self.body_bytes:
            # wrk counts every byte it read: each answer's body and headers (< 1 KiB), and
            # the part of at most one answer per connection still coming when it stopped.
            least = result.requests * self.body_bytes
            most = (result.requests + connections) * (self.body_bytes + 1024)
            if not least <= result.bytes <= most:
                failures.append(f"{where}: {result.bytes} bytes read for {result.requests} answers of "
                                f"{self.body_bytes} bytes + headers")

    def median(self, value: Callable[[Measured], float | None]) -> float:
        values = [found for run in self.runs if (found := value(run)) is not None]
        return statistics.median(values) if values else float("nan")

    @property
    def rate(self) -> float:
        return self.median(lambda run: run.wrk.rate)

    @property
    def p50(self) -> float:
        return self.median(lambda run: run.wrk.p50_ms)

    @property
    def p99(self) -> float:
        return self.median(lambda run: run.wrk.p99_ms)

    @property
    def cpu_ms(self) -> float:
        return self.median(lambda run: run.cpu_ms_per_request)

    @property
    def requests(self) -> int:
        return sum(run.wrk.requests for run in self.runs)


@dataclass
class Pair:
    """A scenario: Docbridge against its limit, and reference servers shown beside them."""

    title: str
    connections: int
    docbridge: Side
    limit: Side
    references: list[Side] = field(default_factory=list)

    def sides(self) -> list[Side]:
        return [self.docbridge, self.limit, *self.references]


@dataclass
class Scenarios:
    check_file_info_1: Pair
    check_file_info_8: Pair
    get_1m: Pair
    get_100m: Pair
    put_1m: Pair

    def all(self) -> list[Pair]:
        """In the order of the rounds."""
        return [self.check_file_info_1, self.check_file_info_8, self.get_1m, self.get_100m, self.put_1m]


# --- the servers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Sources:
    one: Path  # 1 MiB
    hundred: Path  # 100 MiB
    digests: dict[Path, str]


@dataclass(frozen=True)
class Limits:
    nginx: NginxServer
    bare: GunicornServer
    durable: GunicornServer


def put_limit_requests(path: Callable[[int], str], method: str) -> list[Target]:
    """The limits' PUT rotation: the same headers as Docbridge's PutFile, over as many files."""
    return [
        Target(method, path(number), {"X-WOPI-Override": "PUT", "X-WOPI-Lock": f"bench-{number}"})
        for number in range(PUT_TARGETS)
    ]


def build_scenarios(server: GunicornServer, files: WopiFiles, limits: Limits, sources: Sources) -> Scenarios:
    check_file_info_bytes = len(requests.get(files.one.url, timeout=30).content)

    def check_file_info(connections: int, references: list[Side]) -> Pair:
        return Pair(
            f"CheckFileInfo, {connections} connection{'s' if connections > 1 else ''}",
            connections,
            Side("Docbridge", files.one.url, server=server, body_bytes=check_file_info_bytes),
            Side("bare Flask", f"{limits.bare.url}/wopi/files/get-1m", server=limits.bare, body_bytes=len(BARE_JSON)),
            references,
        )

    body = sources.one
    return Scenarios(
        check_file_info(1, []),
        check_file_info(8, [Side("nginx static JSON", f"{limits.nginx.url}/checkfileinfo.json", body_bytes=len(BARE_JSON))]),
        Pair(
            "GetFile 1 MiB, 4 connections",
            4,
            Side("Docbridge", files.one.contents, body_bytes=MIB),
            Side("nginx sendfile", f"{limits.nginx.url}/one.bin", body_bytes=MIB),
        ),
        Pair(
            "GetFile 100 MiB, 2 connections",
            2,
            Side("Docbridge", files.hundred.contents, server=server, sample_memory=True, body_bytes=100 * MIB),
            Side("nginx sendfile", f"{limits.nginx.url}/hundred.bin", body_bytes=100 * MIB),
        ),
        Pair(
            "PutFile 1 MiB on locked files, 4 connections",
            4,
            Side("Docbridge", server.url, rotating_requests_lua(files.put_requests(), body)),
            Side("durable PUT", limits.durable.url, rotating_requests_lua(
                put_limit_requests(lambda n: f"/wopi/files/put-1m-{n}/contents", "POST"), body)),
            [Side("nginx dav PUT", limits.nginx.url, rotating_requests_lua(
                put_limit_requests(lambda n: f"/dav/put-1m-{n}.bin", "PUT"), body))],
        ),
    )


def sha256_of(url: str, **arguments: Any) -> str:
    digest = hashlib.sha256()
    with requests.get(url, stream=True, timeout=300, **arguments) as response:
        response.raise_for_status()
        for piece in response.iter_content(MIB):
            digest.update(piece)
    return digest.hexdigest()


# --- one database: the rounds, the starvation series, the checks, the ONLYOFFICE pair --------


@dataclass
class Starvation:
    runs: int
    seconds: int
    docbridge: Side
    limit: Side


@dataclass
class Callback:
    size_mib: int
    saves: list[float]
    downloads: list[float]


@dataclass
class DatabaseResult:
    database: str
    scenarios: Scenarios
    starvation: Starvation
    callback: Callback
    checks: list[str]  # what was checked and held


def database_environment(database: str, pg_admin: str | None) -> dict[str, str]:
    if database == "sqlite":
        return {}
    assert pg_admin is not None
    return {"DOCBRIDGE_DATABASE_URL": create_database(pg_admin)}


def run_database(database: str, options: argparse.Namespace, settings: MakeRunSettings, limits: Limits,
                 sources: Sources, scratch: Path, pg_admin: str | None, failures: list[str]) -> DatabaseResult:
    print(f"== {DATABASES[database]}", flush=True)
    checks: list[str] = []
    data_dir = scratch / f"docbridge-{database}" / "data"
    environment = database_environment(database, pg_admin)
    with run_gunicorn(data_dir, workers=settings.workers, threads=settings.threads, extra_env=environment) as server:
        files = set_up_files(server, data_dir, sources.one, sources.hundred, put_targets=PUT_TARGETS,
                             extra_env=environment)
        scenarios = build_scenarios(server, files, limits, sources)
        versions_before = [target.current_version() for target in files.targets]
        for number in range(options.rounds):
            for pair in scenarios.all():
                for side in pair.sides():
                    run = side.measure(pair.connections, options.seconds, failures)
                    print(f"round {number + 1}: {pair.title}: {side.label}: {run.wrk.rate:.1f} req/s, "
                          f"p50 {run.wrk.p50_ms:.1f} ms, p99 {run.wrk.p99_ms:.1f} ms", flush=True)
                    time.sleep(options.pause)

        starvation = Starvation(
            options.starvation_runs, options.starvation_seconds,
            Side("Docbridge", files.one.url, server=server), Side("bare Flask", scenarios.check_file_info_1.limit.url, server=limits.bare),
        )
        for number in range(options.starvation_runs):
            for side in (starvation.docbridge, starvation.limit):
                run = side.measure(8, options.starvation_seconds, failures)
                print(f"starvation run {number + 1}: {side.label}: {run.wrk.rate:.1f} req/s", flush=True)
                time.sleep(options.pause)

        time.sleep(1)  # PUTs that wrk left in flight when it stopped are answered by now
        checks += check_bytes(files, limits, sources, scenarios.put_1m, versions_before, options.rounds, failures)

    callback = run_callback_pair(database, options, settings, scratch, pg_admin, checks, failures)
    return DatabaseResult(database, scenarios, starvation, callback, checks)


def check_bytes(files: WopiFiles, limits: Limits, sources: Sources, put_pair: Pair, versions_before: list[int],
                rounds: int, failures: list[str]) -> list[str]:
    """What the servers serve and hold equals the sources; every answered PutFile made a version."""
    one, hundred = sources.digests[sources.one], sources.digests[sources.hundred]
    served = {
        "Docbridge GetFile 1 MiB": (files.one.contents, one),
        "Docbridge GetFile 100 MiB": (files.hundred.contents, hundred),
        "nginx 1 MiB": (f"{limits.nginx.url}/one.bin", one),
        "nginx 100 MiB": (f"{limits.nginx.url}/hundred.bin", hundred),
    }
    for number, target in enumerate(files.targets):
        served[f"Docbridge PutFile target {number}"] = (target.contents, one)
        served[f"durable-PUT file {number}"] = (f"{limits.durable.url}/wopi/files/put-1m-{number}/contents", one)
        served[f"nginx dav file {number}"] = (f"{limits.nginx.url}/dav/put-1m-{number}.bin", one)
    for name, (url, expected) in served.items():
        if sha256_of(url) != expected:
            failures.append(f"{name}: the bytes differ from the source")

    bare = requests.get(f"{limits.bare.url}/wopi/files/get-1m", timeout=30)
    if bare.content != BARE_JSON:
        failures.append("bare Flask: the answer is not the fixed 400-byte JSON")
    info = requests.get(files.one.url, timeout=30).json()
    if (info.get("BaseFileName"), info.get("Size")) != ("get-1m.bin", MIB):
        failures.append(f"Docbridge CheckFileInfo: unexpected answer {info}")

    answered = put_pair.docbridge.requests
    added = sum(target.current_version() - before for target, before in zip(files.targets, versions_before, strict=True))
    # wrk stops with up to one request per connection in flight: the server may finish it.
    if not answered <= added <= answered + put_pair.connections * rounds:
        failures.append(f"Docbridge PutFile: {added} versions added for {answered} answered requests")
    return [
        "GetFile (Docbridge and nginx, 1 MiB and 100 MiB) returns the sources' bytes",
        f"each of the {PUT_TARGETS} PutFile targets, durable-PUT files and nginx dav files holds the 1 MiB body sent",
        f"{added} versions were added for {answered} PutFile answers",
        "every wrk answer of a GET had the expected size (body + headers)",
    ]


def run_callback_pair(database: str, options: argparse.Namespace, settings: MakeRunSettings, scratch: Path,
                      pg_admin: str | None, checks: list[str], failures: list[str]) -> Callback:
    """The ONLYOFFICE pair on its own Docbridge (configured for the stand-in), same database kind."""
    size = options.callback_mib * MIB
    http = http_session()
    data_dir = scratch / f"onlyoffice-{database}" / "data"
    with DocumentServerStandIn(SECRET) as ds:
        environment = {**onlyoffice_environment(ds, size), **database_environment(database, pg_admin)}
        with run_gunicorn(data_dir, workers=settings.workers, threads=settings.threads, extra_env=environment) as server:
            file_id = create_document(http, server.url)
            config = editor_config(open_editor(http, server.url, file_id))
            content = os.urandom(MIB) * options.callback_mib
            saves, downloads = saves_against_downloads(ds, config, content, options.saves)
            stored = sha256_of(f"{server.url}/api/v1/files/{file_id}/content", auth=("admin", ADMIN_PASSWORD))
            if stored != hashlib.sha256(content).hexdigest():
                failures.append("ONLYOFFICE callback save: the current version differs from the bytes saved")
    print(f"callback save {statistics.median(saves) * 1000:.0f} ms, plain download "
          f"{statistics.median(downloads) * 1000:.0f} ms", flush=True)
    checks.append(f"every callback save answered {{\"error\":0}} and the current version equals the {options.callback_mib} MiB saved")
    return Callback(options.callback_mib, saves, downloads)


# --- the report -------------------------------------------------------------------------------


def number(value: float, digits: int = 0) -> str:
    if value != value:  # NaN: nothing measured
        return "–"
    return f"{value:,.{digits}f}"


def rate_digits(value: float) -> int:
    return 1 if value < 100 else 0


def latency(side: Side) -> str:
    return f"{number(side.p50, 1)} / {number(side.p99, 1)}"


def per_round(sides: Sequence[Side], value: Callable[[Measured], float], digits: int = 0) -> str:
    return " · ".join(", ".join(number(value(run), digits) for run in side.runs) for side in sides)


def verdict(ratio: float, goal: float, at_least: bool) -> str:
    if ratio != ratio:
        return "–"
    return "yes" if (ratio >= goal if at_least else ratio <= goal) else "no"


def table(result: DatabaseResult) -> list[str]:
    lines = [
        "| scenario | Docbridge | limit | ratio | goal | met? | Docbridge p50 / p99 ms | limit p50 / p99 ms | per round (Docbridge · limit) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    scenarios = result.scenarios
    check_file_info = ((scenarios.check_file_info_1, 0.40), (scenarios.check_file_info_8, 0.50))
    for pair, goal in check_file_info:
        ratio = pair.docbridge.rate / pair.limit.rate
        lines.append(
            f"| {pair.title} | {number(pair.docbridge.rate)} req/s | {number(pair.limit.rate)} req/s ({pair.limit.label}) "
            f"| {ratio:.2f} | ≥ {goal:.2f} | {verdict(ratio, goal, True)} | {latency(pair.docbridge)} "
            f"| {latency(pair.limit)} | {per_round([pair.docbridge, pair.limit], lambda run: run.wrk.rate)} |"
        )
    for pair, _ in check_file_info:
        cpu = pair.docbridge.cpu_ms
        lines.append(
            f"| CPU per CheckFileInfo, {pair.connections} connection{'s' if pair.connections > 1 else ''} "
            f"(master + workers) | {number(cpu, 2)} ms | {number(pair.limit.cpu_ms, 2)} ms ({pair.limit.label}) "
            f"| {cpu / pair.limit.cpu_ms:.1f}× | ≤ 0.5 ms | {verdict(cpu, 0.5, False)} | | "
            f"| {per_round([pair.docbridge, pair.limit], lambda run: run.cpu_ms_per_request or float('nan'), 2)} |"
        )
    for reference in scenarios.check_file_info_8.references:
        lines.append(
            f"| {scenarios.check_file_info_8.title}: {reference.label} (reference) | | {number(reference.rate)} req/s | "
            f"{scenarios.check_file_info_8.docbridge.rate / reference.rate:.2f} | – | – | | {latency(reference)} "
            f"| {per_round([reference], lambda run: run.wrk.rate)} |"
        )
    for pair, goal in ((scenarios.get_1m, 0.50), (scenarios.get_100m, 0.90)):
        docbridge_mb, limit_mb = (side.median(lambda run: run.wrk.read_mb_per_second) for side in (pair.docbridge, pair.limit))
        ratio = docbridge_mb / limit_mb
        lines.append(
            f"| {pair.title} | {number(docbridge_mb)} MB/s | {number(limit_mb)} MB/s ({pair.limit.label}) "
            f"| {ratio:.2f} | ≥ {goal:.2f} | {verdict(ratio, goal, True)} | {latency(pair.docbridge)} "
            f"| {latency(pair.limit)} | {per_round([pair.docbridge, pair.limit], lambda run: run.wrk.read_mb_per_second)} |"
        )
    growth = [run.rss_growth_mib for run in scenarios.get_100m.docbridge.runs if run.rss_growth_mib is not None]
    highest = max(growth) if growth else float("nan")
    lines.append(
        f"| GetFile 100 MiB: peak RSS growth of master + workers | {number(highest, 1)} MiB (highest) | | | "
        f"< {FLAT_MEMORY_MIB:.0f} MiB (flat) | {verdict(highest, FLAT_MEMORY_MIB, False)} | | "
        f"| {', '.join(number(value, 1) for value in growth)} |"
    )
    put = scenarios.put_1m
    ratio = put.docbridge.rate / put.limit.rate
    digits = rate_digits(min(put.docbridge.rate, put.limit.rate))
    lines.append(
        f"| {put.title} | {number(put.docbridge.rate, digits)} req/s | {number(put.limit.rate, digits)} req/s "
        f"({put.limit.label}) | {ratio:.2f} | ≥ 0.80 | {verdict(ratio, 0.80, True)} | {latency(put.docbridge)} "
        f"| {latency(put.limit)} | {per_round([put.docbridge, put.limit], lambda run: run.wrk.rate, digits)} |"
    )
    p99_ratio = put.docbridge.p99 / put.limit.p99
    lines.append(
        f"| PutFile p99 | {number(put.docbridge.p99, 1)} ms | {number(put.limit.p99, 1)} ms ({put.limit.label}) "
        f"| {p99_ratio:.2f}× | ≤ 2× | {verdict(p99_ratio, 2.0, False)} | | "
        f"| {per_round([put.docbridge, put.limit], lambda run: run.wrk.p99_ms, 1)} |"
    )
    for reference in put.references:
        lines.append(
            f"| {put.title}: {reference.label} (reference, no fsync) | | {number(reference.rate, digits)} req/s "
            f"| {put.docbridge.rate / reference.rate:.2f} | – | – | | {latency(reference)} "
            f"| {per_round([reference], lambda run: run.wrk.rate, digits)} |"
        )
    callback = result.callback
    save, download = statistics.median(callback.saves) * 1000, statistics.median(callback.downloads) * 1000
    lines.append(
        f"| ONLYOFFICE callback save of {callback.size_mib} MiB (median of {len(callback.saves)}) | {number(save)} ms "
        f"| {number(download)} ms (plain download) | {save / download:.2f}× | ≤ 1.3× | {verdict(save / download, 1.3, False)} "
        f"| | | {', '.join(number(v * 1000) for v in callback.saves)} · {', '.join(number(v * 1000) for v in callback.downloads)} |"
    )
    starvation = result.starvation

    def spread(side: Side) -> tuple[float, float, float, float]:
        rates = [run.wrk.rate for run in side.runs]
        middle = statistics.median(rates)
        return min(rates), middle, max(rates), (max(rates) - min(rates)) / middle

    low, middle, high, docbridge_spread = spread(starvation.docbridge)
    limit_low, limit_middle, limit_high, limit_spread = spread(starvation.limit)
    lines.append(
        f"| CheckFileInfo, 8 keep-alive connections, {starvation.runs} runs of {starvation.seconds} s: spread (max − min) / median "
        f"| {number(low)} / {number(middle)} / {number(high)} req/s (min / median / max) | {number(limit_low)} / "
        f"{number(limit_middle)} / {number(limit_high)} req/s (bare Flask) | {docbridge_spread:.0%} (limit {limit_spread:.0%}) "
        f"| ≤ 20 % | {verdict(docbridge_spread, 0.20, False)} | | "
        f"| {per_round([starvation.docbridge, starvation.limit], lambda run: run.wrk.rate)} |"
    )
    return lines


def busiest_worker_shares(side: Side) -> list[float]:
    shares = []
    for run in side.runs:
        total = sum(run.worker_cpu_seconds.values())
        if total > 0:
            shares.append(max(run.worker_cpu_seconds.values()) / total)
    return shares


def machine_line(settings: MakeRunSettings, databases: Sequence[str], load_before: float, load_after: float) -> str:
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    versions = [
        f"Python {platform.python_version()}",
        f"gunicorn {importlib.metadata.version('gunicorn')}",
        f"Flask {importlib.metadata.version('flask')}",
        f"nginx {nginx_version()}",
        f"wrk {wrk_version()}",
    ]
    if "postgresql" in databases:
        versions.append(f"PostgreSQL {postgres_version()}")
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"**Machine.** {model}, {os.cpu_count()} cores, Linux {platform.release()}, {', '.join(versions)}; "
        f"gunicorn as `make run` sets it ({settings.describe()}) for Docbridge and both limit apps; "
        f"load average {load_before:.2f} at the start and {load_after:.2f} at the end; {date}."
    )


USAGE = (
    "`make bench-compare`, or `.venv/bin/python -m bench.compare [--rounds 3] [--seconds 10] "
    "[--database sqlite|postgresql|both] [--write]` (`bench/compare.py`; limit apps in `bench/limits/`)."
)
METHOD = (
    "**Method.** Everything listens on 127.0.0.1 and is started by the script: Docbridge as `make run` starts it "
    "(`gunicorn -c gunicorn.conf.py 'app:create_app()'`, local blobs, SQLite in WAL mode with `synchronous=FULL`, "
    "or PostgreSQL with fsync and synchronous commit on); the limit apps under the same `gunicorn.conf.py`: "
    "`bench/limits/bare_json.py` (Flask, a fixed 400-byte CheckFileInfo-shaped JSON) and "
    "`bench/limits/durable_put.py` (Flask: the body streamed to a temporary file, fsync, rename, fsync of the "
    "folder, 200); and nginx (2 worker processes, `sendfile on`) for the static JSON, the 1 MiB and 100 MiB "
    "files and a dav PUT location (no fsync). The WOPI files are made through Docbridge itself (`flask wopi "
    "test-file admin`, PutRelativeFile, Lock). Each run is `wrk -t1 -c<N> -d<S>s --timeout 10s --latency` with a "
    "Lua report (requests, duration, bytes, errors, p50, p99); PUTs rotate over four locked files (the limits get "
    "the same requests on four files of their own). The runs go round-robin (Docbridge, then its limit and the "
    "reference servers, then the next scenario) with {pause:g} s pauses; each figure is the median over the "
    "rounds, and the last column lists every round. MB/s counts every byte wrk read (10^6 bytes/s). CPU per "
    "request is utime + stime of the gunicorn master and workers (`/proc/<pid>/stat`) over the run, divided by "
    "the requests answered. Memory is sampled (VmRSS of master + workers, every 50 ms) only in Docbridge's "
    "100 MiB GetFile runs. Starvation: CheckFileInfo at 8 keep-alive connections, repeated, Docbridge and bare "
    "Flask alternately. The ONLYOFFICE pair runs on a second Docbridge configured for the Document Server "
    "stand-in of the test suite (in the benchmark's process): a forcesave callback of 100 MiB against a plain "
    "download of the same bytes from the same stand-in into an fsynced temporary file, interleaved. Client and "
    "servers share the machine's cores; only the ratios count. The script fails, and writes nothing, if any run "
    "has an error status or a socket error, or if a byte check fails."
)


def prose(text: str) -> str:
    """A paragraph wrapped as the rest of docs/benchmarks.md is."""
    return textwrap.fill(text, width=92, break_long_words=False, break_on_hyphens=False)


def render(results: list[DatabaseResult], options: argparse.Namespace, settings: MakeRunSettings,
           load_before: float, load_after: float, failures: Sequence[str]) -> str:
    lines = [
        SECTION,
        "",
        prose(USAGE),
        "",
        prose(METHOD.format(pause=options.pause)),
        "",
        prose(machine_line(settings, [result.database for result in results], load_before, load_after)),
        "",
    ]
    if options.rounds < 3 or options.seconds < 10:
        lines += [
            prose(f"**These figures come from a short validation run** ({options.rounds} "
                  f"round{'s' if options.rounds > 1 else ''} of {options.seconds} s per side, starvation "
                  f"{options.starvation_runs} × {options.starvation_seconds} s, {options.saves} callback "
                  f"save{'s' if options.saves > 1 else ''}): they show that the harness works end to end, not where "
                  "Docbridge stands (short runs are noisy; the load average above says how busy the machine was), "
                  "and are to be measured again with the defaults (3 rounds of 10 s) on an otherwise idle machine."),
            "",
        ]
    for result in results:
        shares = busiest_worker_shares(result.starvation.docbridge)
        lines += [
            f"### {DATABASES[result.database]}",
            "",
            *table(result),
            "",
            prose("Busiest worker's share of the workers' CPU in Docbridge's starvation runs: "
                  + (", ".join(f"{share:.0%}" for share in shares) or "–")
                  + f" ({settings.workers} workers; an even split is {1 / settings.workers:.0%})."),
            "",
            prose("Checks that held: 0 error statuses and 0 socket errors in every run; " + "; ".join(result.checks) + "."
                  if not failures else "Checks that FAILED (in the whole run): " + "; ".join(failures) + "."),
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"


def write_section(markdown: str, doc: Path = DOC) -> None:
    """Replace the section in `doc` (up to the next `## ` heading), or append it."""
    text = doc.read_text()
    start = text.find(SECTION + "\n")
    if start < 0:
        doc.write_text(text.rstrip() + "\n\n" + markdown)
        return
    end = text.find("\n## ", start + len(SECTION))
    rest = text[end + 1:] if end >= 0 else ""
    doc.write_text(text[:start] + markdown + ("\n" + rest if rest else ""))


# --- main ---------------------------------------------------------------------------------------


@contextmanager
def stopped_cleanly() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C, so every server started here is stopped."""

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10, help="per wrk run")
    parser.add_argument("--pause", type=float, default=2.0, help="seconds between runs")
    parser.add_argument("--starvation-runs", type=int, default=8)
    parser.add_argument("--starvation-seconds", type=int, default=5)
    parser.add_argument("--saves", type=int, default=5, help="ONLYOFFICE callback saves (and plain downloads)")
    parser.add_argument("--callback-mib", type=int, default=100)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--workers", type=int, help="another worker count than make run's, to compare models")
    parser.add_argument("--threads", type=int, help="another thread count than make run's, to compare models")
    parser.add_argument("--write", action="store_true", help=f"put the section into {DOC.relative_to(PROJECT_ROOT)}")
    options = parser.parse_args()
    if options.write and (options.workers or options.threads):
        parser.error("--write records make run's settings; drop --workers/--threads")
    if min(options.rounds, options.seconds, options.starvation_runs, options.starvation_seconds, options.saves) < 1:
        parser.error("counts and durations must be at least 1")
    databases = ["sqlite", "postgresql"] if options.database == "both" else [options.database]

    settings = make_run_settings()
    settings = replace(settings, workers=options.workers or settings.workers, threads=options.threads or settings.threads)
    failures: list[str] = []
    load_before = os.getloadavg()[0]
    with stopped_cleanly(), ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-compare-")))
        nginx = stack.enter_context(run_nginx(NGINX_LOCATIONS, http=NGINX_HTTP, worker_processes=2,
                                              prefix="bench-compare-nginx-"))
        (nginx.www / "dav").mkdir()
        (nginx.www / "checkfileinfo.json").write_bytes(BARE_JSON)
        one, hundred = nginx.www / "one.bin", nginx.www / "hundred.bin"
        sources = Sources(one, hundred, {one: make_source(one, MIB), hundred: make_source(hundred, 100 * MIB)})
        limits = Limits(
            nginx,
            stack.enter_context(run_gunicorn(scratch / "bare" / "data", workers=settings.workers, threads=settings.threads,
                                             app="bench.limits.bare_json:app")),
            stack.enter_context(run_gunicorn(scratch / "durable" / "data", workers=settings.workers,
                                             threads=settings.threads, app="bench.limits.durable_put:create_app()")),
        )
        pg_admin = stack.enter_context(postgres_cluster(durable=True)) if "postgresql" in databases else None
        results = [run_database(database, options, settings, limits, sources, scratch, pg_admin, failures)
                   for database in databases]
    markdown = render(results, options, settings, load_before, os.getloadavg()[0], failures)
    print()
    print(markdown)
    if failures:
        print("FAILED checks:", *failures, sep="\n  ", file=sys.stderr)
        raise SystemExit(1)
    if options.write:
        write_section(markdown)
        print(f"written to {DOC}")


if __name__ == "__main__":
    main()
