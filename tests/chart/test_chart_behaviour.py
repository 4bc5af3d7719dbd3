"""Behaviour of the rendered chart: what users and their security review rely on."""

from __future__ import annotations

import base64
import json
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

if TYPE_CHECKING:
    from tests.chart.conftest import ChartKit, Manifest

DB_URL = "postgresql+asyncpg://backend:s3cr3t-Pa55word@db.example:5432/notes"
HOOK = "helm.sh/hook"
WEIGHT = "helm.sh/hook-weight"
DELETE_POLICY = "helm.sh/hook-delete-policy"


def with_db(**extra: str) -> dict[str, str]:
    return {"database.url": DB_URL, **extra}


def containers(spec: Manifest) -> list[Manifest]:
    return [*spec.get("initContainers", []), *spec["containers"]]


def deployment(kit: ChartKit, docs: list[Manifest]) -> Manifest:
    return kit.find(docs, "Deployment")


# --- Deployment and HPA ------------------------------------------------------------


def test_no_replicas_while_the_hpa_is_on(kit: ChartKit) -> None:
    docs = kit.render([kit.ci("hpa")])
    assert "replicas" not in deployment(kit, docs)["spec"]
    hpa = kit.find(docs, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": deployment(kit, docs)["metadata"]["name"],
    }
    metrics = {m["resource"]["name"]: m["resource"]["target"] for m in hpa["spec"]["metrics"]}
    assert metrics["cpu"] == {"type": "Utilization", "averageUtilization": 60}
    assert metrics["memory"] == {"type": "Utilization", "averageUtilization": 80}
    assert hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] >= 300


def test_replicas_without_the_hpa(kit: ChartKit) -> None:
    docs = kit.render(sets=with_db(replicaCount="3"))
    assert deployment(kit, docs)["spec"]["replicas"] == 3
    assert "HorizontalPodAutoscaler" not in kit.kinds(docs)


def test_hpa_leaves_memory_out_by_default(kit: ChartKit) -> None:
    docs = kit.render(sets=with_db(**{"autoscaling.enabled": "true"}))
    hpa = kit.find(docs, "HorizontalPodAutoscaler")
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]
    assert hpa["spec"]["minReplicas"] == 2


def test_rolling_update_never_drops_below_the_wanted_count(kit: ChartKit) -> None:
    strategy = deployment(kit, kit.render())["spec"]["strategy"]
    assert strategy["type"] == "RollingUpdate"
    assert strategy["rollingUpdate"]["maxUnavailable"] == 0


