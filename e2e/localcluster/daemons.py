"""Command lines of the cluster's daemons, with the flags kubeadm v1.30.3 gives them.

kubeadm would run these as static pods; here they are plain processes on the node's bridge
address or loopback, which is all a single-node test cluster needs (ADR in e2e/README.md).
"""

from __future__ import annotations

from e2e.localcluster import settings
from e2e.localcluster.settings import Paths


def containerd(paths: Paths) -> list[str]:
    return ["containerd", "--config", str(paths.config / "containerd.toml")]


def etcd(paths: Paths) -> list[str]:
    pki = paths.pki / "etcd"
    peer = "https://127.0.0.1:2380"
    return [
        str(paths.bin / "etcd"),
        f"--name={settings.NODE_NAME}",
        f"--data-dir={paths.etcd_data}",
        "--listen-client-urls=https://127.0.0.1:2379",
        "--advertise-client-urls=https://127.0.0.1:2379",
        f"--listen-peer-urls={peer}",
        f"--initial-advertise-peer-urls={peer}",
        f"--initial-cluster={settings.NODE_NAME}={peer}",
        "--listen-metrics-urls=http://127.0.0.1:2381",
        "--client-cert-auth=true",
        f"--cert-file={pki / 'server.crt'}",
        f"--key-file={pki / 'server.key'}",
        f"--trusted-ca-file={pki / 'ca.crt'}",
        "--peer-client-cert-auth=true",
        f"--peer-cert-file={pki / 'peer.crt'}",
        f"--peer-key-file={pki / 'peer.key'}",
        f"--peer-trusted-ca-file={pki / 'ca.crt'}",
        "--snapshot-count=10000",
        "--experimental-initial-corrupt-check=true",
    ]


def kube_apiserver(paths: Paths) -> list[str]:
    pki = paths.pki
    return [
        str(paths.bin / "kube-apiserver"),
        f"--advertise-address={settings.NODE_IP}",
        f"--bind-address={settings.NODE_IP}",
        f"--secure-port={settings.API_PORT}",
        "--allow-privileged=true",
        "--authorization-mode=Node,RBAC",
        f"--client-ca-file={pki / 'ca.crt'}",
        "--enable-admission-plugins=NodeRestriction",
        "--enable-bootstrap-token-auth=true",
        "--etcd-servers=https://127.0.0.1:2379",
        f"--etcd-cafile={pki / 'etcd' / 'ca.crt'}",
        f"--etcd-certfile={pki / 'apiserver-etcd-client.crt'}",
        f"--etcd-keyfile={pki / 'apiserver-etcd-client.key'}",
        f"--kubelet-client-certificate={pki / 'apiserver-kubelet-client.crt'}",
        f"--kubelet-client-key={pki / 'apiserver-kubelet-client.key'}",
        "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
        f"--proxy-client-cert-file={pki / 'front-proxy-client.crt'}",
        f"--proxy-client-key-file={pki / 'front-proxy-client.key'}",
        "--requestheader-allowed-names=front-proxy-client",
        f"--requestheader-client-ca-file={pki / 'front-proxy-ca.crt'}",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-username-headers=X-Remote-User",
        # The aggregated metrics API is reached at its pod's address, not through the service IP.
        "--enable-aggregator-routing=true",
        f"--service-account-issuer=https://kubernetes.default.svc.{settings.CLUSTER_DOMAIN}",
        f"--service-account-key-file={pki / 'sa.pub'}",
        f"--service-account-signing-key-file={pki / 'sa.key'}",
        f"--service-cluster-ip-range={settings.SERVICE_CIDR}",
        f"--tls-cert-file={pki / 'apiserver.crt'}",
        f"--tls-private-key-file={pki / 'apiserver.key'}",
        f"--encryption-provider-config={paths.config / 'encryption.yaml'}",
        f"--audit-policy-file={paths.config / 'audit-policy.yaml'}",
        f"--audit-log-path={paths.logs / 'audit.log'}",
        "--audit-log-maxsize=100",
        "--audit-log-maxbackup=1",
    ]


def kube_controller_manager(paths: Paths) -> list[str]:
    pki, conf = paths.pki, paths.kubeconfigs / "controller-manager.conf"
    return [
        str(paths.bin / "kube-controller-manager"),
        "--bind-address=127.0.0.1",
        f"--kubeconfig={conf}",
        f"--authentication-kubeconfig={conf}",
        f"--authorization-kubeconfig={conf}",
        "--allocate-node-cidrs=true",
        f"--cluster-cidr={settings.POD_CIDR}",
        "--node-cidr-mask-size=24",
        "--cluster-name=kubestead-e2e",
        f"--client-ca-file={pki / 'ca.crt'}",
        f"--cluster-signing-cert-file={pki / 'ca.crt'}",
        f"--cluster-signing-key-file={pki / 'ca.key'}",
        "--controllers=*,bootstrapsigner,tokencleaner",
        "--leader-elect=false",
        f"--requestheader-client-ca-file={pki / 'front-proxy-ca.crt'}",
        f"--root-ca-file={pki / 'ca.crt'}",
        f"--service-account-private-key-file={pki / 'sa.key'}",
        f"--service-cluster-ip-range={settings.SERVICE_CIDR}",
        "--use-service-account-credentials=true",
        # The HPA test needs decisions within seconds, not the default 15 s sync.
        "--horizontal-pod-autoscaler-sync-period=5s",
    ]


def kube_scheduler(paths: Paths) -> list[str]:
    conf = paths.kubeconfigs / "scheduler.conf"
    return [
        str(paths.bin / "kube-scheduler"),
        "--bind-address=127.0.0.1",
        f"--kubeconfig={conf}",
        f"--authentication-kubeconfig={conf}",
        f"--authorization-kubeconfig={conf}",
        "--leader-elect=false",
    ]


def kubelet(paths: Paths) -> list[str]:
    return [
        str(paths.bin / "kubelet"),
        f"--config={paths.config / 'kubelet.yaml'}",
        f"--kubeconfig={paths.kubeconfigs / 'kubelet.conf'}",
        f"--root-dir={paths.kubelet_root}",
        f"--node-ip={settings.NODE_IP}",
        f"--hostname-override={settings.NODE_NAME}",
        # cAdvisor finds containerd's containers (the per-container CPU the HPA reads) only
        # through this socket; the flag is deprecated but still the way to name a custom one.
        f"--containerd={paths.containerd_socket}",
        "--v=1",
    ]


def kube_proxy(paths: Paths) -> list[str]:
    return [str(paths.bin / "kube-proxy"), f"--config={paths.config / 'kube-proxy.yaml'}"]
