"""The testbed's parts that need no root: benches from the spec, mirror, cache, sysctls, network
checks, the entrypoint's cgroup reading, and refusals that must come before anything changes."""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from testbed import sysctls
from testbed.bench import BenchLifecycle
from testbed.cache import KEEP_PER_KIND, cache_key, cached_entry
from testbed.errors import TestbedError, TestbedUnavailableError
from testbed.mirror import machine_mirror
from testbed.network import check_network_is_free
from testbed.nodes import machine_cgroups
from testbed.settings import CLUSTER_SPEC, Bench, Host, cluster_bench, hosts_bench

SOURCES = """\
Types: deb
URIs: http://mirror.invalid/debian-security
Suites: bookworm-security
Components: main

Types: deb-src
URIs: http://mirror.invalid/source
Suites: bookworm
Components: main

Types: deb
# a comment line inside the stanza
URIs: http://mirror.invalid/debian http://second.invalid/debian
Suites: bookworm bookworm-updates
Components: main
"""


def test_the_cluster_bench_is_the_specs_hosts_on_its_private_network() -> None:
    spec = yaml.safe_load(CLUSTER_SPEC.read_text())["spec"]
    bench = cluster_bench()
    assert [(h.name, h.address) for h in bench.hosts] == [
        (h["name"], h["address"]) for h in spec["hosts"]
    ]
    assert str(bench.network) == spec["network"]["privateCIDR"]
    assert f"{bench.machine_address}/32" in spec["network"]["adminCIDRs"]
    # The spec's offline sources point at what the machine serves on that bridge.
    assert spec["offline"]["aptSources"] == [f"deb [trusted=yes] {bench.http_url('debian/')} ./"]


def test_a_spec_whose_admins_exclude_the_machine_is_refused(tmp_path: Path) -> None:
    document = yaml.safe_load(CLUSTER_SPEC.read_text())
    document["spec"]["network"]["adminCIDRs"] = ["172.29.213.99/32"]
    document["spec"].pop("inventoryOverlay")
    spec = tmp_path / "cluster.yaml"
    spec.write_text(yaml.safe_dump(document))
    with pytest.raises(TestbedError, match=r"reaches the hosts from 172\.29\.213\.1"):
        cluster_bench(spec)


def test_the_two_benches_share_no_name_bridge_or_network() -> None:
    cluster, hosts = cluster_bench(), hosts_bench()
    assert cluster.bridge != hosts.bridge
    assert cluster.prefix != hosts.prefix
    assert not cluster.network.overlaps(hosts.network)
    assert cluster.run_dir != hosts.run_dir and cluster.lock_file != hosts.lock_file
    # Names the kernel accepts (15 characters) for the longest host name of either bench.
    for bench in (cluster, hosts):
        for index, host in enumerate(bench.hosts, start=1):
            assert len(bench.veth(index)) <= 15
            assert len(bench.netns(host)) <= 32


def test_mirror_is_the_first_deb_stanza_with_bookworm(tmp_path: Path) -> None:
    sources = tmp_path / "debian.sources"
    sources.write_text(SOURCES)
    mirror = machine_mirror(sources)
    assert mirror.uri == "http://mirror.invalid/debian"
    assert mirror.sources_text == SOURCES


def test_missing_or_unusable_sources_make_the_testbed_unavailable(tmp_path: Path) -> None:
    with pytest.raises(TestbedUnavailableError, match="missing"):
        machine_mirror(tmp_path / "absent.sources")
    only_security = tmp_path / "security.sources"
    only_security.write_text(SOURCES.split("\n\n")[0] + "\n")
    with pytest.raises(TestbedUnavailableError, match="no 'deb' stanza"):
        machine_mirror(only_security)


def test_cache_key_depends_on_content_not_on_order() -> None:
    assert cache_key({"a": 1, "b": [1, 2]}) == cache_key({"b": [1, 2], "a": 1})
    assert cache_key({"a": 1}) != cache_key({"a": 2})


def test_cached_entry_builds_once_and_keeps_a_bounded_history(tmp_path: Path) -> None:
    builds: list[str] = []

    def build(scratch: Path) -> None:
        builds.append(scratch.name)
        (scratch / "content").write_text("built")

    first, built = cached_entry(tmp_path, "thing-1", build)
    assert built
    assert (first / "content").read_text() == "built"
    again, built_again = cached_entry(tmp_path, "thing-1", build)
    assert (again, built_again) == (first, False)
    assert len(builds) == 1
    for key in range(2, 6):
        cached_entry(tmp_path, f"thing-{key}", build)
    assert len(list(tmp_path.glob("thing-*"))) == KEEP_PER_KIND + 1
    assert (tmp_path / "thing-5").is_dir()
    assert not list(tmp_path.glob(".building-*"))


def test_a_failed_build_leaves_no_entry(tmp_path: Path) -> None:
    def broken(scratch: Path) -> None:
        (scratch / "half").write_text("written")
        raise TestbedError("debootstrap failed")

    with pytest.raises(TestbedError):
        cached_entry(tmp_path, "rootfs-x", broken)
    assert not (tmp_path / "rootfs-x").exists()
    assert not list(tmp_path.glob(".building-*"))