def test_probes_and_ports(kit: ChartKit) -> None:
    app = deployment(kit, kit.render())["spec"]["template"]["spec"]["containers"][0]
    assert app["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]
    assert app["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert app["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert app["startupProbe"]["httpGet"]["path"] == "/healthz"


def test_resources_are_sized_from_the_measured_memory(kit: ChartKit) -> None:
    resources = deployment(kit, kit.render())["spec"]["template"]["spec"]["containers"][0][
        "resources"
    ]
    assert resources["requests"]["memory"] == "128Mi"
    assert resources["limits"]["memory"] == "256Mi"
    assert resources["requests"]["cpu"] == "100m"
    assert "cpu" not in resources["limits"]


def test_grace_period_is_derived_from_the_app_delays(kit: ChartKit) -> None:
    spec = deployment(kit, kit.render())["spec"]["template"]["spec"]
    env = kit.find(kit.render(), "ConfigMap")["data"]
    drain = int(env["BACKEND_DRAIN_DELAY_SECONDS"])
    shutdown = int(env["BACKEND_SHUTDOWN_TIMEOUT_SECONDS"])
    assert spec["terminationGracePeriodSeconds"] == drain + shutdown + 10 == 30
    spec = deployment(
        kit,
        kit.render(sets={"config.drainDelaySeconds": "10", "config.shutdownTimeoutSeconds": "40"}),
    )["spec"]["template"]["spec"]
    assert spec["terminationGracePeriodSeconds"] == 60


def test_a_grace_period_too_short_for_the_drain_is_refused(kit: ChartKit) -> None:
    error = kit.render_error({"terminationGracePeriodSeconds": "20"})
    assert "terminationGracePeriodSeconds" in error
    assert "config.drainDelaySeconds" in error
    assert "at least 25" in error
    assert "Traceback" not in error


def test_soft_topology_spread_across_nodes_and_zones(kit: ChartKit) -> None:
    docs = kit.render()
    spec = deployment(kit, docs)["spec"]["template"]["spec"]
    selector = deployment(kit, docs)["spec"]["selector"]["matchLabels"]
    spread = {c["topologyKey"]: c for c in spec["topologySpreadConstraints"]}
    assert set(spread) == {"kubernetes.io/hostname", "topology.kubernetes.io/zone"}
    for constraint in spread.values():
        assert constraint["whenUnsatisfiable"] == "ScheduleAnyway"
        assert constraint["labelSelector"] == {"matchLabels": selector}


def test_downward_api_env(kit: ChartKit) -> None:
    env = deployment(kit, kit.render())["spec"]["template"]["spec"]["containers"][0]["env"]
    fields = {e["name"]: e["valueFrom"]["fieldRef"]["fieldPath"] for e in env if "valueFrom" in e}
    assert fields["BACKEND_POD_NAME"] == "metadata.name"
    assert fields["BACKEND_POD_NAMESPACE"] == "metadata.namespace"


def test_image_by_tag_or_by_digest(kit: ChartKit) -> None:
    app = deployment(kit, kit.render())["spec"]["template"]["spec"]["containers"][0]
    assert app["image"] == "ghcr.io/kubestead/backend:0.1.0"
    docs = kit.render([kit.ci("digest")])
    spec = deployment(kit, docs)["spec"]["template"]["spec"]
    digest = yaml.safe_load(kit.ci("digest").read_text(encoding="utf-8"))["image"]["digest"]
    assert all(c["image"] == f"ghcr.io/kubestead/backend@{digest}" for c in containers(spec))
    assert spec["imagePullSecrets"] == [{"name": "ghcr-pull"}]


def test_a_malformed_digest_is_refused(kit: ChartKit) -> None:
    error = kit.render_error({"image.digest": "latest"})
    assert "image.digest" in error


def test_extension_points_reach_the_pod(kit: ChartKit) -> None:
    docs = kit.render([kit.ci("everything")])
    spec = deployment(kit, docs)["spec"]["template"]
    pod = spec["spec"]
    app = pod["containers"][0]
    assert spec["metadata"]["labels"]["example.com/tier"] == "api"
    assert spec["metadata"]["annotations"]["example.com/owner"] == "notes"
    assert {"name": "OTEL_SERVICE_NAME", "value": "notes"} in app["env"]
    assert {"configMapRef": {"name": "notes-feature-flags"}} in app["envFrom"]
    assert {"name": "ca", "configMap": {"name": "corporate-ca"}} in pod["volumes"]
    assert any(m["mountPath"] == "/etc/ssl/corporate" for m in app["volumeMounts"])
    assert pod["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert pod["tolerations"][0]["key"] == "dedicated"
    assert "nodeAffinity" in pod["affinity"]
    assert pod["priorityClassName"] == "notes-high"
    assert kit.find(docs, "ConfigMap")["data"]["BACKEND_READINESS_CACHE_SECONDS"] == "2"


# --- Security ----------------------------------------------------------------------


def test_every_pod_spec_is_restricted(kit: ChartKit, scenario: Path) -> None:
    """What Pod Security `restricted` demands, on the app, its init container, the
    migration Job and the test pod, in every scenario."""
    specs = kit.pod_specs(kit.render([scenario]))
    assert any(name.startswith("Pod/") for name, _ in specs), "the helm test pod is missing"
    for name, spec in specs:
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True, name
        for field in ("runAsUser", "runAsGroup", "fsGroup"):
            assert isinstance(pod[field], int) and pod[field] > 0, (name, field)
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec["automountServiceAccountToken"] is False, name
        for container in containers(spec):
            where = f"{name} container {container['name']}"
            ctx = container["securityContext"]
            assert ctx["runAsNonRoot"] is True, where
            assert isinstance(ctx["runAsUser"], int) and ctx["runAsUser"] > 0, where
            assert ctx["allowPrivilegeEscalation"] is False, where
            assert ctx["readOnlyRootFilesystem"] is True, where
            assert ctx["capabilities"] == {"drop": ["ALL"]}, where
            assert ctx["seccompProfile"] == {"type": "RuntimeDefault"}, where
            assert ctx.get("privileged", False) is False, where
            mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
            assert "/tmp" in mounts, f"{where}: no writable /tmp"
            volume = next(v for v in spec["volumes"] if v["name"] == mounts["/tmp"])
            assert "emptyDir" in volume, where
            assert "memory" in container["resources"]["limits"], where


def test_service_account_token_is_not_mounted(kit: ChartKit) -> None:
    account = kit.find(kit.render(), "ServiceAccount")
    assert account["automountServiceAccountToken"] is False


def test_service_links_cannot_shadow_the_apps_settings(kit: ChartKit) -> None:
    # A Service named `backend` would otherwise inject BACKEND_PORT=tcp://… into the pod.
    docs = kit.render()
    assert deployment(kit, docs)["spec"]["template"]["spec"]["enableServiceLinks"] is False


# --- Secrets -----------------------------------------------------------------------


def test_chart_made_secret_is_mounted_as_files(kit: ChartKit) -> None:
    docs = kit.render(sets=with_db())
    secret = kit.find(docs, "Secret", "backend")
    assert base64.b64decode(secret["data"]["database_url"]).decode() == DB_URL
    pod = deployment(kit, docs)["spec"]["template"]["spec"]
    volume = next(v for v in pod["volumes"] if v["name"] == "secrets")
    assert volume["secret"]["secretName"] == "backend"
    assert volume["secret"]["items"] == [{"key": "database_url", "path": "database_url"}]
    app = pod["containers"][0]
    mount = next(m for m in app["volumeMounts"] if m["name"] == "secrets")
    assert mount == {"name": "secrets", "mountPath": "/etc/backend/secrets", "readOnly": True}
    assert kit.find(docs, "ConfigMap")["data"]["BACKEND_SECRETS_DIR"] == "/etc/backend/secrets"


def test_existing_secret_is_referenced_verbatim(kit: ChartKit) -> None:
    docs = kit.render([kit.ci("existing-secret")])
    assert "Secret" not in kit.kinds(docs), "the chart must not make a Secret of its own"
    for name, spec in kit.pod_specs(docs):
        if name.startswith("Pod/"):
            continue
        volume = next(v for v in spec["volumes"] if v["name"] == "secrets")
        assert volume["secret"]["secretName"] == "notes-db-credentials", name
        # Only the configured key reaches the pod, under the file name the app reads.
        assert volume["secret"]["items"] == [{"key": "uri", "path": "database_url"}], name
    template = deployment(kit, docs)["spec"]["template"]
    assert "checksum/secret" not in template["metadata"]["annotations"]


def test_checksum_changes_when_a_secret_value_changes(kit: ChartKit) -> None:
    def checksums(url: str) -> dict[str, str]:
        docs = kit.render(sets={"database.url": url})
        annotations: dict[str, str] = deployment(kit, docs)["spec"]["template"]["metadata"][
            "annotations"
        ]
        return annotations

    first = checksums(DB_URL)
    second = checksums(DB_URL.replace("s3cr3t", "rotated"))
    assert first["checksum/secret"] != second["checksum/secret"]
    assert first["checksum/config"] == second["checksum/config"]
    assert checksums(DB_URL) == first, "the checksum must be stable for the same values"


def test_checksum_changes_when_a_setting_changes(kit: ChartKit) -> None:
    def checksum(level: str) -> str:
        docs = kit.render(sets={"config.logLevel": level})
        value: str = deployment(kit, docs)["spec"]["template"]["metadata"]["annotations"][
            "checksum/config"
        ]
        return value

    assert checksum("info") != checksum("debug")


def _without_secret_objects(docs: list[Manifest]) -> str:
    return yaml.safe_dump_all([d for d in docs if d["kind"] != "Secret"])


def test_secret_values_never_leave_the_secret(kit: ChartKit, tmp_path: Path) -> None:
    """The URL (and its password) appears in no env literal, annotation, ConfigMap or NOTES."""
    docs = kit.render([kit.ci("everything")], sets={"database.url": DB_URL})
    text = _without_secret_objects(docs)
    for needle in (DB_URL, "s3cr3t-Pa55word", base64.b64encode(DB_URL.encode()).decode()):
        assert needle not in text
    for _, spec in kit.pod_specs(docs):
        for container in containers(spec):
            for env in container.get("env", []):
                assert "s3cr3t" not in str(env.get("value", ""))
    notes = render_notes(kit, tmp_path, {"database.url": DB_URL})
    assert "s3cr3t" not in notes
    assert DB_URL not in notes


# --- Hooks and migrations ----------------------------------------------------------


def hooks(docs: list[Manifest]) -> dict[str, Manifest]:
    return {
        f"{d['kind']}/{d['metadata']['name']}": d
        for d in docs
        if HOOK in d["metadata"].get("annotations", {})
    }


def test_migration_hooks_are_ordered_and_cleaned_up(kit: ChartKit) -> None:
    docs = kit.render(sets=with_db())
    found = hooks(docs)
    job = found.pop("Job/backend-migrate")
    secret = found.pop("Secret/backend-migrate")
    policy = found.pop("NetworkPolicy/backend-migrate")
    test_pod = found.pop("Pod/backend-test")
    assert not found, f"unexpected hooks: {sorted(found)}"
    for hook in (job, secret, policy):
        annotations = hook["metadata"]["annotations"]
        assert annotations[HOOK] == "pre-install,pre-upgrade"
        assert set(annotations[DELETE_POLICY].split(",")) == {
            "before-hook-creation",
            "hook-succeeded",
        }
    # Helm runs hooks by ascending weight: what the Job reads must come first.
    job_weight = int(job["metadata"]["annotations"][WEIGHT])
    assert int(secret["metadata"]["annotations"][WEIGHT]) < job_weight
    assert int(policy["metadata"]["annotations"][WEIGHT]) < job_weight
    assert test_pod["metadata"]["annotations"][HOOK] == "test"


def test_migration_job_reads_only_what_exists_before_the_release(kit: ChartKit) -> None:
    """At pre-install the release's ConfigMap, Secret and ServiceAccount do not exist yet."""
    docs = kit.render(sets=with_db())
    job = kit.find(docs, "Job")
    spec = job["spec"]["template"]["spec"]
    release_objects = {
        d["metadata"]["name"] for d in docs if HOOK not in d["metadata"].get("annotations", {})
    }
    container = spec["containers"][0]
    assert container["args"] == ["migrate"]
    assert "envFrom" not in container
    assert "serviceAccountName" not in spec, "the chart's ServiceAccount is not there yet"
    secret_name = next(v for v in spec["volumes"] if v["name"] == "secrets")["secret"]["secretName"]
    assert secret_name == "backend-migrate"
    assert secret_name not in release_objects or secret_name in hooks(docs)
    env = {e["name"]: e.get("value") for e in container["env"]}
    config = kit.find(docs, "ConfigMap")["data"]
    for key, value in config.items():
        assert env[key] == value, f"the Job's {key} differs from the ConfigMap's"
    assert spec["restartPolicy"] == "Never"
    assert job["spec"]["backoffLimit"] == 2
    assert job["spec"]["ttlSecondsAfterFinished"] > 0
    assert job["spec"]["activeDeadlineSeconds"] > 0


def test_demo_mode_migrates_in_an_init_container_and_skips_the_job(kit: ChartKit) -> None:
    docs = kit.render()
    assert "Job" not in kit.kinds(docs)
    assert "Secret" not in kit.kinds(docs)
    spec = deployment(kit, docs)["spec"]["template"]["spec"]
    init = spec["initContainers"]
    assert [c["args"] for c in init] == [["migrate"]]
    data_dir = kit.find(docs, "ConfigMap")["data"]["BACKEND_DATA_DIR"]
    for container in [*init, *spec["containers"]]:
        mount = next(m for m in container["volumeMounts"] if m["mountPath"] == data_dir)
        volume = next(v for v in spec["volumes"] if v["name"] == mount["name"])
        assert "emptyDir" in volume
    assert "BACKEND_SECRETS_DIR" not in kit.find(docs, "ConfigMap")["data"]


def test_with_a_database_there_is_no_init_container(kit: ChartKit) -> None:
    spec = deployment(kit, kit.render(sets=with_db()))["spec"]["template"]["spec"]
    assert "initContainers" not in spec


@pytest.mark.parametrize(
    ("sets", "names"),
    [
        ({"replicaCount": "2"}, ["replicaCount", "database.url"]),
        ({"autoscaling.enabled": "true"}, ["autoscaling.enabled", "database.url"]),
    ],
)
def test_demo_mode_refuses_more_than_one_pod(
    kit: ChartKit, sets: dict[str, str], names: list[str]
) -> None:
    error = kit.render_error(sets)
    for name in names:
        assert name in error


# --- Values schema -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [
        ("imagee.tag", "1", "imagee"),
        ("image.tagg", "1", "tagg"),
        ("autoscaling.targetCPUUtilisationPercentage", "50", "targetCPUUtilisationPercentage"),
        ("networkPolicy.egress.databse.port", "5432", "databse"),
        ("ingress.hostz", "x", "hostz"),
    ],
)
def test_schema_refuses_a_misspelled_key_by_name(
    kit: ChartKit, key: str, value: str, named: str
) -> None:
    error = kit.render_error({key: value})
    assert "Additional property" in error
    assert named in error


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [
        ("replicaCount", "many", "replicaCount"),
        ("service.port", "99999", "port"),
        ("config.logLevel", "loud", "logLevel"),
        ("podDisruptionBudget.maxUnavailable", "half", "maxUnavailable"),
    ],
)
def test_schema_refuses_a_wrong_type_or_value_by_name(
    kit: ChartKit, key: str, value: str, named: str
) -> None:
    assert named in kit.render_error({key: value})


