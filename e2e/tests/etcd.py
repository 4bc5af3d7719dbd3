"""etcdctl inside a control plane's etcd static pod, with the kubeadm health-check client."""

from __future__ import annotations

import subprocess

from testbed.cluster import RunningCluster

ETCDCTL = [
    "etcdctl",
    "--endpoints=https://127.0.0.1:2379",
    "--cacert=/etc/kubernetes/pki/etcd/ca.crt",
    "--cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt",
    "--key=/etc/kubernetes/pki/etcd/healthcheck-client.key",
]


def etcdctl(
    cluster: RunningCluster, node: str, *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    return cluster.kubectl(
        "-n", "kube-system", "exec", f"etcd-{node}", "--", *ETCDCTL, *args, check=check
    )