def test_a_network_the_machine_already_routes_is_refused() -> None:
    routes = Path("/proc/net/route").read_text().splitlines()[1:]
    # The machine's own connected networks, read from the kernel: one of them must be refused.
    connected = [
        ipaddress.IPv4Network(
            (
                int.from_bytes(bytes.fromhex(fields[1]), "little"),
                bin(int.from_bytes(bytes.fromhex(fields[7]), "little")).count("1"),
            )
        )
        for fields in (line.split() for line in routes)
        if not fields[0].startswith("ksbr") and fields[1] != "00000000"
    ]
    if not connected:
        pytest.skip("the machine routes no network besides its default route")
    clash = Bench(
        name="clash",
        prefix="ksclash",
        bridge="ksbr9",
        network=ipaddress.IPv4Network(f"{connected[0].network_address}/24"),
        hosts=(Host("a", str(connected[0].network_address + 11)),),
        machine_ports=(),
    )
    with pytest.raises(TestbedError, match="overlaps the machine's route"):
        check_network_is_free(clash)


def test_down_refuses_a_run_folder_with_files_it_did_not_make(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("testbed.settings.STATE_ROOT", tmp_path)
    bench = hosts_bench()
    bench.run_dir.mkdir()
    keep = bench.run_dir / "notes.txt"
    keep.write_text("someone else's")
    with pytest.raises(TestbedError, match="holds files the testbed did not make"):
        BenchLifecycle(bench).down()
    assert keep.read_text() == "someone else's"


def test_a_bench_handed_on_is_taken_over_only_with_the_same_hosts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """`make e2e`'s first session hands its reset hosts to the second (testbed/fixtures.py)."""
    monkeypatch.setattr("testbed.settings.STATE_ROOT", tmp_path)
    # A name of its own: its lock is not the one a running e2e session holds.
    bench = replace(cluster_bench(CLUSTER_SPEC), name=f"handoff-{tmp_path.name}")
    bench.run_dir.mkdir()
    request.addfinalizer(lambda: bench.lock_file.unlink(missing_ok=True))
    first = BenchLifecycle(bench)
    assert first.handed_on() is None  # nothing up
    first.acquire()
    first.hand_on()
    names = [host.name for host in bench.hosts]
    assert first.handed_on() == names

    # A spec with other hosts (the conformance cluster's second worker) cannot take them.
    other = replace(bench, hosts=(*bench.hosts, Host("worker-2", "172.29.213.22")))
    with pytest.raises(TestbedError, match="not handed on with the hosts"):
        BenchLifecycle(other).take_over("pytest")

    second = BenchLifecycle(bench)
    hosts = second.take_over("pytest")
    second.release()
    assert [host.name for host in hosts.hosts] == names
    assert second.owner() == "pytest"
    assert second.handed_on() is None  # taken: no other session can take it again
    with pytest.raises(TestbedError, match="not handed on"):
        BenchLifecycle(bench).take_over("pytest")


def test_the_entrypoint_mounts_the_hierarchies_the_machine_has(tmp_path: Path) -> None:
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(
        "30 25 0:26 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755\n"
        "31 30 0:27 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
        "32 30 0:28 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
        "33 30 0:29 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
        "34 30 0:30 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
        "40 25 0:31 / /proc rw - proc proc rw\n"
    )
    assert machine_cgroups(mountinfo) == ("cpu cpuacct name=systemd", "unified")
    only_v2 = tmp_path / "v2"
    only_v2.write_text("30 25 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n")
    assert machine_cgroups(only_v2) == ("", "/")


def test_sysctls_put_back_what_changed_and_only_that(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    proc = tmp_path / "sys"
    (proc / "vm").mkdir(parents=True)
    (proc / "kernel").mkdir()
    (proc / "fs").mkdir()
    (proc / "vm/overcommit_memory").write_text("0\n")
    (proc / "kernel/panic").write_text("1\n")
    (proc / "kernel/ns_last_pid").write_text("100\n")
    read_only = proc / "kernel/osrelease"
    read_only.write_text("6.18\n")
    read_only.chmod(0o444)
    monkeypatch.setattr(sysctls, "PROC_SYS", proc)
    saved = tmp_path / "sysctls.json"
    sysctls.save(saved)
    # What a kubelet does to the machine, plus a counter that moves on its own.
    (proc / "vm/overcommit_memory").write_text("1\n")
    (proc / "kernel/ns_last_pid").write_text("250\n")
    assert sysctls.restore(saved) == ["vm.overcommit_memory=0"]
    assert (proc / "vm/overcommit_memory").read_text() == "0\n"
    assert (proc / "kernel/ns_last_pid").read_text() == "250\n"
    assert sysctls.restore(tmp_path / "absent.json") == []


def test_the_haproxy_spec_is_the_cluster_spec_but_for_its_endpoint() -> None:
    main = yaml.safe_load(CLUSTER_SPEC.read_text())
    haproxy = yaml.safe_load((CLUSTER_SPEC.parent / "cluster-haproxy.yaml").read_text())
    endpoint = haproxy["spec"]["kubernetes"].pop("controlPlaneEndpoint")
    main["spec"]["kubernetes"].pop("controlPlaneEndpoint")
    assert haproxy == main
    assert endpoint["provider"] == "haproxy-keepalived" and endpoint["port"] != 6443


def test_the_conformance_spec_is_the_cluster_spec_and_a_second_worker() -> None:
    main = yaml.safe_load(CLUSTER_SPEC.read_text())
    conformance = yaml.safe_load((CLUSTER_SPEC.parent / "cluster-conformance.yaml").read_text())
    added = [h for h in conformance["spec"]["hosts"] if h not in main["spec"]["hosts"]]
    assert [(h["name"], h["role"]) for h in added] == [("worker-2", "worker")]
    conformance["spec"]["hosts"].remove(added[0])
    assert conformance == main
