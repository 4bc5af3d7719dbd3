"""The role templates, rendered by Ansible for an inventory, carry what upstream expects.

Field names are checked against the upstream API definitions: kubeadm v1beta3
(kubernetes/kubernetes cmd/kubeadm/app/apis/kubeadm/v1beta3/types.go), containerd's config
version 2, kube-vip's static pod environment, apiserver.config.k8s.io/v1 and audit.k8s.io/v1.
"""

from __future__ import annotations

import json
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubestead import versions
from testbed.bundle.offline import kubernetes_binaries
from testbed.settings import cache_root
from tests.ansible.ansible_run import ANSIBLE_DIR, SAMPLE_INVENTORY, TEST_INVENTORY, run_playbook

RENDER_PLAYBOOK = Path(__file__).resolve().parent / "render.yml"
SECRET = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="  # 32 bytes, base64; a test value
CONTROL_PLANES = ["cp-1", "cp-2", "cp-3"]
WORKERS = ["worker-1", "worker-2"]

# kubeadm.k8s.io/v1beta3 fields (upstream types.go); anything else is a typo kubeadm rejects.
INIT_FIELDS = {
    "apiVersion",
    "kind",
    "bootstrapTokens",
    "nodeRegistration",
    "localAPIEndpoint",
    "certificateKey",
    "skipPhases",
    "patches",
}
CLUSTER_FIELDS = {
    "apiVersion",
    "kind",
    "etcd",
    "networking",
    "kubernetesVersion",
    "controlPlaneEndpoint",
    "apiServer",
    "controllerManager",
    "scheduler",
    "dns",
    "certificatesDir",
    "imageRepository",
    "featureGates",
    "clusterName",
}
JOIN_FIELDS = {
    "apiVersion",
    "kind",
    "nodeRegistration",
    "caCertPath",
    "discovery",
    "controlPlane",
    "skipPhases",
    "patches",
}
NODE_REGISTRATION_FIELDS = {
    "name",
    "criSocket",
    "taints",
    "kubeletExtraArgs",
    "ignorePreflightErrors",
    "imagePullPolicy",
}
DISCOVERY_FIELDS = {"bootstrapToken", "file", "tlsBootstrapToken", "timeout"}
BOOTSTRAP_TOKEN_DISCOVERY_FIELDS = {
    "token",
    "apiServerEndpoint",
    "caCertHashes",
    "unsafeSkipCAVerification",
}
API_SERVER_FIELDS = {"extraArgs", "extraVolumes", "certSANs", "timeoutForControlPlane"}
HOST_PATH_MOUNT_FIELDS = {"name", "hostPath", "mountPath", "readOnly", "pathType"}
LOCAL_ETCD_FIELDS = {
    "imageRepository",
    "imageTag",
    "dataDir",
    "extraArgs",
    "serverCertSANs",
    "peerCertSANs",
}


@dataclass
class Rendered:
    root: Path

    def text(self, host: str, name: str) -> str:
        files = json.loads((self.root / f"{host}.json").read_text(encoding="utf-8"))
        assert name in files, f"{host}: {name} was not rendered"
        text: str = files[name]
        return text

    def yaml_docs(self, host: str, name: str) -> list[dict[str, Any]]:
        return [doc for doc in yaml.safe_load_all(self.text(host, name)) if doc is not None]

    def toml(self, host: str, name: str) -> dict[str, Any]:
        return tomllib.loads(self.text(host, name))


def _render(root: Path, inventory: Path, *extra: str, initialised: bool) -> Rendered:
    run = run_playbook(
        str(RENDER_PLAYBOOK),
        inventory,
        "-e",
        f"render_dir={root}",
        "-e",
        f"render_initialised={str(initialised).lower()}",
        "-e",
        f"render_encryption_secret={SECRET}",
        *extra,
        env={"ANSIBLE_FILTER_PLUGINS": str(ANSIBLE_DIR / "roles/etcd_backup/filter_plugins")},
    )
    assert run.returncode == 0, run.output[-4000:]
    return Rendered(root)


