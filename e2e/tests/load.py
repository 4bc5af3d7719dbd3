"""Bounded HTTP load against a Service's cluster IP, from inside a test host's network namespace.

Cluster IPs exist only on the hosts (kube-proxy's rules), so the load runs as a process in one
host's netns (`ip netns exec`): the same path a client on a node takes. Each request opens a
new connection, so a request lands on whichever endpoint kube-proxy picks at that moment: that
is what a rollout must keep answering. It refuses any address outside the spec's service range,
and stops by itself after --seconds, or when the stop file appears.

    python -m e2e.tests.load --host 10.96.0.20 --path /healthz --threads 4 --seconds 300 \\
        --stop-file /tmp/stop --service-cidr 10.96.0.0/12
"""

from __future__ import annotations

import argparse
import http.client
import json
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from ipaddress import ip_address, ip_network
from pathlib import Path
from types import TracebackType


@dataclass
class LoadResult:
    sent: int = 0
    failures: list[str] = field(default_factory=list)


def _hammer(args: argparse.Namespace, result: LoadResult, lock: threading.Lock) -> None:
    started = time.monotonic()
    deadline = started + args.seconds
    stop = Path(args.stop_file)
    while time.monotonic() < deadline and not stop.exists():
        failure = None
        try:
            connection = http.client.HTTPConnection(args.host, args.port, timeout=10)
            connection.request("GET", args.path, headers={"Connection": "close"})
            response = connection.getresponse()
            response.read()
            connection.close()
            if response.status != 200:
                failure = f"HTTP {response.status}"
        except OSError as error:
            failure = f"{type(error).__name__}: {error}"
        with lock:
            result.sent += 1
            if failure:
                # When, from the load's start: what a test lines up with its own timeline.
                result.failures.append(f"t={time.monotonic() - started:.1f}s {failure}")
        if args.pause:
            time.sleep(args.pause)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, default=80)
    parser.add_argument("--path", required=True)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--pause", type=float, default=0.0)
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--stop-file", required=True)
    parser.add_argument("--service-cidr", required=True)
    args = parser.parse_args(argv)
    # Load goes only to the cluster's own service range: never off the host.
    if ip_address(args.host) not in ip_network(args.service_cidr):
        print(f"{args.host} is not in the service range {args.service_cidr}", file=sys.stderr)
        return 2
    result, lock = LoadResult(), threading.Lock()
    workers = [
        threading.Thread(target=_hammer, args=(args, result, lock), daemon=True)
        for _ in range(args.threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    print(
        json.dumps(
            {"sent": result.sent, "failures": result.failures[:50], "failed": len(result.failures)}
        )
    )
    return 0


class Load:
    """Run the load from a host's netns for the duration of a `with` block."""

    def __init__(
        self,
        netns: str,
        host: str,
        path: str,
        *,
        service_cidr: str,
        threads: int,
        pause: float = 0.0,
        max_seconds: float = 300.0,
        workdir: Path,
    ) -> None:
        self.stop_file = workdir / f"load-stop-{time.monotonic_ns()}"
        self.argv = [
            "ip", "netns", "exec", netns,
            sys.executable, "-m", "e2e.tests.load",
            "--host", host, "--path", path,
            "--threads", str(threads), "--pause", str(pause),
            "--seconds", str(max_seconds), "--stop-file", str(self.stop_file),
            "--service-cidr", service_cidr,
        ]  # fmt: skip
        self.max_seconds = max_seconds
        self.result = LoadResult()
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> Load:
        self._process = subprocess.Popen(
            self.argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parents[2],
        )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._process is not None
        self.stop_file.touch()
        out, err = self._process.communicate(timeout=self.max_seconds + 60)
        self.stop_file.unlink(missing_ok=True)
        if self._process.returncode != 0:
            raise RuntimeError(f"load generator exited {self._process.returncode}: {err[-500:]}")
        report = json.loads(out)
        self.result = LoadResult(sent=report["sent"], failures=report["failures"])
        self.failed = int(report["failed"])


if __name__ == "__main__":
    sys.exit(main())