def chart_set_settings(kit: ChartKit) -> set[str]:
    """The BACKEND_* names the chart sets itself, read from the helpers that build them."""
    helpers = (kit.chart / "templates" / "_helpers.tpl").read_text(encoding="utf-8")
    names: set[str] = set()
    for helper in ("backend.configEnv", "backend.downwardEnv"):
        body = helpers.split(f'{{{{- define "{helper}" -}}}}', 1)[1].split("{{- end }}\n\n", 1)[0]
        names |= set(re.findall(r"\bBACKEND_([A-Z0-9_]+)\b", body))
    return names


def test_reserved_extra_names_are_the_charts_own_settings(kit: ChartKit) -> None:
    """The schema's list of refused config.extra names follows the helpers: a setting
    added there without the schema fails here."""
    schema = json.loads((kit.chart / "values.schema.json").read_text(encoding="utf-8"))
    names = schema["properties"]["config"]["properties"]["extra"]["propertyNames"]
    pattern = names["not"]["pattern"]
    match = re.fullmatch(r"\^\(\?i\)\(([A-Z0-9_|]+)\)\$", pattern)
    assert match, pattern
    settings = chart_set_settings(kit)
    assert {"HOST", "PORT", "DATA_DIR", "SECRETS_DIR", "POD_NAME"} <= settings
    assert set(match.group(1).split("|")) == settings | {"DATABASE_URL"}


