"""Read the probe playbook's report into a ClusterState."""

from __future__ import annotations

from typing import Any

import yaml

from kubestead.errors import KubesteadError
from kubestead.plan import ClusterState
from kubestead.runner import RunSummary

# The key probe.yml reports under with `set_stats`.
REPORT_KEY = "kubestead_probe"


def state_from_reports(reports: list[dict[str, Any]]) -> ClusterState:
    """One report per control plane (`set_stats` of probe.yml); any initialised one answers."""
    for report in reports:
        # The flag arrives as a bool or, depending on Ansible's templating, as its text.
        if str(report.get("initialised")).lower() not in ("true", "yes", "1"):
            continue
        text = str(report.get("cluster_configuration") or "")
        try:
            configuration = yaml.safe_load(text) if text else None
        except yaml.YAMLError:
            configuration = None
        version = (
            configuration.get("kubernetesVersion") if isinstance(configuration, dict) else None
        )
        if not isinstance(version, str):
            raise KubesteadError(
                "the cluster has /etc/kubernetes/admin.conf but its kubeadm-config ConfigMap "
                "gives no kubernetesVersion — check the API server with `kubestead status`"
            )
        nodes = tuple(str(n) for n in report.get("nodes") or [])
        return ClusterState(version=version, nodes=nodes)
    return ClusterState(version=None)


def state_from_summary(summary: RunSummary) -> ClusterState:
    # One unanswered control plane could be the only initialised one: planning an install
    # on top of a running cluster is the mistake to rule out, so every one must answer.
    if summary.failures:
        problems = "; ".join(f.render() for f in summary.failures)
        raise KubesteadError(
            f"cannot read the cluster's state: {problems} — apply needs an answer from every "
            "control plane: fix that host (spec.ssh, the host itself) and run apply again"
        )
    reports = summary.host_reports(REPORT_KEY)
    if not reports:
        hosts = ", ".join(f.render() for f in summary.failures) or "no control plane answered"
        raise KubesteadError(
            f"cannot read the cluster's state: {hosts} — check spec.ssh and that the control "
            "planes are up"
        )
    return state_from_reports(reports)
