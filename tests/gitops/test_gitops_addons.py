"""The add-ons fit together: the backend's route reaches the Gateway and gets a certificate,
its request ids are findable in Loki, Falco watches for shells and /etc writes, and the app
workflow finds the keys it writes."""

from __future__ import annotations

from typing import Any

import yaml

from tests.gitops import support

PLATFORM = support.GITOPS / "platform"


def values(add_on: str) -> Any:
    return support.load_all(PLATFORM / add_on / "values.yaml")[0]


def objects(path: str) -> dict[str, support.Manifest]:
    return {d["kind"] + "/" + d["metadata"]["name"]: d for d in support.load_all(PLATFORM / path)}


def test_the_app_workflow_finds_the_image_keys() -> None:
    """.github/workflows/app.yml writes .image.repository and .image.digest into this file."""
    image = yaml.safe_load(support.backend_values().read_text(encoding="utf-8"))["image"]
    assert set(image) == {"repository", "digest"}
    assert image["digest"] == "" or image["digest"].startswith("sha256:")


def test_the_backend_route_attaches_to_the_gateway_with_tls() -> None:
    route = next(o for o in support.render_backend_objects() if o["kind"] == "HTTPRoute")
    parent = route["spec"]["parentRefs"][0]
    gateway_objects = objects("envoy-gateway/manifests/gateway.yaml")
    gateway = gateway_objects[f"Gateway/{parent['name']}"]
    assert gateway["metadata"]["namespace"] == parent["namespace"]
    listener = next(x for x in gateway["spec"]["listeners"] if x["name"] == parent["sectionName"])
    assert listener["protocol"] == "HTTPS" and listener["tls"]["mode"] == "Terminate"
    assert listener["hostname"] in route["spec"]["hostnames"]
    selector = listener["allowedRoutes"]["namespaces"]["selector"]["matchLabels"]
    namespaces = {
        n["metadata"]["name"]: n
        for n in support.load_all(PLATFORM / "namespaces/manifests/namespaces.yaml")
    }
    assert selector.items() <= namespaces["backend"]["metadata"]["labels"].items()
    issuer = gateway["metadata"]["annotations"]["cert-manager.io/cluster-issuer"]
    assert f"ClusterIssuer/{issuer}" in objects("cert-manager/manifests/clusterissuers.yaml")
    assert values("cert-manager")["config"]["enableGatewayAPI"] is True
    gateway_class = gateway_objects[f"GatewayClass/{gateway['spec']['gatewayClassName']}"]
    assert (
        gateway_class["spec"]["controllerName"] == "gateway.envoyproxy.io/gatewayclass-controller"
    )


def test_the_backend_network_policy_lets_the_gateway_in() -> None:
    policy = next(
        o
        for o in support.render_backend_objects()
        if o["kind"] == "NetworkPolicy" and "ingress" in o["spec"]
    )
    peers = [p for rule in policy["spec"]["ingress"] for p in rule.get("from", [])]
    names = {
        p.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
        for p in peers
    }
    assert {"envoy-gateway-system", "monitoring"} <= names


def test_a_request_id_is_findable_in_loki() -> None:
    """Alloy parses the backend's JSON lines and keeps request_id as structured metadata (not a
    label: it is unbounded), and writes to the Loki gateway Grafana reads from."""
    config = values("alloy")["alloy"]["configMap"]["content"]
    assert 'request_id = "request_id"' in config
    assert "stage.structured_metadata" in config
    assert "loki.source.journal" in config
    loki_url = "http://loki-gateway.logging.svc"
    assert f'url = "{loki_url}/loki/api/v1/push"' in config
    sources = values("kube-prometheus-stack")["grafana"]["additionalDataSources"]
    assert [s["url"] for s in sources if s["type"] == "loki"] == [loki_url]
    assert support.application("loki").namespace == "logging"
    assert values("loki")["gateway"]["enabled"] is True


def test_falco_watches_shells_and_etc_writes() -> None:
    rules = yaml.safe_load(values("falco")["customRules"]["kubestead-rules.yaml"])
    by_name = {r["rule"]: r for r in rules if "rule" in r}
    shell = by_name["Kubestead shell in container"]["condition"]
    assert "spawned_process" in shell and "container" in shell
    etc = by_name["Kubestead write below etc"]["condition"]
    assert "open_write" in etc and "/etc/" in etc
    lists = {r["list"] for r in rules if "list" in r}
    assert {"kubestead_shell_binaries", "kubestead_etc_writers"} <= lists
