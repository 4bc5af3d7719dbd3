"""The Ansible inventory of a cluster spec (the contract: src/kubestead/README.md, Inventory).

Rendering is a pure function of the validated spec and the spec's file name: the same spec
gives the same bytes, whatever the key order in the YAML, so a rendered inventory can be
committed and diffed. Keys are sorted wherever order carries no meaning; hosts keep spec
order because the first control plane is the one that runs `kubeadm init`.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from kubestead import versions
from kubestead.cron import to_oncalendar
from kubestead.spec.models import Cluster, Host

INVENTORY_FORMAT = 1
# The CRI endpoint of each runtime: containerd's own, or cri-dockerd's in front of Docker.
CRI_SOCKETS = {
    "containerd": "unix:///run/containerd/containerd.sock",
    "docker": "unix:///var/run/cri-dockerd.sock",
}
# Where etcd, the controller manager and the scheduler listen for metrics, per
# spec.kubernetes.controlPlaneMetrics: every address (the firewall narrows it) or loopback.
METRICS_ADDRESSES = {"network": "0.0.0.0", "localhost": "127.0.0.1"}  # noqa: S104
HOSTS_FILE = "hosts.yml"
GROUP_VARS_FILE = "group_vars/all.yml"
# The overlay applies to the cluster's hosts (the group every playbook acts on).
OVERLAY_FILE = "group_vars/k8s_cluster.yml"
ZONE_LABEL = "topology.kubernetes.io/zone"


def _host_vars(host: Host) -> dict[str, Any]:
    labels = dict(host.labels)
    if host.zone:
        labels[ZONE_LABEL] = host.zone
    values: dict[str, Any] = {
        "ansible_host": host.address,
        "kubestead_node_labels": dict(sorted(labels.items())),
        "kubestead_node_role": host.role,
        "kubestead_node_taints": [
            {"effect": t.effect, "key": t.key, "value": t.value} for t in host.taints
        ],
    }
    if host.zone:
        values["kubestead_node_zone"] = host.zone
    return dict(sorted(values.items()))


def hosts_document(cluster: Cluster) -> dict[str, Any]:
    ssh = cluster.spec.ssh
    return {
        "all": {
            "vars": {
                "ansible_port": ssh.port,
                "ansible_ssh_private_key_file": ssh.private_key_file,
                "ansible_user": ssh.user,
            },
            "children": {
                "k8s_cluster": {
                    "children": {
                        "control_plane": {
                            "hosts": {h.name: _host_vars(h) for h in cluster.control_planes}
                        },
                        "workers": {"hosts": {h.name: _host_vars(h) for h in cluster.workers}},
                    }
                }
            },
        }
    }


def group_vars_document(cluster: Cluster) -> dict[str, Any]:
    k8s = cluster.spec.kubernetes
    net = cluster.spec.network
    backup = cluster.spec.etcd_backup
    offline = cluster.spec.offline
    values: dict[str, Any] = {
        "kubestead_inventory_format": INVENTORY_FORMAT,
        "kubestead_cluster_name": cluster.metadata.name,
        "kubestead_kubernetes_version": k8s.version,
        "kubestead_api_endpoint_address": k8s.control_plane_endpoint.address,
        "kubestead_api_endpoint_port": k8s.control_plane_endpoint.port,
        "kubestead_api_endpoint_provider": k8s.control_plane_endpoint.provider,
        "kubestead_api_server_extra_sans": list(k8s.api_server_extra_sans),
        # Derived once, here: where the kubelet and kubeadm reach the runtime.
        "kubestead_cri_socket": CRI_SOCKETS[k8s.container_runtime],
        "kubestead_pod_cidr": k8s.pod_cidr,
        "kubestead_service_cidr": k8s.service_cidr,
        "kubestead_cluster_domain": k8s.cluster_domain,
        # Derived once, here: the control_plane role binds to it, the firewall opens it.
        "kubestead_control_plane_metrics_address": METRICS_ADDRESSES[k8s.control_plane_metrics],
        "kubestead_container_runtime": k8s.container_runtime,
        "kubestead_cni": k8s.cni,
        "kubestead_encryption_at_rest": k8s.encryption_at_rest,
        "kubestead_pod_security_default": k8s.pod_security_default,
        "kubestead_private_cidr": net.private_cidr,
        "kubestead_admin_cidrs": list(net.admin_cidrs),
        "kubestead_firewall_enabled": net.firewall,
        "kubestead_etcd_backup_schedule": backup.schedule,
        # Derived once, here: the systemd timer's form of the schedule (kubestead.cron).
        "kubestead_etcd_backup_on_calendar": to_oncalendar(backup.schedule),
        # The pins of versions.yaml the roles install (and the release's pause image).
        "kubestead_versions": versions.role_versions(k8s.version),
        "kubestead_etcd_backup_retain": backup.retain,
        "kubestead_etcd_backup_directory": backup.directory,
        "kubestead_apt_sources": list(offline.apt_sources),
        "kubestead_registry_mirrors": {
            registry: list(urls) for registry, urls in sorted(offline.registry_mirrors.items())
        },
        "kubestead_kubernetes_apt_source": offline.kubernetes_apt_source,
        "kubestead_files_mirror": offline.files_mirror,
    }
    return dict(sorted(values.items()))


def _dump(document: dict[str, Any], source_name: str) -> str:
    header = f"# Generated by kubestead render from {source_name}; do not edit.\n"
    body = yaml.safe_dump(
        document,
        sort_keys=False,  # order is decided above: sorted, except hosts in spec order
        default_flow_style=False,
        allow_unicode=True,
        width=4096,  # never fold a long apt source line
    )
    return header + "---\n" + body


def render(
    cluster: Cluster,
    source_name: str,
    *,
    overlay: Mapping[str, Any] | None = None,
    overlay_name: str = "",
) -> dict[str, str]:
    """Relative path -> file content of the inventory directory.

    `overlay` (the variables of `spec.inventoryOverlay`, already validated) becomes the
    k8s_cluster group's variables; without one that file is not written.
    """
    files = {
        HOSTS_FILE: _dump(hosts_document(cluster), source_name),
        GROUP_VARS_FILE: _dump(group_vars_document(cluster), source_name),
    }
    if overlay:
        source = f"{overlay_name} (spec.inventoryOverlay of {source_name})"
        files[OVERLAY_FILE] = _dump(dict(sorted(overlay.items())), source)
    return files


def write(files: dict[str, str], directory: Path) -> list[Path]:
    """Write the inventory all or nothing: every file goes to a temporary file beside its target
    first, and only when all are written are they renamed into place, so a failure (a
    `group_vars` that is a file, a full disk, no permission) leaves an existing inventory as it
    was. Other files in `directory` (the user's host_vars, say) are left alone."""
    created: list[Path] = []
    staged: list[tuple[Path, Path]] = []
    try:
        for relative, content in files.items():
            target = directory / relative
            created += _make_parents(target.parent)
            if target.is_dir():
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(target))
            staged.append((_stage(target, content), target))
    except BaseException:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        for folder in reversed(created):
            folder.rmdir()
        raise
    for temporary, target in staged:
        temporary.replace(target)
    # An overlay dropped from the spec must not linger in an inventory rendered before.
    if OVERLAY_FILE not in files:
        (directory / OVERLAY_FILE).unlink(missing_ok=True)
    return [target for _, target in staged]


def _make_parents(folder: Path) -> list[Path]:
    """Create `folder` and its missing parents; return the ones created, outermost first."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()][::-1]
    for path in missing:
        path.mkdir()
    return missing


def _stage(target: Path, content: str) -> Path:
    """`content` in a new temporary file beside `target` (same filesystem: the rename is atomic)."""
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, kept on success
        "w", encoding="utf-8", dir=target.parent, prefix=f".{target.name}.", delete=False
    )
    with handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    temporary = Path(handle.name)
    # The rendered files are read by Ansible only; keep them as a plain write would (0644 minus
    # the umask), not the 0600 of a temporary file.
    umask = os.umask(0)
    os.umask(umask)
    temporary.chmod(0o666 & ~umask)
    return temporary