@pytest.mark.parametrize(
    "name", ["DATABASE_URL", "database_url", "Database_Url", "SECRETS_DIR", "secrets_dir"]
)
def test_schema_refuses_a_secret_or_chart_setting_in_config_extra(kit: ChartKit, name: str) -> None:
    error = kit.render_error({f"config.extra.{name}": "postgresql://u:p@db/x"})
    assert f'config.extra: Property name of "{name}" does not match' in error
    assert "s3cr3t" not in error


def test_schema_refuses_every_chart_setting_in_config_extra(kit: ChartKit) -> None:
    for name in sorted(chart_set_settings(kit)):
        error = kit.render_error({f"config.extra.{name}": "1"})
        assert f'Property name of "{name}"' in error, name


def test_config_extra_still_takes_other_settings(kit: ChartKit) -> None:
    docs = kit.render(
        sets={"config.extra.READINESS_CACHE_SECONDS": "2", "config.extra.DATABASE_POOL": "x"}
    )
    data = kit.find(docs, "ConfigMap")["data"]
    assert data["BACKEND_READINESS_CACHE_SECONDS"] == "2"
    assert data["BACKEND_DATABASE_POOL"] == "x"


# --- Service, routing, selectors ---------------------------------------------------


def test_service_selects_only_the_server_pods(kit: ChartKit) -> None:
    docs = kit.render(sets=with_db())
    service = kit.find(docs, "Service")
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"][0]["name"] == "http"
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    selector = service["spec"]["selector"]
    assert selector == deployment(kit, docs)["spec"]["selector"]["matchLabels"]
    assert selector["app.kubernetes.io/name"] == "backend"
    assert selector["app.kubernetes.io/instance"] == "backend"
    for doc in docs:
        if doc["kind"] not in {"Job", "Pod"}:
            continue
        meta = doc["metadata"] if doc["kind"] == "Pod" else doc["spec"]["template"]["metadata"]
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        assert not selector.items() <= meta["labels"].items(), (
            f"the Service would send traffic to {name}"
        )


