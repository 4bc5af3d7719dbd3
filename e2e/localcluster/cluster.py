"""`up` and `down` of the local cluster: the order of things, nothing else."""

from __future__ import annotations

import json
import shutil
import string
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from e2e.localcluster import (
    build,
    configs,
    daemons,
    database,
    deploy,
    images,
    network,
    preflight,
    processes,
    settings,
)
from e2e.localcluster.settings import Paths

MANIFESTS = Path(__file__).resolve().parents[1] / "manifests"
Report = Callable[[str], None]


def _say(message: str) -> None:
    print(f"[local-cluster] {message}", file=sys.stderr, flush=True)


def run(
    argv: Sequence[str],
    *,
    input_text: str | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        list(argv),
        capture_output=True,
        text=True,
        input=input_text,
        check=False,
    )
    if check and result.returncode != 0:
        raise ClusterError(
            f"{' '.join(argv[:4])} … failed: {(result.stderr or result.stdout).strip()[-800:]}"
        )
    return result


class ClusterError(RuntimeError):
    """A step of `up` failed; the message says which and why."""


def kubectl(
    paths: Paths,
    *args: str,
    input_text: str | None = None,
    check: bool = True,
    kubeconfig: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    config = kubeconfig or paths.admin_kubeconfig
    return run(
        [str(paths.bin / "kubectl"), f"--kubeconfig={config}", *args],
        input_text=input_text,
        check=check,
    )


def wait_for(
    what: str, probe: Callable[[], bool], timeout: float, on_timeout: Callable[[], str] = lambda: ""
) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if probe():
            return time.monotonic() - started
        time.sleep(0.5)
    raise ClusterError(f"timed out after {timeout:.0f}s waiting for {what}. {on_timeout()}")


def _ctr(paths: Paths, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run(
        ["ctr", "--address", str(paths.containerd_socket), "-n", "k8s.io", *args], check=check
    )


def _pki_and_kubeconfigs(paths: Paths) -> None:
    kubeadm = str(paths.bin / "kubeadm")
    config = str(configs.kubeadm_config(paths))
    run([kubeadm, "init", "phase", "certs", "all", f"--config={config}"])
    paths.kubeconfigs.mkdir(parents=True, exist_ok=True)
    run(
        [
            kubeadm,
            "init",
            "phase",
            "kubeconfig",
            "all",
            f"--config={config}",
            f"--kubeconfig-dir={paths.kubeconfigs}",
        ]
    )
    proxy = run(
        [kubeadm, "kubeconfig", "user", f"--config={config}", "--client-name=system:kube-proxy"]
    )
    (paths.kubeconfigs / "kube-proxy.conf").write_text(proxy.stdout)
    for conf in paths.kubeconfigs.glob("*.conf"):
        conf.chmod(0o600)


def _start(
    paths: Paths, name: str, argv: list[str], ready: Callable[[], bool], timeout: float = 60
) -> None:
    process = processes.start(paths, name, argv)
    wait_for(
        name,
        lambda: ready() if process.poll() is None else _died(paths, name),
        timeout,
        lambda: "Last log lines:\n" + processes.tail(paths, name),
    )


def _died(paths: Paths, name: str) -> bool:
    raise ClusterError(f"{name} exited at start. Last log lines:\n{processes.tail(paths, name)}")


def _https_ok(url: str, paths: Paths) -> Callable[[], bool]:
    def probe() -> bool:
        result = run(
            ["curl", "-sf", "--max-time", "2", "--cacert", str(paths.pki / "ca.crt"), url],
            check=False,
        )
        return result.returncode == 0

    return probe


def _http_ok(url: str) -> Callable[[], bool]:
    return lambda: run(["curl", "-sf", "--max-time", "2", url], check=False).returncode == 0


def _apply_manifest(paths: Paths, name: str, **values: str) -> None:
    text = string.Template((MANIFESTS / name).read_text()).substitute(values)
    kubectl(paths, "apply", "-f", "-", input_text=text)


def _node_ready(paths: Paths) -> bool:
    result = kubectl(
        paths,
        "get",
        "node",
        settings.NODE_NAME,
        "-o",
        "jsonpath={.status.conditions[?(@.type=='Ready')].status}",
        check=False,
    )
    return result.stdout.strip() == "True"


def up(paths: Paths, python: Path, report: Report = _say) -> dict[str, float]:
    """Bring the cluster up; return timings. On failure the state stays for `down` to clean."""
    timings: dict[str, float] = {}
    preflight.check(paths)
    started = time.monotonic()
    build_times = build.build_all(paths, report)
    timings["build"] = sum(build_times.values())
    report("images: pause, CoreDNS, metrics-server, backend")
    image_list = images.build_images(paths, python, report)
    timings["images"] = time.monotonic() - started - timings["build"]

    cluster_started = time.monotonic()
    for folder in (paths.config, paths.logs, paths.pids):
        folder.mkdir(parents=True, exist_ok=True)
    network.set_sysctls(paths)
    run(["mount", "--make-rshared", "/"])
    network.create_bridge()
    network.install_guard()
    network.write_cni_config(paths)
    for write in (
        configs.containerd_config,
        configs.encryption_config,
        configs.audit_policy,
        configs.kubelet_config,
        configs.kube_proxy_config,
    ):
        write(paths)
    _pki_and_kubeconfigs(paths)

    report("starting containerd and importing images")
    _start(
        paths,
        "containerd",
        daemons.containerd(paths),
        lambda: run(
            ["ctr", "--address", str(paths.containerd_socket), "version"], check=False
        ).returncode
        == 0,
    )
    for image in image_list:
        _ctr(paths, "images", "import", "--no-unpack", str(image.archive))

    report("starting etcd and the control plane")
    _start(paths, "etcd", daemons.etcd(paths), _http_ok("http://127.0.0.1:2381/health"))
    _start(
        paths,
        "kube-apiserver",
        daemons.kube_apiserver(paths),
        _https_ok(f"https://{settings.NODE_IP}:{settings.API_PORT}/readyz", paths),
        timeout=120,
    )
    super_admin = paths.kubeconfigs / "super-admin.conf"
    # kubeadm >= 1.29 gives admin.conf the group kubeadm:cluster-admins, bound by `kubeadm init`.
    kubectl(
        paths,
        "create",
        "clusterrolebinding",
        "kubeadm:cluster-admins",
        "--clusterrole=cluster-admin",
        "--group=kubeadm:cluster-admins",
        kubeconfig=super_admin,
        check=False,
    )
    # Their serving certificates are self-signed: the health probe skips verification.
    _start(
        paths,
        "kube-controller-manager",
        daemons.kube_controller_manager(paths),
        _insecure_ok("https://127.0.0.1:10257/healthz"),
    )
    _start(
        paths,
        "kube-scheduler",
        daemons.kube_scheduler(paths),
        _insecure_ok("https://127.0.0.1:10259/healthz"),
    )

    report("starting the kubelet and kube-proxy")
    _start(paths, "kubelet", daemons.kubelet(paths), _http_ok("http://127.0.0.1:10248/healthz"))
    _start(
        paths, "kube-proxy", daemons.kube_proxy(paths), _http_ok("http://127.0.0.1:10256/healthz")
    )
    wait_for(
        "the node to be Ready",
        lambda: _node_ready(paths),
        120,
        lambda: "kubelet log:\n" + processes.tail(paths, "kubelet"),
    )

    report("add-ons: CoreDNS, metrics-server")
    by_name = {
        image.reference.rsplit("/", 1)[-1].split(":")[0]: image.reference for image in image_list
    }
    _apply_manifest(
        paths,
        "coredns.yaml",
        DNS_SERVICE_IP=settings.DNS_SERVICE_IP,
        CLUSTER_DOMAIN=settings.CLUSTER_DOMAIN,
        IMAGE=by_name["coredns"],
    )
    _apply_manifest(paths, "metrics-server.yaml", IMAGE=by_name["metrics-server"])
    for deployment in ("coredns", "metrics-server"):
        kubectl(
            paths,
            "-n",
            "kube-system",
            "rollout",
            "status",
            f"deployment/{deployment}",
            "--timeout=180s",
        )
    report("PostgreSQL for the backend on the node's bridge address")
    database.start(paths)
    timings["cluster"] = time.monotonic() - cluster_started
    (paths.config / "images.json").write_text(
        json.dumps({i.reference: str(i.archive) for i in image_list})
    )
    return timings


def backend_image(paths: Paths) -> str:
    references = json.loads((paths.config / "images.json").read_text())
    return next(str(ref) for ref in references if ref.startswith(images.BACKEND_IMAGE + ":"))


def deploy_backend(paths: Paths, helm: Path, report: Report = _say) -> float:
    """`helm upgrade --install` the chart into a restricted namespace; return seconds to Ready."""
    started = time.monotonic()
    kubectl(paths, "apply", "-f", "-", input_text=deploy.namespace_manifest())
    database_url = (paths.config / "database_url").read_text().strip()
    values = deploy.values_file(paths, backend_image(paths), database_url)
    report("helm upgrade --install backend charts/backend (migrations run as a pre-install hook)")
    result = deploy.helm(
        paths,
        helm,
        "upgrade",
        "--install",
        deploy.RELEASE,
        str(deploy.CHART),
        "--values",
        str(values),
        "--wait",
        "--timeout",
        "5m",
    )
    if result.returncode != 0:
        raise ClusterError(f"helm install failed: {result.stderr.strip()[-1500:]}")
    return time.monotonic() - started


def _insecure_ok(url: str) -> Callable[[], bool]:
    return lambda: run(["curl", "-skf", "--max-time", "2", url], check=False).returncode == 0


def _mounts_under(root: Path) -> list[str]:
    mounts = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        mount_point = line.split()[4].replace("\\040", " ")
        if mount_point == str(root) or mount_point.startswith(f"{root}/"):
            mounts.append(mount_point)
    return sorted(mounts, key=len, reverse=True)


def down(paths: Paths, report: Report = _say) -> None:
    """Remove everything `up` made. Idempotent; safe after a failed or partial `up`."""
    for name in ("kube-proxy", "kubelet"):
        processes.stop(paths, name)
    if processes.alive(paths, "containerd"):
        listed = _ctr(paths, "containers", "ls", "-q", check=False).stdout.split()
        for container in listed:
            _ctr(paths, "tasks", "kill", "-s", "SIGKILL", container, check=False)
        deadline = time.monotonic() + 20
        for container in listed:
            while _ctr(paths, "tasks", "delete", container, check=False).returncode != 0:
                if (
                    "not found" in _ctr(paths, "tasks", "ls", check=False).stdout
                    or time.monotonic() > deadline
                ):
                    break
                time.sleep(0.3)
            _ctr(paths, "containers", "delete", container, check=False)
    for name in (
        "postgres",
        "kube-scheduler",
        "kube-controller-manager",
        "kube-apiserver",
        "etcd",
        "containerd",
    ):
        processes.stop(paths, name)
    for leftover in processes.started(paths):
        processes.stop(paths, leftover)
    if (paths.bin / "kube-proxy").exists():
        run([str(paths.bin / "kube-proxy"), "--cleanup"], check=False)
    network.remove_iptables()
    for netns in Path("/var/run/netns").glob("cni-*") if Path("/var/run/netns").exists() else []:
        run(["ip", "netns", "delete", netns.name], check=False)
    network.delete_bridge()
    for mount_point in _mounts_under(paths.state):
        if run(["umount", mount_point], check=False).returncode != 0:
            run(["umount", "-l", mount_point], check=False)
    network.restore_sysctls(paths)
    if paths.state.exists():
        shutil.rmtree(paths.state)
    report("the local cluster is down; nothing of it is left running")
