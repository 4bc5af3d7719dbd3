"""AppProjects give least privilege, every Application stays inside its project, and the sync
waves order the tree (docs/adr/0018)."""

from __future__ import annotations

import fnmatch
import re

import yaml

from tests.gitops import support


def expand_braces(pattern: str) -> list[str]:
    match = re.fullmatch(r"\{(.*)\}", pattern)
    return match.group(1).split(",") if match else [pattern]


def test_there_are_three_projects_and_no_wildcards() -> None:
    projects = support.projects()
    assert set(projects) == {"bootstrap", "platform", "apps"}
    for name, project in projects.items():
        spec = project["spec"]
        assert spec["sourceRepos"], name
        assert all("*" not in repo for repo in spec["sourceRepos"]), name
        for dest in spec["destinations"]:
            assert "*" not in dest.get("namespace", "*"), (name, dest)
            assert "*" not in dest.get("server", "*"), (name, dest)
            assert dest["server"] == "https://kubernetes.default.svc", (name, dest)
        for entry in spec.get("clusterResourceWhitelist", []):
            assert "*" not in (entry["group"], entry["kind"]), (name, entry)
        for entry in spec.get("namespaceResourceWhitelist", []):
            assert "*" not in (entry["group"], entry["kind"]), (name, entry)


def test_the_apps_project_is_apart_from_the_platform() -> None:
    projects = support.projects()
    apps, platform = projects["apps"]["spec"], projects["platform"]["spec"]
    assert apps["sourceRepos"] == [support.GIT_REPO_URL]
    assert apps["clusterResourceWhitelist"] == []
    app_namespaces = {d["namespace"] for d in apps["destinations"]}
    platform_namespaces = {d["namespace"] for d in platform["destinations"]}
    assert app_namespaces == {"backend"}
    assert not app_namespaces & platform_namespaces
    bootstrap = projects["bootstrap"]["spec"]
    assert bootstrap["clusterResourceWhitelist"] == []
    assert {(e["group"], e["kind"]) for e in bootstrap["namespaceResourceWhitelist"]} == {
        ("argoproj.io", "Application"),
        ("argoproj.io", "AppProject"),
    }


def test_every_application_stays_inside_its_project() -> None:
    projects = support.projects()
    for app in support.applications():
        assert app.project in projects, f"{app.name}: no project {app.project}"
        spec = projects[app.project]["spec"]
        for source in app.sources:
            assert source.repo_url in spec["sourceRepos"], (app.name, source.repo_url)
        allowed = {(d["server"], d["namespace"]) for d in spec["destinations"]}
        dest = app.raw["spec"]["destination"]
        assert (dest["server"], dest["namespace"]) in allowed, (app.name, dest)
        folder = app.file.relative_to(support.GITOPS).parts[0]
        expected = {"apps": "apps", "platform": "platform", "bootstrap": None}[folder]
        if expected:
            assert app.project == expected, f"{app.name} in {folder}/ must use project {expected}"


def test_the_apps_project_allows_exactly_what_the_backend_needs() -> None:
    whitelist = {
        (e["group"], e["kind"])
        for e in support.projects()["apps"]["spec"]["namespaceResourceWhitelist"]
    }
    objects = [*support.render_backend_objects()]
    objects += [
        d for p in (support.GITOPS / "apps").rglob("manifests/*.yaml") for d in support.load_all(p)
    ]
    needed = {(o["apiVersion"].rpartition("/")[0], o["kind"]) for o in objects}
    # The chart's helm-test Pod is not applied by Argo CD, but `helm test` may run it.
    needed.add(("", "Pod"))
    assert needed <= whitelist, f"not allowed: {sorted(needed - whitelist)}"
    assert whitelist <= needed, f"allowed but unused: {sorted(whitelist - needed)}"


def test_cluster_scoped_objects_in_git_are_whitelisted_for_the_platform() -> None:
    whitelist = {
        (e["group"], e["kind"])
        for e in support.projects()["platform"]["spec"]["clusterResourceWhitelist"]
    }
    cluster_kinds = {"Namespace", "StorageClass", "ClusterIssuer", "ClusterPolicy", "GatewayClass"}
    seen = set()
    for path, obj in support.all_objects():
        if obj["kind"] in cluster_kinds:
            assert "platform" in path.parts, f"{obj['kind']} outside platform/: {path}"
            seen.add((obj["apiVersion"].rpartition("/")[0], obj["kind"]))
    assert seen == {
        ("", "Namespace"),
        ("storage.k8s.io", "StorageClass"),
        ("cert-manager.io", "ClusterIssuer"),
        ("kyverno.io", "ClusterPolicy"),
        ("gateway.networking.k8s.io", "GatewayClass"),
    }
    assert seen <= whitelist