def test_ingress_with_tls(kit: ChartKit) -> None:
    ingress = kit.find(kit.render([kit.ci("ingress-tls")]), "Ingress")
    assert ingress["apiVersion"] == "networking.k8s.io/v1"
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt"
    assert ingress["spec"]["tls"] == [
        {"hosts": ["notes.example.com"], "secretName": "notes-example-com-tls"}
    ]
    path = ingress["spec"]["rules"][0]["http"]["paths"][0]
    assert path["backend"]["service"] == {"name": "backend", "port": {"name": "http"}}


def test_httproute_points_every_rule_at_the_service(kit: ChartKit) -> None:
    docs = kit.render([kit.ci("httproute")])
    assert "Ingress" not in kit.kinds(docs)
    route = kit.find(docs, "HTTPRoute")
    assert route["spec"]["parentRefs"][0]["name"] == "public"
    assert len(route["spec"]["rules"]) == 2
    for rule in route["spec"]["rules"]:
        assert rule["backendRefs"] == [{"name": "backend", "port": 80, "weight": 1}]


def test_optional_objects_are_off_by_default(kit: ChartKit) -> None:
    rendered = set(kit.kinds(kit.render()))
    assert rendered.isdisjoint(
        {"Ingress", "HTTPRoute", "HorizontalPodAutoscaler", "ServiceMonitor", "PrometheusRule"}
    )
    assert {
        "Deployment",
        "Service",
        "ConfigMap",
        "ServiceAccount",
        "PodDisruptionBudget",
        "NetworkPolicy",
    } <= rendered


