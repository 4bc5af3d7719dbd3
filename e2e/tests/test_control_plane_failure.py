"""A control plane lost under load: the one holding the API endpoint's address is powered off
(every process killed at once) while a client writes objects through the endpoint. The API must
answer again within seconds, every acknowledged write must survive, and the host must rejoin
(node Ready, its etcd member healthy) when it is powered on again."""

from __future__ import annotations

import itertools
import json
import subprocess
import threading
import time
from dataclasses import dataclass, field

import pytest

from e2e.tests.etcd import etcdctl
from e2e.tests.timings import TIMINGS
from testbed.cluster import RunningCluster

pytestmark = pytest.mark.slow
NS = "e2e-failover"


@dataclass
class Writer:
    """Creates ConfigMaps through the endpoint, one after another, noting what was acknowledged."""

    cluster: RunningCluster
    acknowledged: list[tuple[float, str]] = field(default_factory=list)
    errors: int = 0
    # Writes the API committed while their answer was lost with the failed host's connection:
    # the retry of the same name finds it there ("AlreadyExists"). Without this the writer
    # retried that name forever, and a working API looked dead (a CI run's 419 "failed" writes).
    committed_unanswered: list[str] = field(default_factory=list)
    last_error: str = ""  # kubectl's last line, for a failure's message
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        index = 0
        while not self._stop.is_set():
            name = f"write-{index:05d}"
            try:
                result = self.cluster.kubectl(
                    "-n", NS, "create", "configmap", name, f"--from-literal=index={index}",
                    "--request-timeout=5s",
                    check=False,
                )  # fmt: skip
                ok = result.returncode == 0
                if not ok and "(AlreadyExists)" in result.stderr:
                    self.committed_unanswered.append(name)
                    ok = True
                if not ok:
                    self.last_error = (result.stderr.strip().splitlines() or ["no output"])[-1]
            except subprocess.TimeoutExpired:
                ok = False
                self.last_error = "kubectl did not return"
            if ok:
                self.acknowledged.append((time.monotonic(), name))
                index += 1
            else:
                self.errors += 1
                time.sleep(0.2)

    def stop(self) -> None:
        self._stop.set()

    def longest_gap(self, since: float) -> float:
        """The longest time between two acknowledged writes after `since`."""
        times = [since] + [t for t, _ in self.acknowledged if t >= since]
        return max((b - a for a, b in itertools.pairwise(times)), default=0.0)


def endpoint_holder(cluster: RunningCluster) -> str:
    """The one host that holds the endpoint's address; the test fails on none or two."""
    holders = cluster.endpoint_holders()
    assert len(holders) == 1, f"the endpoint's address is held by {holders or 'no host'}"
    return holders[0]


def kube_vip_containers(cluster: RunningCluster, victim: str) -> dict[str, list[str]]:
    """Each surviving control plane's kube-vip containers: their state and restart attempt.

    A failed takeover's first suspect: a kube-vip that exits when it loses its lease is
    restarted by the kubelet with a growing back-off, and cannot take the address over.
    """
    found: dict[str, list[str]] = {}
    for host in cluster.hosts.hosts:
        if host.name == victim or not host.name.startswith("cp-"):
            continue
        listing = host.exec(["crictl", "ps", "-a", "--name", "kube-vip", "-o", "json"])
        try:
            containers = json.loads(listing.stdout)["containers"]
        except (ValueError, KeyError):
            found[host.name] = [f"crictl: {listing.stderr.strip()[-200:]}"]
            continue
        found[host.name] = [
            f"{c['state']} attempt {c['metadata'].get('attempt', 0)}" for c in containers
        ]
    return found


def test_losing_the_endpoint_holder_keeps_the_api_and_every_write(
    testbed_cluster: RunningCluster,
) -> None:
    testbed_cluster.kubectl("create", "namespace", NS)
    victim = testbed_cluster.hosts.host(endpoint_holder(testbed_cluster))
    writer = Writer(testbed_cluster)
    thread = threading.Thread(target=writer.run, daemon=True)
    thread.start()
    powered_off = measured = False
    try:
        time.sleep(10)
        assert writer.acknowledged, (
            f"no write acknowledged before the failure ({writer.errors} errors)"
        )
        cut = time.monotonic()
        victim.power_off()
        powered_off = True
        deadline = cut + 120
        while not any(t > cut + 1 for t, _ in writer.acknowledged):
            assert time.monotonic() < deadline, (
                f"the API did not answer within 120 s of powering off {victim.name}, the "
                f"endpoint holder ({writer.errors} failed writes, the last: "
                f"{writer.last_error!r}; holder now "
                f"{testbed_cluster.endpoint_holders() or 'none'}; kube-vip containers: "
                f"{kube_vip_containers(testbed_cluster, victim.name)})"
            )
            time.sleep(0.5)
        recovered = min(t for t, _ in writer.acknowledged if t > cut + 1)
        time.sleep(20)  # keep writing on the survivors
        gap = writer.longest_gap(cut)
        measured = True
    finally:
        writer.stop()
        thread.join(timeout=30)
        # The later modules need every host: a failure must not leave this one off.
        if powered_off and not measured:
            victim.power_on()
    TIMINGS[f"API gap after powering off {victim.name} (endpoint holder)"] = gap
    TIMINGS["first write acknowledged after the failure"] = recovered - cut
    TIMINGS["writes committed whose answer was lost (count)"] = len(writer.committed_unanswered)
    try:
        assert gap < 60, f"the API stopped answering for {gap:.1f} s"
        assert endpoint_holder(testbed_cluster) != victim.name
        stored = json.loads(
            testbed_cluster.kubectl("-n", NS, "get", "configmaps", "-o", "json").stdout
        )["items"]
        names = {item["metadata"]["name"] for item in stored}
        lost = [name for _, name in writer.acknowledged if name not in names]
        assert not lost, f"{len(lost)} acknowledged writes are gone: {lost[:5]}"
    finally:
        started = time.monotonic()
        victim.power_on()
    testbed_cluster.kubectl(
        "wait", "--for=condition=Ready", f"node/{victim.name}", "--timeout=600s"
    )
    deadline = time.monotonic() + 300
    while True:
        health = etcdctl(
            testbed_cluster, victim.name, "endpoint", "health", "--cluster", "-w", "json",
            check=False,
        )  # fmt: skip
        if health.returncode == 0 and sum(e["health"] for e in json.loads(health.stdout)) == 3:
            break
        assert time.monotonic() < deadline, f"etcd did not heal: {health.stdout}{health.stderr}"
        time.sleep(5)
    TIMINGS[f"{victim.name} powered on until Ready with a healthy etcd member"] = (
        time.monotonic() - started
    )
    testbed_cluster.kubectl("delete", "namespace", NS, "--wait=false", check=False)
