"""The configuration files the local cluster's components read, written under the state dir.

The same choices the Ansible roles make on real VMs, where they apply here: kubeadm v1beta3
for the PKI and kubeconfigs, secretbox encryption at rest for Secrets, an audit policy that
keeps Secret and token payloads out of the log, the kubelet's relaxed eviction thresholds (as
kind sets them: a shared test machine's disk fill must not evict the control plane's pods).
"""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path

from e2e.localcluster import settings
from e2e.localcluster.settings import Paths


def _write(path: Path, text: str, mode: int = 0o644) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


def kubeadm_config(paths: Paths) -> Path:
    docs = [
        {
            "apiVersion": "kubeadm.k8s.io/v1beta3",
            "kind": "InitConfiguration",
            "localAPIEndpoint": {
                "advertiseAddress": settings.NODE_IP,
                "bindPort": settings.API_PORT,
            },
            "nodeRegistration": {"name": settings.NODE_NAME},
        },
        {
            "apiVersion": "kubeadm.k8s.io/v1beta3",
            "kind": "ClusterConfiguration",
            "kubernetesVersion": settings.KUBERNETES_VERSION,
            "clusterName": "kubestead-e2e",
            "certificatesDir": str(paths.pki),
            "controlPlaneEndpoint": f"{settings.NODE_IP}:{settings.API_PORT}",
            "networking": {
                "dnsDomain": settings.CLUSTER_DOMAIN,
                "podSubnet": settings.POD_CIDR,
                "serviceSubnet": settings.SERVICE_CIDR,
            },
            "apiServer": {"certSANs": [settings.NODE_IP, "127.0.0.1", "localhost"]},
        },
    ]
    # JSON is YAML; one document per line keeps this file free of a YAML dependency.
    return _write(paths.config / "kubeadm.yaml", "\n---\n".join(json.dumps(d) for d in docs) + "\n")


def encryption_config(paths: Paths) -> Path:
    target = paths.config / "encryption.yaml"
    if target.exists():  # the key must outlive a restart of the API server, never rotate silently
        return target
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    config = {
        "apiVersion": "apiserver.config.k8s.io/v1",
        "kind": "EncryptionConfiguration",
        "resources": [
            {
                "resources": ["secrets"],
                "providers": [
                    {"secretbox": {"keys": [{"name": "key1", "secret": key}]}},
                    {"identity": {}},
                ],
            }
        ],
    }
    return _write(target, json.dumps(config, indent=2) + "\n", 0o600)


def audit_policy(paths: Paths) -> Path:
    policy = {
        "apiVersion": "audit.k8s.io/v1",
        "kind": "Policy",
        "omitStages": ["RequestReceived"],
        "rules": [
            {"level": "None", "users": ["system:kube-proxy"], "verbs": ["watch"]},
            {"level": "None", "nonResourceURLs": ["/healthz*", "/readyz*", "/livez*", "/version"]},
            # Payloads of Secrets, ConfigMaps and tokens must never reach the audit log.
            {
                "level": "Metadata",
                "resources": [
                    {"group": "", "resources": ["secrets", "configmaps", "serviceaccounts/token"]},
                    {"group": "authentication.k8s.io", "resources": ["tokenreviews"]},
                ],
            },
            {"level": "Request", "verbs": ["create", "update", "patch", "delete"]},
            {"level": "Metadata"},
        ],
    }
    return _write(paths.config / "audit-policy.yaml", json.dumps(policy, indent=2) + "\n")


def kubelet_config(paths: Paths) -> Path:
    config = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": settings.NODE_IP,
        "healthzBindAddress": "127.0.0.1",
        "cgroupDriver": "cgroupfs",  # no systemd as PID 1 on this machine
        "containerRuntimeEndpoint": f"unix://{paths.containerd_socket}",
        "failSwapOn": False,
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(paths.pki / "ca.crt")},
        },
        "authorization": {"mode": "Webhook"},
        "clusterDNS": [settings.DNS_SERVICE_IP],
        "clusterDomain": settings.CLUSTER_DOMAIN,
        "resolvConf": str(resolv_conf(paths)),
        "evictionHard": {
            "nodefs.available": "0%",
            "nodefs.inodesFree": "0%",
            "imagefs.available": "0%",
        },
        "imageGCHighThresholdPercent": 100,
        "rotateCertificates": False,
        "serializeImagePulls": False,
    }
    return _write(paths.config / "kubelet.yaml", json.dumps(config, indent=2) + "\n")


def resolv_conf(paths: Paths) -> Path:
    # Pods with dnsPolicy Default (CoreDNS itself) get this instead of the machine's resolvers,
    # so no DNS query ever leaves the machine. Nothing listens there: lookups fail fast.
    return _write(
        paths.config / "resolv.conf",
        f"nameserver {settings.NODE_IP}\noptions timeout:1 attempts:1\n",
    )


def kube_proxy_config(paths: Paths) -> Path:
    config = {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "mode": "iptables",
        "clusterCIDR": settings.POD_CIDR,
        "hostnameOverride": settings.NODE_NAME,
        "clientConnection": {"kubeconfig": str(paths.kubeconfigs / "kube-proxy.conf")},
        "bindAddress": settings.NODE_IP,
        "healthzBindAddress": "127.0.0.1:10256",
        "metricsBindAddress": "127.0.0.1:10249",
        "nodePortAddresses": [f"{settings.NODE_IP}/32"],
        # As kind does: the kernel's conntrack limits are not ours to change on a shared host.
        "conntrack": {"maxPerCore": 0},
    }
    return _write(paths.config / "kube-proxy.yaml", json.dumps(config, indent=2) + "\n")


def containerd_config(paths: Paths) -> Path:
    text = f"""version = 2
root = "{paths.containerd_root}"
state = "{paths.containerd_state}"

[grpc]
  address = "{paths.containerd_socket}"

[plugins."io.containerd.grpc.v1.cri"]
  # This machine's processes lack CAP_SYS_RESOURCE, so the kubelet's negative OOM scores
  # (-998 for sandboxes) fail in runc; clamp them at containerd's own score instead, as
  # rootless setups do.
  restrict_oom_score_adj = true
  sandbox_image = "registry.k8s.io/pause:{settings.PAUSE_VERSION}"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{paths.cni_conf}"
"""
    return _write(paths.config / "containerd.toml", text)
