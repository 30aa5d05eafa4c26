"""Throughput and latency under gunicorn, with load from a separate process on loopback.

wrk is used when installed: it is written in C and does not compete with the
server for the GIL, so it measures the server rather than itself. Without it a
small threaded httpx generator stands in; its figures are lower and noisier,
and the results say which one produced them.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

import httpx

BASE_DIR = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # loopback only: the bench never listens on or calls anything else
STARTUP_TIMEOUT = 30.0


@dataclass
class LoadResult:
    """One page under load; latencies in milliseconds."""

    requests: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int  # non-2xx/3xx responses plus socket errors and timeouts


def load_generator() -> str:
    """Which generator measure() will use."""
    return "wrk" if shutil.which("wrk") else "python-httpx"


@dataclass(frozen=True)
class Server:
    url: str
    pid: int  # gunicorn's master process


@contextlib.contextmanager
def gunicorn(env: dict[str, str], port: int, workers: int = 2, timeout: int = 30) -> Iterator[Server]:
    """Run the app under gunicorn on loopback (sync workers, as in the Dockerfile); always stops it."""
    executable = Path(sys.executable).parent / "gunicorn"
    command = [
        str(executable),
        "config.wsgi:application",
        "--workers", str(workers),
        "--bind", f"{HOST}:{port}",
        "--timeout", str(timeout),
        "--graceful-timeout", "5",
    ]  # fmt: skip
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_until_listening(process, port, log)
            yield Server(url=f"http://{HOST}:{port}", pid=process.pid)
        finally:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def _wait_until_listening(process: subprocess.Popen[bytes], port: int, log: IO[str]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.5):
            return
        if process.poll() is not None or time.monotonic() > deadline:
            log.seek(0)
            raise RuntimeError(f"gunicorn did not start on {HOST}:{port}:\n{log.read()[-4000:]}")
        time.sleep(0.1)


def check_pages(base_url: str, cookie: str, paths: list[str], *, repeat: int = 10) -> None:
    """Every page must answer 200 for the session before it is loaded; this also warms the workers.

    Otherwise a lost session would silently measure the redirect to the login
    page, and the first requests of each worker (imports, template loading,
    database connections) would land in the trivial view's p99.
    """
    with httpx.Client(base_url=base_url, headers={"Cookie": cookie}, timeout=30) as client:
        for path in paths:
            for _ in range(repeat):
                response = client.get(path)
                if response.status_code != 200:
                    raise RuntimeError(f"GET {path} under gunicorn answered {response.status_code}, not 200.")


def measure(url: str, cookie: str, *, duration: int, connections: int) -> LoadResult:
    """Load one URL for `duration` seconds with `connections` concurrent connections (no cookie when empty)."""
    if load_generator() == "wrk":
        return _wrk(url, cookie, duration=duration, connections=connections)
    return _python(url, cookie, duration=duration, connections=connections)


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _wrk_time_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not match:
        raise ValueError(f"Unexpected wrk time {text!r}")
    return float(match[1]) * _UNITS_MS[match[2]]


def parse_wrk(output: str) -> LoadResult:
    """Requests, requests/s, p50 and p99 and errors from `wrk --latency` output."""
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, re.MULTILINE))
    requests = re.search(r"^\s*(\d+) requests in", output, re.MULTILINE)
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    if not (requests and rate and "50" in percentiles and "99" in percentiles):
        raise RuntimeError(f"Could not read wrk's output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = (int(non_2xx[1]) if non_2xx else 0) + (sum(map(int, socket_errors.groups())) if socket_errors else 0)
    return LoadResult(
        requests=int(requests[1]),
        requests_per_second=float(rate[1]),
        p50_ms=_wrk_time_ms(percentiles["50"]),
        p99_ms=_wrk_time_ms(percentiles["99"]),
        errors=errors,
    )


def _wrk(url: str, cookie: str, *, duration: int, connections: int) -> LoadResult:
    threads = max(1, min(connections, 2))
    command = [
        "wrk", "--latency",
        "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--timeout", "10s",
        *(["-H", f"Cookie: {cookie}"] if cookie else []),
        url,
    ]  # fmt: skip
    # wrk stops itself after `duration`; the timeout is a backstop should it hang.
    completed = subprocess.run(command, capture_output=True, text=True, timeout=duration + 30, check=True)
    return parse_wrk(completed.stdout)


def _python(url: str, cookie: str, *, duration: int, connections: int) -> LoadResult:
    """Fallback generator: one thread and connection each, until the deadline or a request cap."""
    max_requests_per_thread = 100_000
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.monotonic() + duration

    def worker() -> None:
        nonlocal errors
        mine: list[float] = []
        failed = 0
        with httpx.Client(headers={"Cookie": cookie} if cookie else {}, timeout=10) as client:
            while time.monotonic() < deadline and len(mine) + failed < max_requests_per_thread:
                start = time.perf_counter()
                try:
                    ok = client.get(url).status_code < 400
                except httpx.HTTPError:
                    ok = False
                if ok:
                    mine.append((time.perf_counter() - start) * 1000)
                else:
                    failed += 1
        with lock:
            latencies.extend(mine)
            errors += failed

    started = time.monotonic()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(duration + 30)
    elapsed = time.monotonic() - started
    if len(latencies) < 2:
        raise RuntimeError(f"The Python load generator got {len(latencies)} good responses from {url}.")
    cuts = statistics.quantiles(latencies, n=100)
    return LoadResult(
        requests=len(latencies) + errors,
        requests_per_second=len(latencies) / elapsed,
        p50_ms=cuts[49],
        p99_ms=cuts[98],
        errors=errors,
    )


def as_dict(result: LoadResult) -> dict[str, float | int]:
    return asdict(result)