def test_the_cni_is_never_managed_by_argo_cd() -> None:
    """The CNI is Ansible's (ansible/roles/cni): no object or value here names it, and no
    Application deploys into kube-system (kube-prometheus-stack's chart puts only headless
    Services for the control-plane targets there)."""
    for path in support.yaml_files():
        text = yaml.safe_dump_all(support.load_all(path)).lower()
        for cni in ("kube-router", "cloudnativelabs", "calico", "tigera", "cilium"):
            assert cni not in text, f"{path} names the CNI ({cni})"
    into_kube_system = {a.name for a in support.applications() if a.namespace == "kube-system"}
    assert into_kube_system == set()
    for path, obj in support.all_objects():
        assert obj["metadata"].get("namespace") != "kube-system", path


def test_the_root_application_picks_up_every_application_and_project() -> None:
    root = support.application("root")
    directory = root.raw["spec"]["source"]["directory"]
    assert directory["recurse"] is True
    patterns = expand_braces(directory["include"])
    picked = set()
    for path in support.yaml_files():
        rel = str(path.relative_to(support.GITOPS))
        if any(fnmatch.fnmatch(rel, p) for p in patterns):
            picked.add(rel)
    wanted = set()
    for path, obj in support.all_objects():
        rel = str(path.relative_to(support.GITOPS))
        if obj["kind"] in {"Application", "AppProject"} and obj["metadata"]["name"] != "root":
            wanted.add(rel)
    assert picked == wanted


def test_sync_waves_order_the_tree() -> None:
    wave = {a.name: a.wave for a in support.applications()}
    project_waves = {
        int(p["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
        for p in support.projects().values()
    }
    assert max(project_waves) < wave["namespaces"] < wave["prometheus-operator-crds"]
    platform = [a for a in support.applications() if a.project == "platform"]
    first = {"namespaces", "prometheus-operator-crds"}
    assert all(
        wave[a.name] > wave["prometheus-operator-crds"] for a in platform if a.name not in first
    )
    # Each add-on's own objects come after its chart (CRDs and webhooks first).
    for chart, config in [
        ("longhorn", "longhorn-config"),
        ("cert-manager", "cert-manager-config"),
        ("kyverno", "kyverno-policies"),
        ("velero", "velero-schedules"),
        ("envoy-gateway", "gateway"),
        ("kube-prometheus-stack", "monitoring-dashboards"),
    ]:
        assert wave[config] > wave[chart], (chart, config)
    # Prometheus and Loki store on Longhorn; the Gateway's certificate needs cert-manager;
    # Alloy ships to Loki; OpenCost reads Prometheus.
    assert wave["kube-prometheus-stack"] > wave["longhorn-config"]
    assert wave["loki"] > wave["longhorn-config"]
    assert wave["gateway"] > wave["cert-manager-config"]
    assert wave["alloy"] > wave["loki"]
    assert wave["opencost"] > wave["kube-prometheus-stack"]
    # The apps come last, their Secret before the chart.
    assert wave["backend"] > wave["backend-config"] > max(wave[a.name] for a in platform)


def test_argo_cd_waits_for_application_health() -> None:
    """Sync waves between Applications only wait if an Application has a health status."""
    values = support.load_all(support.GITOPS / "bootstrap/argocd-values.yaml")[0]
    lua = values["configs"]["cm"]["resource.customizations.health.argoproj.io_Application"]
    assert "obj.status.health.status" in lua


def test_the_backend_is_rendered_as_the_tests_render_it() -> None:
    """support.render_backend uses --skip-tests and the production values: so must Argo CD."""
    chart = support.application("backend").raw["spec"]["sources"][0]
    assert chart["path"] == "charts/backend"
    assert chart["helm"]["skipTests"] is True
    assert chart["helm"]["valueFiles"] == ["$values/gitops/apps/backend/values.yaml"]


def test_argo_cd_and_the_namespaces_are_never_pruned_automatically() -> None:
    for name in ("argo-cd", "namespaces"):
        assert support.application(name).raw["spec"]["syncPolicy"]["automated"]["prune"] is False
