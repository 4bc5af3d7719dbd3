"""Which playbooks `apply` runs for a cluster state, and reading the probe's report."""

from __future__ import annotations

import pytest

from kubestead.errors import KubesteadError
from kubestead.plan import ClusterState, Step, plan
from kubestead.probe import state_from_reports

HOSTS = ["cp-1", "cp-2", "cp-3", "worker-1"]


def playbooks(steps: tuple[Step, ...]) -> list[str]:
    return [s.playbook for s in steps]


def test_cli_plan_installs_when_no_control_plane_is_initialised() -> None:
    result = plan("v1.30.3", HOSTS, ClusterState(version=None))
    assert playbooks(result.steps) == ["cluster.yml"]


def test_cli_plan_same_spec_twice_converges_only() -> None:
    result = plan("v1.30.3", HOSTS, ClusterState("v1.30.3", tuple(HOSTS)))
    assert playbooks(result.steps) == ["cluster.yml"]
    assert result.notes == ()


def test_cli_plan_new_host_joins() -> None:
    result = plan("v1.30.3", [*HOSTS, "worker-2"], ClusterState("v1.30.3", tuple(HOSTS)))
    assert playbooks(result.steps) == ["scale.yml"]
    assert result.steps[0].limit == "worker-2"


@pytest.mark.parametrize(("current", "target"), [("v1.30.3", "v1.30.5"), ("v1.30.3", "v1.31.0")])
def test_cli_plan_patch_or_next_minor_upgrades(current: str, target: str) -> None:
    result = plan(target, HOSTS, ClusterState(current, tuple(HOSTS)))
    assert playbooks(result.steps) == ["upgrade.yml"]
    assert result.steps[0].extravars == {}
    assert result.steps[0].limit is None


def test_cli_plan_upgrade_then_join() -> None:
    result = plan("v1.31.2", [*HOSTS, "worker-2"], ClusterState("v1.30.3", tuple(HOSTS)))
    assert playbooks(result.steps) == ["upgrade.yml", "scale.yml"]
    assert [s.limit for s in result.steps] == [None, "worker-2"]


def test_cli_plan_refuses_skipping_a_minor() -> None:
    with pytest.raises(KubesteadError) as caught:
        plan("v1.32.1", HOSTS, ClusterState("v1.30.3", tuple(HOSTS)))
    assert str(caught.value) == (
        "spec.kubernetes.version: v1.32.1 skips minors from v1.30.3 — kubeadm upgrades one "
        "minor at a time: apply v1.31.x first, then the next"
    )


@pytest.mark.parametrize("target", ["v1.30.2", "v1.29.9"])
def test_cli_plan_refuses_a_downgrade(target: str) -> None:
    with pytest.raises(KubesteadError, match="kubeadm cannot downgrade"):
        plan(target, HOSTS, ClusterState("v1.30.3", tuple(HOSTS)))


def test_cli_plan_notes_nodes_missing_from_the_spec() -> None:
    result = plan("v1.30.3", HOSTS, ClusterState("v1.30.3", (*HOSTS, "old-1")))
    assert playbooks(result.steps) == ["cluster.yml"]
    assert result.notes == (
        "node old-1 is in the cluster but not in spec.hosts — add it back, or remove it with "
        "`kubestead reset --host old-1`",
    )


# What kubectl prints for the kubeadm-config ConfigMap's ClusterConfiguration key (v1beta3).
CLUSTER_CONFIGURATION = """\
apiServer:
  extraArgs:
    authorization-mode: Node,RBAC
apiVersion: kubeadm.k8s.io/v1beta3
clusterName: prod
controlPlaneEndpoint: 10.0.0.10:6443
kind: ClusterConfiguration
kubernetesVersion: v1.30.3
networking:
  podSubnet: 10.244.0.0/16
"""


def test_cli_probe_reads_the_version_kubeadm_recorded() -> None:
    reports = [
        {"initialised": False, "cluster_configuration": "", "nodes": []},
        {
            "initialised": True,
            "cluster_configuration": CLUSTER_CONFIGURATION,
            "nodes": ["cp-1", "cp-2"],
        },
    ]
    assert state_from_reports(reports) == ClusterState("v1.30.3", ("cp-1", "cp-2"))


@pytest.mark.parametrize("flag", [False, "False", "false"])
def test_cli_probe_of_fresh_hosts_means_no_cluster(flag: object) -> None:
    reports = [{"initialised": flag, "cluster_configuration": "", "nodes": []}] * 3
    assert state_from_reports(reports) == ClusterState(version=None)


def test_cli_probe_without_a_version_is_an_error() -> None:
    with pytest.raises(KubesteadError, match="gives no kubernetesVersion"):
        state_from_reports([{"initialised": True, "cluster_configuration": "{", "nodes": []}])