@pytest.fixture(scope="module")
def before_init(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """kube-vip, secretbox, before `kubeadm init` (the first pass of cluster.yml)."""
    return _render(tmp_path_factory.mktemp("before-init"), TEST_INVENTORY, initialised=False)


@pytest.fixture(scope="module")
def haproxy(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """haproxy-keepalived on port 8443, aescbc, control-plane metrics on loopback, after init."""
    return _render(
        tmp_path_factory.mktemp("haproxy"),
        TEST_INVENTORY,
        "-e",
        "kubestead_api_endpoint_provider=haproxy-keepalived",
        "-e",
        "kubestead_api_endpoint_port=8443",
        "-e",
        "kubestead_encryption_at_rest=aescbc",
        "-e",
        "kubestead_control_plane_metrics_address=127.0.0.1",
        initialised=True,
    )


def _kubeadm(rendered: Rendered, host: str) -> dict[str, dict[str, Any]]:
    return {doc["kind"]: doc for doc in rendered.yaml_docs(host, "kubeadm-config.yaml")}


def test_ansible_rendering_kubeadm_config_is_v1beta3(before_init: Rendered) -> None:
    docs = _kubeadm(before_init, "cp-1")
    assert set(docs) == {
        "InitConfiguration",
        "ClusterConfiguration",
        "KubeletConfiguration",
        "KubeProxyConfiguration",
    }
    init, cluster = docs["InitConfiguration"], docs["ClusterConfiguration"]
    assert init["apiVersion"] == cluster["apiVersion"] == "kubeadm.k8s.io/v1beta3"
    assert set(init) <= INIT_FIELDS and set(cluster) <= CLUSTER_FIELDS
    assert set(init["nodeRegistration"]) <= NODE_REGISTRATION_FIELDS
    assert set(cluster["apiServer"]) <= API_SERVER_FIELDS
    assert set(cluster["etcd"]) == {"local"} and set(cluster["etcd"]["local"]) <= LOCAL_ETCD_FIELDS
    for component in ("apiServer", "controllerManager", "scheduler"):
        # v1beta3 extraArgs is map[string]string: a number or bool there fails to decode.
        assert all(isinstance(v, str) for v in cluster[component]["extraArgs"].values())
    for volume in cluster["apiServer"]["extraVolumes"]:
        assert set(volume) <= HOST_PATH_MOUNT_FIELDS


def test_ansible_rendering_kubeadm_config_carries_the_inventory(before_init: Rendered) -> None:
    for index, host in enumerate(CONTROL_PLANES, start=11):
        docs = _kubeadm(before_init, host)
        init, cluster = docs["InitConfiguration"], docs["ClusterConfiguration"]
        address = f"10.0.0.{index}"
        assert init["localAPIEndpoint"] == {"advertiseAddress": address, "bindPort": 6443}
        assert init["nodeRegistration"]["name"] == host
        assert init["nodeRegistration"]["kubeletExtraArgs"] == {"node-ip": address}
        assert init["nodeRegistration"]["taints"] == [
            {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
        ]
        assert cluster["kubernetesVersion"] == "v1.30.3"
        assert cluster["controlPlaneEndpoint"] == "10.0.0.10:6443"
        assert cluster["networking"] == {
            "podSubnet": "10.244.0.0/16",
            "serviceSubnet": "10.96.0.0/12",
            "dnsDomain": "cluster.local",
        }
        # The endpoint, every control plane and the spec's apiServerExtraSANs
        # (tests/ansible/cluster.yaml).
        assert {
            "10.0.0.10",
            "10.0.0.11",
            "10.0.0.12",
            "10.0.0.13",
            "api.prod.example.com",
            "203.0.113.10",
        } <= set(cluster["apiServer"]["certSANs"])


def test_ansible_rendering_api_server_loads_encryption_audit_and_admission(
    before_init: Rendered,
) -> None:
    cluster = _kubeadm(before_init, "cp-1")["ClusterConfiguration"]
    args = cluster["apiServer"]["extraArgs"]
    config_dir = "/etc/kubernetes/kubestead"
    assert args["encryption-provider-config"] == f"{config_dir}/encryption-configuration.yaml"
    assert args["audit-policy-file"] == f"{config_dir}/audit-policy.yaml"
    assert args["admission-control-config-file"] == f"{config_dir}/admission-configuration.yaml"
    assert args["audit-log-path"].startswith("/var/log/kubernetes/audit/")
    mounted = {v["hostPath"]: v for v in cluster["apiServer"]["extraVolumes"]}
    # The API server runs in a static pod: every file it reads must be mounted into it.
    assert mounted[config_dir]["readOnly"] is True
    assert mounted["/var/log/kubernetes/audit"]["readOnly"] is False


def test_ansible_rendering_keeps_the_cis_benchmark_settings(before_init: Rendered) -> None:
    """What kube-bench's cis-1.9 checks pass on because of this config, not kubeadm's defaults
    (docs/cis.md; e2e/tests/test_cis.py runs the benchmark itself on the testbed)."""
    docs = _kubeadm(before_init, "cp-1")
    cluster, kubelet = docs["ClusterConfiguration"], docs["KubeletConfiguration"]
    api = cluster["apiServer"]["extraArgs"]
    assert api["profiling"] == "false"  # 1.2.15
    assert api["audit-log-path"]  # 1.2.16
    assert int(api["audit-log-maxage"]) >= 30  # 1.2.17
    assert int(api["audit-log-maxbackup"]) >= 10  # 1.2.18
    assert int(api["audit-log-maxsize"]) >= 100  # 1.2.19
    assert api["encryption-provider-config"]  # 1.2.27
    assert api["tls-min-version"] in {"VersionTLS12", "VersionTLS13"}
    controller_manager = cluster["controllerManager"]["extraArgs"]
    assert int(controller_manager["terminated-pod-gc-threshold"]) > 0  # 1.3.1
    assert controller_manager["profiling"] == "false"  # 1.3.2
    assert cluster["scheduler"]["extraArgs"]["profiling"] == "false"  # 1.4.1
    assert kubelet["authentication"]["anonymous"]["enabled"] is False  # 4.2.1
    assert kubelet["authorization"]["mode"] == "Webhook"  # 4.2.2
    assert kubelet["readOnlyPort"] == 0  # 4.2.4
    assert kubelet["rotateCertificates"] is True  # 4.2.10


@pytest.mark.parametrize(
    ("host", "name"),
    [
        ("cp-1", "kubeadm-config.yaml"),
        ("cp-2", "kubeadm-join-control-plane.yaml"),
        ("worker-1", "kubeadm-join-worker.yaml"),
        ("worker-2", "kubeadm-join-worker.yaml"),
    ],
)
def test_ansible_rendering_real_kubeadm_accepts_the_configs(
    before_init: Rendered, haproxy: Rendered, tmp_path: Path, host: str, name: str
) -> None:
    """The real kubeadm 1.30.3 decodes, defaults and validates every rendered file."""
    # Built from source by `make testbed-binaries` (a prerequisite of `make test`).
    kubeadm = kubernetes_binaries("v1.30.3", cache_root()) / "kubeadm"
    for variant, rendered in (("before-init", before_init), ("haproxy", haproxy)):
        config = tmp_path / f"{variant}-{name}"
        config.write_text(rendered.text(host, name), encoding="utf-8")
        checked = subprocess.run(
            [str(kubeadm), "config", "validate", "--config", str(config)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert checked.returncode == 0, f"{variant}/{host}/{name}: {checked.stderr}"


def test_ansible_rendering_kubelet_and_kube_proxy(before_init: Rendered) -> None:
    docs = _kubeadm(before_init, "cp-2")
    kubelet, proxy = docs["KubeletConfiguration"], docs["KubeProxyConfiguration"]
    assert kubelet["apiVersion"] == "kubelet.config.k8s.io/v1beta1"
    assert kubelet["cgroupDriver"] == "systemd"
    assert kubelet["readOnlyPort"] == 0
    assert kubelet["authentication"]["anonymous"]["enabled"] is False
    assert kubelet["authorization"]["mode"] == "Webhook"
    assert proxy["apiVersion"] == "kubeproxy.config.k8s.io/v1alpha1"
    assert proxy["clusterCIDR"] == "10.244.0.0/16"


def test_ansible_rendering_join_configurations(before_init: Rendered) -> None:
    (cp_join,) = before_init.yaml_docs("cp-2", "kubeadm-join-control-plane.yaml")
    assert (
        cp_join["apiVersion"] == "kubeadm.k8s.io/v1beta3" and cp_join["kind"] == "JoinConfiguration"
    )
    assert set(cp_join) <= JOIN_FIELDS
    assert set(cp_join["discovery"]) <= DISCOVERY_FIELDS
    assert set(cp_join["discovery"]["bootstrapToken"]) <= BOOTSTRAP_TOKEN_DISCOVERY_FIELDS
    assert cp_join["discovery"]["bootstrapToken"]["apiServerEndpoint"] == "10.0.0.10:6443"
    assert cp_join["discovery"]["bootstrapToken"]["caCertHashes"][0].startswith("sha256:")
    assert cp_join["controlPlane"]["localAPIEndpoint"]["advertiseAddress"] == "10.0.0.12"
    assert set(cp_join["controlPlane"]) == {"localAPIEndpoint", "certificateKey"}

    (worker_join,) = before_init.yaml_docs("worker-2", "kubeadm-join-worker.yaml")
    assert set(worker_join) <= JOIN_FIELDS and "controlPlane" not in worker_join
    assert set(worker_join["nodeRegistration"]) <= NODE_REGISTRATION_FIELDS
    assert worker_join["nodeRegistration"]["taints"] == [
        {"key": "dedicated", "value": "data", "effect": "NoSchedule"}
    ]
    (plain_worker,) = before_init.yaml_docs("worker-1", "kubeadm-join-worker.yaml")
    # An empty list, not null: kubeadm would otherwise add no taint... or a default one.
    assert plain_worker["nodeRegistration"]["taints"] == []


def test_ansible_rendering_containerd_config_version_2(before_init: Rendered) -> None:
    for host in CONTROL_PLANES + WORKERS:
        config = before_init.toml(host, "containerd-config.toml")
        assert config["version"] == 2
        cri = config["plugins"]["io.containerd.grpc.v1.cri"]
        assert cri["sandbox_image"] == "registry.k8s.io/pause:3.9"
        runc = cri["containerd"]["runtimes"]["runc"]
        assert runc["runtime_type"] == "io.containerd.runc.v2"
        assert runc["options"]["SystemdCgroup"] is True
        assert cri["registry"]["config_path"] == "/etc/containerd/certs.d"


def test_ansible_rendering_registry_mirrors(before_init: Rendered) -> None:
    hosts_toml = before_init.toml("worker-1", "certs.d/registry.k8s.io.toml")
    assert hosts_toml["server"] == "https://registry.k8s.io"
    assert hosts_toml["host"]["http://10.0.0.5:5000"]["capabilities"] == ["pull", "resolve"]


def _kube_vip(rendered: Rendered, host: str) -> tuple[dict[str, str], str]:
    (pod,) = rendered.yaml_docs(host, "kube-vip.yaml")
    assert pod["apiVersion"] == "v1" and pod["kind"] == "Pod"
    container = pod["spec"]["containers"][0]
    assert container["image"] == f"ghcr.io/kube-vip/kube-vip:{versions.KUBE_VIP_VERSION}"
    assert pod["spec"]["hostNetwork"] is True
    env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    mount = container["volumeMounts"][0]
    assert mount["mountPath"] == "/etc/kubernetes/admin.conf"
    volume = next(v for v in pod["spec"]["volumes"] if v["name"] == mount["name"])
    return env, volume["hostPath"]["path"]


def test_ansible_rendering_kube_vip_arp_manifest(before_init: Rendered) -> None:
    env, _ = _kube_vip(before_init, "cp-2")
    assert env["vip_arp"] == "true" and env["cp_enable"] == "true"
    assert env["vip_leaderelection"] == "true"
    assert env["address"] == "10.0.0.10" and env["port"] == "6443"
    assert env["vip_interface"] == "eth0"
    # kube-vip 0.9 reads vip_subnet (vip_cidr is gone) and dials this node's API server
    # directly, so it needs no hostAliases (which kubelets before 1.32 may not apply).
    assert env["vip_subnet"] == "32" and "vip_cidr" not in env
    assert env["kubernetes_addr"] == "10.0.0.12:6443"


def test_ansible_rendering_kube_vip_uses_super_admin_only_during_init(
    before_init: Rendered, haproxy: Rendered
) -> None:
    assert _kube_vip(before_init, "cp-1")[1] == "/etc/kubernetes/super-admin.conf"
    assert _kube_vip(before_init, "cp-2")[1] == "/etc/kubernetes/admin.conf"
    assert _kube_vip(haproxy, "cp-1")[1] == "/etc/kubernetes/admin.conf"


def test_ansible_rendering_haproxy_and_keepalived(haproxy: Rendered) -> None:
    config = haproxy.text("cp-1", "haproxy.cfg")
    assert "bind *:8443" in config
    for index, host in enumerate(CONTROL_PLANES, start=11):
        assert f"server {host} 10.0.0.{index}:6443" in config
    priorities = set()
    for host in CONTROL_PLANES:
        keepalived = haproxy.text(host, "keepalived.conf")
        assert "10.0.0.10/32 dev eth0" in keepalived
        peers = keepalived.split("unicast_peer {")[1].split("}")[0].split()
        own = f"10.0.0.{11 + CONTROL_PLANES.index(host)}"
        assert own not in peers and len(peers) == 2
        priorities.add(keepalived.split("priority ")[1].split()[0])
    assert len(priorities) == 3


def test_ansible_rendering_encryption_configuration(
    before_init: Rendered, haproxy: Rendered
) -> None:
    for rendered, provider in ((before_init, "secretbox"), (haproxy, "aescbc")):
        (config,) = rendered.yaml_docs("cp-3", "encryption-configuration.yaml")
        assert config["apiVersion"] == "apiserver.config.k8s.io/v1"
        assert config["kind"] == "EncryptionConfiguration"
        (resource,) = config["resources"]
        assert resource["resources"] == ["secrets"]
        first, last = resource["providers"][0], resource["providers"][-1]
        assert list(first) == [provider]
        assert first[provider]["keys"] == [{"name": "key1", "secret": SECRET}]
        assert last == {"identity": {}}


def test_ansible_rendering_encryption_configuration_keeps_a_rotation(tmp_path: Path) -> None:
    """Keys (with their names) and the providers after the first are written back unchanged."""
    other = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="
    keys = [{"name": "key2", "secret": other}, {"name": "key1", "secret": SECRET}]
    previous = [{"aescbc": {"keys": [{"name": "key1", "secret": SECRET}]}}]
    extra = {
        "control_plane__encryption_keys": keys,
        "control_plane__encryption_previous_providers": previous,
    }
    rendered = _render(tmp_path, TEST_INVENTORY, "-e", json.dumps(extra), initialised=True)
    (config,) = rendered.yaml_docs("cp-1", "encryption-configuration.yaml")
    (resource,) = config["resources"]
    assert resource["providers"] == [
        {"secretbox": {"keys": keys}},
        *previous,
        {"identity": {}},
    ]


def test_ansible_rendering_audit_policy_keeps_secrets_at_metadata(before_init: Rendered) -> None:
    (policy,) = before_init.yaml_docs("cp-1", "audit-policy.yaml")
    assert policy["apiVersion"] == "audit.k8s.io/v1" and policy["kind"] == "Policy"
    assert policy["omitStages"] == ["RequestReceived"]
    levels = {"None", "Metadata", "Request", "RequestResponse"}
    assert all(rule["level"] in levels for rule in policy["rules"])

    def first_rule_for(group: str, resource: str) -> dict[str, Any]:
        # The API server applies the first rule that matches.
        return next(
            rule
            for rule in policy["rules"]
            if "resources" not in rule
            or any(
                g.get("group") == group and resource in g.get("resources", [])
                for g in rule["resources"]
            )
            if "nonResourceURLs" not in rule and "users" not in rule and "userGroups" not in rule
        )

    assert first_rule_for("", "secrets")["level"] == "Metadata"
    assert first_rule_for("", "serviceaccounts/token")["level"] == "Metadata"
    assert first_rule_for("authentication.k8s.io", "tokenreviews")["level"] == "Metadata"


def test_ansible_rendering_pod_security_defaults(before_init: Rendered) -> None:
    (config,) = before_init.yaml_docs("cp-1", "admission-configuration.yaml")
    assert config["apiVersion"] == "apiserver.config.k8s.io/v1"
    assert config["kind"] == "AdmissionConfiguration"
    (plugin,) = config["plugins"]
    assert plugin["name"] == "PodSecurity"
    psa = plugin["configuration"]
    assert psa["apiVersion"] == "pod-security.admission.config.k8s.io/v1"
    assert psa["kind"] == "PodSecurityConfiguration"
    assert psa["defaults"]["enforce"] == "baseline"
    assert "kube-system" in psa["exemptions"]["namespaces"]


def test_ansible_rendering_control_plane_metrics_listen_where_the_spec_says(
    before_init: Rendered, haproxy: Rendered
) -> None:
    for rendered, address in ((before_init, "0.0.0.0"), (haproxy, "127.0.0.1")):  # noqa: S104
        cluster = _kubeadm(rendered, "cp-1")["ClusterConfiguration"]
        etcd = cluster["etcd"]["local"]["extraArgs"]["listen-metrics-urls"]
        assert etcd == f"http://{address}:2381"
        assert cluster["controllerManager"]["extraArgs"]["bind-address"] == address
        assert cluster["scheduler"]["extraArgs"]["bind-address"] == address
    # On loopback nothing can reach them, so the firewall opens none of their ports.
    opened = {port for port, _, _ in _rules(haproxy, "cp-1")}
    assert not opened & {"2381", "10257", "10259"}, opened


def _rules(rendered: Rendered, host: str) -> set[tuple[str, str, str]]:
    rules = yaml.safe_load(rendered.text(host, "ufw-rules.yaml"))
    return {(r.get("port", "-"), r["proto"], r["from"]) for r in rules}


def test_ansible_rendering_firewall_rules_per_role(before_init: Rendered) -> None:
    private, admin, pods = "10.0.0.0/24", "203.0.113.0/24", "10.244.0.0/16"
    control_plane = _rules(before_init, "cp-1")
    for port in ("6443", "2379:2380", "10250"):
        assert (port, "tcp", private) in control_plane
    # Metrics (controlPlaneMetrics: network): Prometheus scrapes from a pod.
    for port in ("2381", "10257", "10259"):
        assert (port, "tcp", private) in control_plane and (port, "tcp", pods) in control_plane
    assert ("22", "tcp", admin) in control_plane
    assert ("6443", "tcp", admin) in control_plane
    assert ("4789", "udp", private) in control_plane  # Calico VXLAN
    # Pods reach the API servers and kubelets with pod addresses (not masqueraded in-cluster).
    assert ("6443", "tcp", pods) in control_plane and ("10250", "tcp", pods) in control_plane
    worker = _rules(before_init, "worker-1")
    assert worker == {
        ("22", "tcp", admin),
        ("10250", "tcp", private),
        ("10250", "tcp", pods),
        ("4789", "udp", private),
        ("5473", "tcp", private),
    }


def test_ansible_rendering_firewall_rules_for_haproxy(haproxy: Rendered) -> None:
    rules = _rules(haproxy, "cp-2")
    assert ("8443", "tcp", "10.0.0.0/24") in rules
    assert ("-", "vrrp", "10.0.0.0/24") in rules
    assert not any(proto == "vrrp" for _, proto, _ in _rules(haproxy, "worker-1"))


def test_ansible_rendering_firewall_deletes_only_its_own_stale_rules(tmp_path: Path) -> None:
    """Rules kubestead added (known comment) and no longer wants go; hand-made rules stay."""
    added = [
        # Still wanted: kept.
        "ufw allow from 203.0.113.0/24 to any port 22 proto tcp comment 'SSH from admins'",
        "ufw allow from 10.0.0.0/24 to any port 6443 proto tcp comment 'kube-apiserver'",
        # An admin CIDR removed from the spec, and a port of the other CNI: deleted.
        "ufw allow from 198.51.100.7 to any port 22 proto tcp comment 'SSH from admins'",
        "ufw allow from 198.51.100.0/24 to any port 6443 proto tcp"
        " comment 'kube-apiserver from admins'",
        "ufw allow from 10.0.0.0/24 to any port 8472 proto udp comment 'Cilium VXLAN'",
        "ufw allow from 10.0.0.0/24 proto vrrp comment 'keepalived VRRP'",
        # Added by hand (another comment, or none): left alone.
        "ufw allow from 198.51.100.7 to any port 22 proto tcp comment 'bastion'",
        "ufw allow from 198.51.100.0/24 to any port 9100 proto tcp",
        "ufw limit 2222/tcp comment 'SSH from admins'",
    ]
    rendered = _render(
        tmp_path, TEST_INVENTORY, "-e", json.dumps({"render_ufw_added": added}), initialised=True
    )
    stale = yaml.safe_load(rendered.text("cp-1", "ufw-stale.yaml"))
    assert [(r["key"], r["comment"]) for r in stale] == [
        ("22/tcp/198.51.100.7", "SSH from admins"),
        ("6443/tcp/198.51.100.0/24", "kube-apiserver from admins"),
        ("8472/udp/10.0.0.0/24", "Cilium VXLAN"),
        ("any/vrrp/10.0.0.0/24", "keepalived VRRP"),
    ]
    # Exactly the words `ufw delete` takes to remove that rule.
    words = ["allow", "from", "198.51.100.7", "to", "any", "port", "22", "proto", "tcp"]
    assert stale[0]["rule"] == words
    worker_stale = yaml.safe_load(rendered.text("worker-1", "ufw-stale.yaml"))
    # A worker never gets the control plane's ports: kubestead's own rule for one goes.
    assert ("6443/tcp/10.0.0.0/24", "kube-apiserver") in {
        (r["key"], r["comment"]) for r in worker_stale
    }


def test_ansible_rendering_calico_installation(before_init: Rendered) -> None:
    installation, api_server = before_init.yaml_docs("cp-1", "calico-installation.yaml")
    assert installation["apiVersion"] == "operator.tigera.io/v1"
    assert installation["kind"] == "Installation"
    network = installation["spec"]["calicoNetwork"]
    assert network["bgp"] == "Disabled"
    (pool,) = network["ipPools"]
    assert pool["cidr"] == "10.244.0.0/16" and pool["encapsulation"] == "VXLAN"
    assert api_server["kind"] == "APIServer"


def test_ansible_rendering_etcd_backup_units(before_init: Rendered, tmp_path: Path) -> None:
    timer = before_init.text("cp-1", "kubestead-etcd-backup.timer")
    assert "OnCalendar=*-*-* 00/6:00:00" in timer
    script = before_init.text("cp-1", "kubestead-etcd-backup.sh")
    assert "snapshot save" in script and "retain=12" in script
    checked = subprocess.run(
        ["bash", "-n", "-c", script], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stderr


def test_ansible_rendering_sample_inventory(tmp_path: Path) -> None:
    rendered = _render(tmp_path, SAMPLE_INVENTORY, initialised=False)
    hosts = yaml.safe_load(SAMPLE_INVENTORY.read_text(encoding="utf-8"))
    control_planes = hosts["all"]["children"]["k8s_cluster"]["children"]["control_plane"]["hosts"]
    docs = _kubeadm(rendered, next(iter(control_planes)))
    assert docs["ClusterConfiguration"]["apiVersion"] == "kubeadm.k8s.io/v1beta3"
    assert docs["KubeletConfiguration"]["cgroupDriver"] == "systemd"
