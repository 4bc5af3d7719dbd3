"""Hostile values: `helm template` refuses each class, naming the value and the fix.

One table, three classes of value a careless values file sends: what Pod Security
`restricted` refuses (unless `podSecurityOptOut` says so), what the API server would
refuse, and what would render and then break at run time. The inverse holds too: every
ci scenario, legitimate values at the edge of each rule, and the opt-out all render.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

if TYPE_CHECKING:
    from tests.chart.conftest import ChartKit

PASSWORD = "s3cr3t-Pa55word"
DB_URL = f"postgresql+asyncpg://backend:{PASSWORD}@db.example:5432/notes"
DB = {"database": {"url": DB_URL}}
OPT_OUT = "podSecurityOptOut"
PATHS = [{"path": "/", "pathType": "Prefix"}]


@dataclass(frozen=True)
class Hostile:
    """A values set the chart must refuse, and what its error must say."""

    values: dict[str, Any]
    # The value's path and the fix (or the rule), each a substring of helm's error.
    names: tuple[str, ...]
    # Breaks Pod Security `restricted`: with the opt-out it renders, and the upstream
    # admission library refuses the pods. False for the few the chart refuses beyond it.
    restricted: bool = False


def ingress(*hosts: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"ingress": {"enabled": True, "hosts": list(hosts), **extra}}


# --- Pod Security `restricted` ---------------------------------------------------------
RESTRICTED = {
    "privileged": Hostile(
        {"securityContext": {"privileged": True}},
        ("securityContext.privileged", OPT_OUT),
        restricted=True,
    ),
    "privilege-escalation": Hostile(
        {"securityContext": {"allowPrivilegeEscalation": True}},
        ("securityContext.allowPrivilegeEscalation", "false", OPT_OUT),
        restricted=True,
    ),
    "privilege-escalation-unset": Hostile(
        {"securityContext": {"allowPrivilegeEscalation": None}},
        ("securityContext.allowPrivilegeEscalation", OPT_OUT),
        restricted=True,
    ),
    "root-uid-container": Hostile(
        {"securityContext": {"runAsUser": 0}},
        ("securityContext.runAsUser", "root", "non-zero UID", OPT_OUT),
        restricted=True,
    ),
    "root-uid-pod": Hostile(
        {"podSecurityContext": {"runAsUser": 0}},
        ("podSecurityContext.runAsUser", "root", "non-zero UID", OPT_OUT),
        restricted=True,
    ),
    "run-as-root-allowed-pod": Hostile(
        {"podSecurityContext": {"runAsNonRoot": False}},
        ("podSecurityContext.runAsNonRoot", "true", OPT_OUT),
        restricted=True,
    ),
    "run-as-root-allowed-container": Hostile(
        {"securityContext": {"runAsNonRoot": False}},
        ("securityContext.runAsNonRoot", "true", OPT_OUT),
        restricted=True,
    ),
    "capability-added": Hostile(
        {"securityContext": {"capabilities": {"add": ["NET_ADMIN"]}}},
        ("securityContext.capabilities.add", "NET_ADMIN", OPT_OUT),
        restricted=True,
    ),
    "capabilities-kept": Hostile(
        {"securityContext": {"capabilities": {"drop": []}}},
        ("securityContext.capabilities.drop", "ALL", OPT_OUT),
        restricted=True,
    ),
    "seccomp-unconfined-container": Hostile(
        {"securityContext": {"seccompProfile": {"type": "Unconfined"}}},
        ("securityContext.seccompProfile.type", "RuntimeDefault", OPT_OUT),
        restricted=True,
    ),
    "seccomp-unconfined-pod": Hostile(
        {"podSecurityContext": {"seccompProfile": {"type": "Unconfined"}}},
        ("podSecurityContext.seccompProfile.type", "RuntimeDefault", OPT_OUT),
        restricted=True,
    ),
    "proc-mount-unmasked": Hostile(
        {"securityContext": {"procMount": "Unmasked"}},
        ("securityContext.procMount", OPT_OUT),
        restricted=True,
    ),
    "apparmor-unconfined": Hostile(
        {"securityContext": {"appArmorProfile": {"type": "Unconfined"}}},
        ("securityContext.appArmorProfile.type", OPT_OUT),
        restricted=True,
    ),
    "selinux-super-privileged": Hostile(
        {"securityContext": {"seLinuxOptions": {"type": "spc_t"}}},
        ("securityContext.seLinuxOptions.type", OPT_OUT),
        restricted=True,
    ),
    "windows-host-process": Hostile(
        {"securityContext": {"windowsOptions": {"hostProcess": True}}},
        ("securityContext.windowsOptions.hostProcess", OPT_OUT),
        restricted=True,
    ),
    "unsafe-sysctl": Hostile(
        {"podSecurityContext": {"sysctls": [{"name": "kernel.msgmax", "value": "65536"}]}},
        ("podSecurityContext.sysctls", "kernel.msgmax", OPT_OUT),
        restricted=True,
    ),
    "host-path-volume": Hostile(
        {
            "extraVolumes": [{"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}}],
            "extraVolumeMounts": [{"name": "docker", "mountPath": "/var/run/docker.sock"}],
        },
        ("extraVolumes[0]", "hostPath", OPT_OUT),
        restricted=True,
    ),
    "nfs-volume": Hostile(
        {"extraVolumes": [{"name": "share", "nfs": {"server": "nas", "path": "/"}}]},
        ("extraVolumes[0]", "nfs", "persistentVolumeClaim", OPT_OUT),
        restricted=True,
    ),
    "security-context-null": Hostile(
        {"securityContext": None},
        ("securityContext", "null", OPT_OUT),
        restricted=True,
    ),
    # The containers' own context would still pass `restricted`, but containers the chart
    # does not make (injected sidecars, `kubectl debug`) inherit only the pod's.
    "pod-security-context-null": Hostile(
        {"podSecurityContext": None},
        ("podSecurityContext", "null", OPT_OUT),
    ),
    # The schema has no such keys: the pods never share the node's namespaces or ports.
    "host-network": Hostile({"hostNetwork": True}, ("hostNetwork",)),
    "host-pid": Hostile({"hostPID": True}, ("hostPID",)),
    "host-ipc": Hostile({"hostIPC": True}, ("hostIPC",)),
    "host-port": Hostile({"hostPort": 8000}, ("hostPort",)),
    "security-context-unknown-field": Hostile(
        {"securityContext": {"runAsNonroot": True}}, ("securityContext", "runAsNonroot")
    ),
}

# --- What the API server would refuse ---------------------------------------------------
API_SERVER = {
    "memory-limit-below-request": Hostile(
        {"resources": {"limits": {"memory": "64Mi"}}},
        ("resources.limits.memory", "64Mi", "resources.requests.memory", "128Mi"),
    ),
    "cpu-limit-below-request": Hostile(
        {"resources": {"requests": {"cpu": "1"}, "limits": {"cpu": "500m"}}},
        ("resources.limits.cpu", "resources.requests.cpu"),
    ),
    "migration-limit-below-request": Hostile(
        {"migrations": {"resources": {"limits": {"memory": "100M"}}}},
        ("migrations.resources.limits.memory", "migrations.resources.requests.memory"),
    ),
    "test-pod-limit-below-request": Hostile(
        {"tests": {"resources": {"requests": {"memory": "1Gi"}}}},
        ("tests.resources.limits.memory", "tests.resources.requests.memory"),
    ),
    "cpu-quantity-with-space": Hostile(
        {"resources": {"requests": {"cpu": "100 m"}}}, ("resources.requests.cpu",)
    ),
    "cpu-quantity-words": Hostile(
        {"resources": {"requests": {"cpu": "one core"}}}, ("resources.requests.cpu",)
    ),
    "memory-quantity-megabytes": Hostile(
        {"resources": {"limits": {"memory": "256MB"}}}, ("resources.limits.memory",)
    ),
    "memory-quantity-lowercase": Hostile(
        {"migrations": {"resources": {"limits": {"memory": "256mi"}}}},
        ("migrations.resources.limits.memory",),
    ),
    "memory-quantity-negative": Hostile(
        {"tests": {"resources": {"requests": {"memory": "-16Mi"}}}},
        ("tests.resources.requests.memory",),
    ),
    "probe-without-handler": Hostile(
        {"livenessProbe": {"httpGet": None}},
        ("livenessProbe", "no handler", "exactly one of exec, grpc, httpGet, tcpSocket"),
    ),
    "startup-probe-without-handler": Hostile(
        {"startupProbe": {"httpGet": None, "periodSeconds": 5}},
        ("startupProbe", "no handler"),
    ),
    # Values merge with the defaults: a tcpSocket probe keeps the default httpGet.
    "probe-with-two-handlers": Hostile(
        {"livenessProbe": {"tcpSocket": {"port": "http"}}},
        ("livenessProbe", "httpGet, tcpSocket", "httpGet: null"),
    ),
    "readiness-probe-with-two-handlers": Hostile(
        {"readinessProbe": {"exec": {"command": ["true"]}}},
        ("readinessProbe", "exec, httpGet"),
    ),
    "liveness-probe-success-threshold": Hostile(
        {"livenessProbe": {"successThreshold": 2}},
        ("livenessProbe.successThreshold", "1"),
    ),
    "ingress-without-hosts": Hostile(ingress(), ("ingress.hosts",)),
    "ingress-empty-host": Hostile(ingress({"host": "", "paths": PATHS}), ("ingress.hosts.0.host",)),
    "ingress-without-paths": Hostile(
        ingress({"host": "notes.example.com", "paths": []}), ("ingress.hosts.0.paths",)
    ),
    "ingress-uppercase-host": Hostile(
        ingress({"host": "Notes.Example.com", "paths": PATHS}), ("ingress.hosts.0.host",)
    ),
    "ingress-host-with-scheme": Hostile(
        ingress({"host": "https://notes.example.com", "paths": PATHS}),
        ("ingress.hosts.0.host",),
    ),
    "ingress-host-underscore": Hostile(
        ingress({"host": "notes_api.example.com", "paths": PATHS}), ("ingress.hosts.0.host",)
    ),
    "ingress-host-ip-address": Hostile(
        ingress({"host": "10.0.0.1", "paths": PATHS}), ("ingress.hosts.0.host",)
    ),
    "ingress-tls-uppercase-host": Hostile(
        ingress(
            {"host": "notes.example.com", "paths": PATHS},
            tls=[{"secretName": "notes-tls", "hosts": ["NOTES.example.com"]}],
        ),
        ("ingress.tls.0.hosts.0",),
    ),
    "httproute-uppercase-hostname": Hostile(
        {"httpRoute": {"enabled": True, "hostnames": ["Notes.example.com"]}},
        ("httpRoute.hostnames.0",),
    ),
    "httproute-without-parent": Hostile(
        {"httpRoute": {"enabled": True, "parentRefs": []}}, ("httpRoute.parentRefs",)
    ),
}

# --- What renders and then breaks at run time -----------------------------------------
RUN_TIME = {
    "liveness-probe-removed": Hostile(
        {"livenessProbe": None}, ("livenessProbe", "null", "restore", "/healthz")
    ),
    "readiness-probe-removed": Hostile(
        {"readinessProbe": None}, ("readinessProbe", "null", "restore", "/readyz")
    ),
    "hpa-without-cpu-request": Hostile(
        {**DB, "autoscaling": {"enabled": True}, "resources": {"requests": {"cpu": None}}},
        ("autoscaling.enabled", "resources.requests.cpu", "set resources.requests.cpu"),
    ),
    "hpa-with-zero-cpu-request": Hostile(
        {**DB, "autoscaling": {"enabled": True}, "resources": {"requests": {"cpu": "0"}}},
        ("autoscaling.enabled", "resources.requests.cpu"),
    ),
    "hpa-memory-target-without-memory-request": Hostile(
        {
            **DB,
            "autoscaling": {"enabled": True, "targetMemoryUtilizationPercentage": 80},
            "resources": {"requests": {"memory": None}, "limits": {"memory": None}},
        },
        ("autoscaling.targetMemoryUtilizationPercentage", "resources.requests.memory"),
    ),
    "pdb-max-unavailable-zero": Hostile(
        {"podDisruptionBudget": {"maxUnavailable": 0}}, ("podDisruptionBudget.maxUnavailable",)
    ),
    "pdb-max-unavailable-zero-percent": Hostile(
        {"podDisruptionBudget": {"maxUnavailable": "0%"}},
        ("podDisruptionBudget.maxUnavailable",),
    ),
    "pdb-min-available": Hostile(
        {**DB, "replicaCount": 2, "podDisruptionBudget": {"minAvailable": 2}},
        ("minAvailable",),
    ),
    "scrape-timeout-above-interval": Hostile(
        {"serviceMonitor": {"enabled": True, "interval": "15s", "scrapeTimeout": "20s"}},
        ("serviceMonitor.scrapeTimeout", "20s", "serviceMonitor.interval", "15s"),
    ),
    "scrape-timeout-above-interval-mixed-units": Hostile(
        {"serviceMonitor": {"enabled": True, "interval": "1m", "scrapeTimeout": "1m500ms"}},
        ("serviceMonitor.scrapeTimeout", "serviceMonitor.interval"),
    ),
    "slo-threshold-between-buckets": Hostile(
        {"prometheusRule": {"enabled": True, "latencyThresholdSeconds": "0.3"}},
        ("prometheusRule.latencyThresholdSeconds", '"0.25"', '"0.5"'),
    ),
    "slo-threshold-spelled-differently": Hostile(
        {"prometheusRule": {"enabled": True, "latencyThresholdSeconds": "1"}},
        ("prometheusRule.latencyThresholdSeconds", '"1.0"'),
    ),
    "database-url-in-extra-env-value": Hostile(
        {"extraEnv": [{"name": "DB", "value": DB_URL}]},
        ("extraEnv[0]", "DB", "database.url", "database.existingSecret"),
    ),
    "database-url-name-in-extra-env": Hostile(
        {"extraEnv": [{"name": "DATABASE_URL", "value": "sqlite:///x.db"}]},
        ("extraEnv[0]", "DATABASE_URL", "database.url"),
    ),
    "database-url-from-secret-in-extra-env": Hostile(
        {
            "extraEnv": [
                {"name": "OTEL_SERVICE_NAME", "value": "notes"},
                {
                    "name": "BACKEND_DATABASE_URL",
                    "valueFrom": {"secretKeyRef": {"name": "db", "key": "url"}},
                },
            ]
        },
        ("extraEnv[1]", "BACKEND_DATABASE_URL", "database.existingSecret"),
    ),
    "credentials-url-in-extra-env": Hostile(
        {"extraEnv": [{"name": "CACHE", "value": f"redis://:{PASSWORD}@redis:6379/0"}]},
        ("extraEnv[0]", "CACHE", "secretKeyRef"),
    ),
    "database-url-in-config-extra": Hostile(
        {"config": {"extra": {"DB_DSN": DB_URL}}},
        ("config.extra.DB_DSN", "database.url"),
    ),
}

CASES = {**RESTRICTED, **API_SERVER, **RUN_TIME}


def write_values(tmp_path: Path, values: dict[str, Any], name: str = "values.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(values), encoding="utf-8")
    return path


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_hostile_values_are_refused_by_name(kit: ChartKit, case: Hostile, tmp_path: Path) -> None:
    error = kit.render_error({}, [write_values(tmp_path, case.values)])
    for name in case.names:
        assert name in error, f"{name!r} not in:\n{error}"
    assert PASSWORD not in error, "the error repeats a secret"
    assert "nil pointer" not in error and "Traceback" not in error


def test_every_problem_is_reported_at_once(kit: ChartKit, tmp_path: Path) -> None:
    values = {
        "securityContext": {"privileged": True},
        "livenessProbe": None,
        "resources": {"limits": {"memory": "64Mi"}},
        "extraVolumes": [{"name": "host", "hostPath": {"path": "/"}}],
    }
    error = kit.render_error({}, [write_values(tmp_path, values)])
    lines = [line for line in error.splitlines() if "values: " in line]
    for name in (
        "securityContext.privileged",
        "livenessProbe",
        "resources.limits.memory",
        "extraVolumes[0]",
    ):
        assert any(name in line for line in lines), f"{name} not reported:\n{error}"


# --- The inverse: what the chart still renders -----------------------------------------

OPTED_OUT = {name: case for name, case in RESTRICTED.items() if case.restricted}


@pytest.mark.parametrize("case", OPTED_OUT.values(), ids=OPTED_OUT.keys())
def test_the_opt_out_renders_what_restricted_refuses(
    kit: ChartKit, case: Hostile, tmp_path: Path
) -> None:
    """With `podSecurityOptOut: true` the chart renders the values as given, and the
    upstream admission library confirms that `restricted` refuses them: the rule is
    neither missing nor stricter than Pod Security."""
    hostile = write_values(tmp_path, {**DB, **case.values, OPT_OUT: True})
    manifest = tmp_path / "rendered.yaml"
    manifest.write_text(kit.render_text([hostile]), encoding="utf-8")
    code, verdicts = kit.psa_check(manifest)
    refused = {v["object"] for v in verdicts if not v["allowed"]}
    assert code == 1
    assert "Deployment/backend" in refused, json.dumps(verdicts, indent=2)


def test_the_opt_out_is_off_by_default_and_documented(kit: ChartKit) -> None:
    values = yaml.safe_load((kit.chart / "values.yaml").read_text(encoding="utf-8"))
    assert values[OPT_OUT] is False
    assert f"`{OPT_OUT}`" in (kit.chart / "README.md").read_text(encoding="utf-8")


def test_the_opt_out_must_be_a_boolean(kit: ChartKit) -> None:
    error = kit.render_error({OPT_OUT: "yes-please"})
    assert f"{OPT_OUT}: Invalid type. Expected: boolean" in error


def test_the_opt_out_renders_a_null_pod_security_context(kit: ChartKit, tmp_path: Path) -> None:
    values = write_values(tmp_path, {"podSecurityContext": None, OPT_OUT: True})
    spec = kit.find(kit.render([values]), "Deployment")["spec"]["template"]["spec"]
    assert not spec.get("securityContext")


def test_every_ci_scenario_renders(kit: ChartKit, scenario: Path) -> None:
    assert kit.find(kit.render([scenario]), "Deployment")


# Legitimate values at the edge of each rule: the checks must not refuse them.
ACCEPTED = {
    "limit-equal-to-request": {"resources": {"limits": {"memory": "128Mi", "cpu": "100m"}}},
    "quantities-in-other-notations": {
        "resources": {
            "requests": {"cpu": 0.1, "memory": 134217728},
            "limits": {"memory": "0.25Gi", "ephemeral-storage": "1e9"},
        }
    },
    "limit-without-request": {"resources": {"requests": {"cpu": None}, "limits": {"cpu": "2"}}},
    "tcp-probe-replacing-http": {
        "livenessProbe": {"httpGet": None, "tcpSocket": {"port": "http"}},
        "startupProbe": None,
    },
    "net-bind-service-and-localhost-seccomp": {
        "securityContext": {
            "capabilities": {"add": ["NET_BIND_SERVICE"]},
            "seccompProfile": {"type": "Localhost", "localhostProfile": "profiles/backend.json"},
        },
        "podSecurityContext": {
            "sysctls": [{"name": "net.ipv4.ip_local_port_range", "value": "1024 65000"}]
        },
    },
    "wildcard-ingress-host": ingress(
        {"host": "*.notes.example.com", "paths": PATHS},
        tls=[{"secretName": "notes-tls", "hosts": ["*.notes.example.com"]}],
    ),
    "hpa-with-a-cpu-limit-only": {
        **DB,
        "autoscaling": {"enabled": True},
        "resources": {"requests": {"cpu": None}, "limits": {"cpu": "1"}},
    },
    "pdb-percentage": {"podDisruptionBudget": {"maxUnavailable": "25%"}},
    "scrape-timeout-equal-to-interval": {
        "serviceMonitor": {"enabled": True, "interval": "1m", "scrapeTimeout": "60s"}
    },
    "slo-threshold-a-small-bucket": {
        "prometheusRule": {"enabled": True, "latencyThresholdSeconds": "0.025"}
    },
    "secret-env-from-a-secret": {
        "extraEnv": [
            {"name": "OTEL_HEADERS", "valueFrom": {"secretKeyRef": {"name": "otel", "key": "h"}}},
            {"name": "UPSTREAM", "value": "https://api.example.com/v1"},
        ]
    },
    "persistent-volume-claim": {
        "extraVolumes": [{"name": "cache", "persistentVolumeClaim": {"claimName": "cache"}}]
    },
}


@pytest.mark.parametrize("values", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_legitimate_values_at_the_edge_of_a_rule_render(
    kit: ChartKit, values: dict[str, Any], tmp_path: Path
) -> None:
    assert kit.find(kit.render([write_values(tmp_path, values)]), "Deployment")


def test_slo_thresholds_are_the_backends_histogram_buckets(kit: ChartKit) -> None:
    """The schema's thresholds are the `le` labels of app/src/backend/metrics.py's BUCKETS
    as prometheus_client writes them (repr of the float: 1.0, not 1)."""
    source = (kit.repo / "app" / "src" / "backend" / "metrics.py").read_text(encoding="utf-8")
    buckets = next(
        ast.literal_eval(node.value)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "BUCKETS" for t in node.targets)
    )
    schema = json.loads((kit.chart / "values.schema.json").read_text(encoding="utf-8"))
    threshold = schema["properties"]["prometheusRule"]["properties"]["latencyThresholdSeconds"]
    assert threshold["enum"] == [repr(float(b)) for b in buckets]
    values = yaml.safe_load((kit.chart / "values.yaml").read_text(encoding="utf-8"))
    assert values["prometheusRule"]["latencyThresholdSeconds"] in threshold["enum"]
