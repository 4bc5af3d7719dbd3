"""Bounded HTTP load against a Service's cluster IP on this machine (never any other address).

Each request opens a new connection, as a fresh client behind a Service would, so a request
lands on whichever endpoint kube-proxy picks at that moment: that is what a rollout must keep
answering. Every loop is bounded in time and stops by itself.
"""

from __future__ import annotations

import http.client
import threading
import time
from dataclasses import dataclass, field
from ipaddress import ip_address, ip_network
from types import TracebackType

from e2e.localcluster import settings


@dataclass
class LoadResult:
    sent: int = 0
    failures: list[str] = field(default_factory=list)


class Load:
    def __init__(
        self, host: str, path: str, *, threads: int, pause: float = 0.0, max_seconds: float = 300.0
    ) -> None:
        # Load goes only to this cluster's own service range: never off the machine.
        if ip_address(host) not in ip_network(settings.SERVICE_CIDR):
            raise ValueError(f"{host} is not a cluster IP of the local cluster")
        self.host, self.path, self.pause, self.max_seconds = host, path, pause, max_seconds
        self.result = LoadResult()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _run(self) -> None:
        deadline = time.monotonic() + self.max_seconds
        while not self._stop.is_set() and time.monotonic() < deadline:
            failure = None
            try:
                connection = http.client.HTTPConnection(self.host, 80, timeout=10)
                connection.request("GET", self.path, headers={"Connection": "close"})
                response = connection.getresponse()
                response.read()
                connection.close()
                if response.status != 200:
                    failure = f"HTTP {response.status}"
            except OSError as error:
                failure = f"{type(error).__name__}: {error}"
            with self._lock:
                self.result.sent += 1
                if failure:
                    self.result.failures.append(failure)
            if self.pause:
                time.sleep(self.pause)

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=15)