# --- Availability and network ------------------------------------------------------


def test_pdb_allows_one_pod_down(kit: ChartKit) -> None:
    docs = kit.render([kit.ci("hpa")])
    pdb = kit.find(docs, "PodDisruptionBudget")
    assert pdb["spec"]["maxUnavailable"] == 1
    assert "minAvailable" not in pdb["spec"]
    assert (
        pdb["spec"]["selector"]["matchLabels"]
        == (deployment(kit, docs)["spec"]["selector"]["matchLabels"])
    )
    assert pdb["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow"


def test_network_policy_shape(kit: ChartKit) -> None:
    docs = kit.render(sets=with_db())
    policy = kit.find(docs, "NetworkPolicy", "backend")
    spec = policy["spec"]
    assert (
        spec["podSelector"]["matchLabels"]
        == (deployment(kit, docs)["spec"]["selector"]["matchLabels"])
    )
    assert sorted(spec["policyTypes"]) == ["Egress", "Ingress"]
    [rule] = spec["ingress"]
    assert rule["ports"] == [{"port": "http", "protocol": "TCP"}]
    namespaces = [
        p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for p in rule["from"]
        if "namespaceSelector" in p
    ]
    assert namespaces == ["ingress-nginx", "monitoring"]
    assert {
        "podSelector": {
            "matchLabels": {
                "app.kubernetes.io/instance": "backend",
                "app.kubernetes.io/component": "test",
            }
        }
    } in rule["from"], "helm test must reach the Service"
    dns, database = spec["egress"]
    assert {p["port"] for p in dns["ports"]} == {53}
    assert {p["protocol"] for p in dns["ports"]} == {"UDP", "TCP"}
    assert dns["to"][0]["podSelector"]["matchLabels"] == {"k8s-app": "kube-dns"}
    assert database["ports"] == [{"port": 5432, "protocol": "TCP"}]
    migrate = kit.find(docs, "NetworkPolicy", "backend-migrate")["spec"]
    assert migrate["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "migrations"
    assert migrate["ingress"] == []
    assert migrate["egress"] == spec["egress"]


def test_network_policy_is_configurable(kit: ChartKit) -> None:
    docs = kit.render([kit.ci("everything")])
    spec = kit.find(docs, "NetworkPolicy", "notes")["spec"]
    database = spec["egress"][1]
    assert database["ports"] == [{"port": 6432, "protocol": "TCP"}]
    assert database["to"] == [{"ipBlock": {"cidr": "10.20.0.0/16"}}]
    assert spec["egress"][2]["ports"] == [{"port": 4317, "protocol": "TCP"}]
    assert "NetworkPolicy" not in kit.kinds(kit.render([kit.ci("networkpolicy-off")]))


# --- Monitoring --------------------------------------------------------------------


def test_service_monitor_scrapes_the_http_port(kit: ChartKit) -> None:
    docs = kit.render([kit.ci("monitoring")])
    monitor = kit.find(docs, "ServiceMonitor")
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    [endpoint] = monitor["spec"]["endpoints"]
    assert endpoint["port"] == "http"
    assert endpoint["path"] == "/metrics"
    service = kit.find(docs, "Service")
    assert monitor["spec"]["selector"]["matchLabels"].items() <= (
        service["metadata"]["labels"].items()
    )


def test_prometheus_rule_has_burn_rate_alerts(kit: ChartKit) -> None:
    docs = kit.render([kit.ci("monitoring")])
    rule = kit.find(docs, "PrometheusRule")
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    alerts = {r["alert"]: r for g in rule["spec"]["groups"] for r in g["rules"]}
    for name in (
        "BackendErrorBudgetBurnFast",
        "BackendErrorBudgetBurnSlow",
        "BackendLatencyBudgetBurnFast",
        "BackendLatencyBudgetBurnSlow",
    ):
        alert = alerts[name]
        assert alert["labels"]["team"] == "notes"
        assert 'job="backend",namespace="backend"' in alert["expr"]
    assert "[1h]" in alerts["BackendErrorBudgetBurnFast"]["expr"]
    assert "[5m]" in alerts["BackendErrorBudgetBurnFast"]["expr"]
    assert "14.4 * (1 - 0.999)" in alerts["BackendErrorBudgetBurnFast"]["expr"]
    assert 'le="0.5"' in alerts["BackendLatencyBudgetBurnSlow"]["expr"]
    assert alerts["BackendErrorBudgetBurnFast"]["labels"]["severity"] == "critical"
    assert alerts["BackendErrorBudgetBurnSlow"]["labels"]["severity"] == "warning"


SLO_ALERTS = (
    "BackendErrorBudgetBurnFast",
    "BackendErrorBudgetBurnSlow",
    "BackendLatencyBudgetBurnFast",
    "BackendLatencyBudgetBurnSlow",
)
PROBES_OUT = 'route!~"/healthz|/readyz|/metrics"'


def rule_selectors(
    kit: ChartKit, sets: dict[str, str] | None = None, set_strings: dict[str, str] | None = None
) -> dict[str, list[tuple[str, str]]]:
    """Every series selector `metric{...}` of each alert of the PrometheusRule."""
    docs = kit.render([kit.ci("monitoring")], sets=sets, set_strings=set_strings)
    rule = kit.find(docs, "PrometheusRule")
    return {
        r["alert"]: re.findall(r"([a-z_]+)\{([^}]*)\}", r["expr"])
        for g in rule["spec"]["groups"]
        for r in g["rules"]
    }


def test_slo_alerts_leave_out_probe_and_scrape_traffic(kit: ChartKit) -> None:
    """/readyz answers 503 during every rollout's drain: probes must not burn the budget."""
    selectors = rule_selectors(kit)
    for name in SLO_ALERTS:
        assert len(selectors[name]) == 4, selectors[name]
        for metric, selector in selectors[name]:
            assert metric.startswith(("http_requests_total", "http_request_duration_seconds"))
            assert selector.startswith(f'job="backend",namespace="backend",{PROBES_OUT}'), (
                name,
                selector,
            )
    # `up` has no route label; the target-down alert keeps the plain selector.
    for metric, selector in selectors["BackendTargetDown"]:
        assert metric == "up"
        assert selector == 'job="backend",namespace="backend"'


def test_slo_route_exclusion_applies_to_a_custom_selector_and_can_be_turned_off(
    kit: ChartKit,
) -> None:
    custom = rule_selectors(
        kit,
        set_strings={
            "prometheusRule.selector": 'service="notes"',
            "prometheusRule.metrics.routeLabel": "handler",
            "prometheusRule.excludedRoutes": "/livez|/readyz",
        },
    )
    for name in SLO_ALERTS:
        for _, selector in custom[name]:
            assert selector.startswith('service="notes",handler!~"/livez|/readyz"'), selector
    everything = rule_selectors(kit, set_strings={"prometheusRule.excludedRoutes": ""})
    for name in SLO_ALERTS:
        for _, selector in everything[name]:
            assert "!~" not in selector, selector


# --- NOTES -------------------------------------------------------------------------


def render_notes(kit: ChartKit, tmp_path: Path, sets: dict[str, str]) -> str:
    """NOTES.txt rendered by helm's own engine. `helm template` leaves NOTES out and
    `helm install --dry-run` needs a cluster, so a copy of the chart wraps the same
    text in a define and prints it through a ConfigMap."""
    chart = tmp_path / "backend"
    shutil.copytree(kit.chart, chart)
    notes = (chart / "templates" / "NOTES.txt").read_text(encoding="utf-8")
    (chart / "templates" / "_zz_notes.tpl").write_text(
        '{{- define "test.notes" -}}\n' + notes + "\n{{- end }}\n", encoding="utf-8"
    )
    (chart / "templates" / "zz-notes.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\n"
        'data:\n  notes: {{ include "test.notes" . | quote }}\n',
        encoding="utf-8",
    )
    args = [
        "template",
        "backend",
        str(chart),
        "-n",
        "backend",
        "--show-only",
        "templates/zz-notes.yaml",
    ]
    for key, value in sets.items():
        args += ["--set", f"{key}={value}"]
    rendered: Any = yaml.safe_load(kit.helm(*args).stdout)
    notes_text: str = rendered["data"]["notes"]
    return notes_text


def test_notes_warn_about_demo_mode(kit: ChartKit, tmp_path: Path) -> None:
    notes = render_notes(kit, tmp_path, {})
    assert "demo mode, not for production" in notes
    assert "port-forward service/backend" in notes


def test_notes_tell_to_restart_after_an_existing_secret_changes(
    kit: ChartKit, tmp_path: Path
) -> None:
    notes = render_notes(kit, tmp_path, {"database.existingSecret.name": "db"})
    assert "demo mode" not in notes
    assert "rollout restart deployment/backend" in notes


def test_notes_warn_when_pod_security_is_opted_out(kit: ChartKit, tmp_path: Path) -> None:
    assert "podSecurityOptOut" not in render_notes(kit, tmp_path / "default", {})
    notes = render_notes(kit, tmp_path / "opted-out", {"podSecurityOptOut": "true"})
    assert "WARNING: podSecurityOptOut is on" in notes
    assert "namespace backend must allow" in notes
