"""kube-prometheus-stack scrapes the control plane where the roles make it listen: the ports its
values name are the ones the firewall role opens for metrics, etcd's is the one the
control_plane role gives `listen-metrics-urls`, and the spec's default exposes them."""

from __future__ import annotations

import re

import yaml

from kubestead import render
from kubestead.spec.models import Kubernetes
from tests.gitops import support

ROLES = support.REPO / "ansible" / "roles"
VALUES = support.GITOPS / "platform" / "kube-prometheus-stack" / "values.yaml"
COMPONENTS = ("kubeEtcd", "kubeControllerManager", "kubeScheduler")


def test_the_monitored_ports_are_the_ones_the_roles_open_and_bind() -> None:
    values = yaml.safe_load(VALUES.read_text())
    firewall = yaml.safe_load((ROLES / "firewall" / "defaults" / "main.yml").read_text())
    opened = {rule["port"] for rule in firewall["firewall_control_plane_metrics_ports"]}
    monitored = set()
    for component in COMPONENTS:
        service = values[component]["service"]
        assert values[component]["enabled"] is True, component
        assert service["port"] == service["targetPort"], component
        monitored.add(str(service["targetPort"]))
    assert monitored == opened
    template = (ROLES / "control_plane" / "templates" / "kubeadm-config.yaml.j2").read_text()
    etcd = re.search(r'listen-metrics-urls: "http://\{\{ (\w+) \}\}:(\d+)"', template)
    assert etcd is not None and etcd.group(2) == str(values["kubeEtcd"]["service"]["targetPort"])
    assert values["kubeEtcd"]["serviceMonitor"]["scheme"] == "http"


def test_the_spec_default_lets_prometheus_reach_them() -> None:
    default = Kubernetes.model_fields["control_plane_metrics"].default
    assert render.METRICS_ADDRESSES[default] != "127.0.0.1"
