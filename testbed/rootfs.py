"""The hosts' root filesystem: a debootstrapped bookworm with systemd and sshd, cached.

Built once per set of inputs into `<cache>/rootfs-<key>/` (a zstd tarball, the durable artifact,
and `tree/`, its extraction, which every host mounts read-only as the lower layer of an overlay).
Machine-specific state (host keys, machine-id, apt lists) is stripped here and made per host.
It has what a cloud image has: systemd, sshd, Python, sudo and a sudo user, and no package
sources: the hosts get theirs from the spec (`spec.offline.aptSources`), as air-gapped VMs do.
"""

import os
import shutil
from pathlib import Path

from testbed.cache import cache_key, cached_entry
from testbed.commands import run
from testbed.mirror import SUITE, DebianMirror
from testbed.nodes import ENTRYPOINT, entrypoint_script
from testbed.settings import SSH_USER

# What a cloud VM image has and Ansible needs: systemd as init, sshd, Python with apt bindings.
# iputils-ping lets the smoke test prove host-to-host reachability.
PACKAGES = (
    "systemd",
    "systemd-sysv",
    "dbus",
    "openssh-server",
    "python3",
    "python3-apt",
    "sudo",
    "iproute2",
    "iptables",
    "kmod",
    "procps",
    "ca-certificates",
    "iputils-ping",
)
# Bump when the customisation below changes, so cached trees are rebuilt.
_LAYOUT_VERSION = 3
_DEBOOTSTRAP_TIMEOUT_S = 1200
# A privileged container sees the machine's devices: a getty would take over the machine's
# console, and binfmt registrations are kernel-wide. Nothing else needed masking (checked).
MASKED_UNITS = (
    "getty@.service",
    "serial-getty@.service",
    "console-getty.service",
    "systemd-binfmt.service",
    "proc-sys-fs-binfmt_misc.automount",
    "proc-sys-fs-binfmt_misc.mount",
)


def rootfs_key(mirror: DebianMirror) -> str:
    """The cache key of the root filesystem for this mirror."""
    return cache_key(
        {
            "suite": SUITE,
            "variant": "minbase",
            "packages": sorted(PACKAGES),
            "mirror": mirror.uri,
            "layout": _LAYOUT_VERSION,
            "entrypoint": entrypoint_script(),
            "user": SSH_USER,
        }
    )


def cached_rootfs(cache_dir: Path, mirror: DebianMirror) -> tuple[Path, bool]:
    """The extracted tree to use as overlay lower layer; (tree, True) when it was just built."""
    entry, built = cached_entry(
        cache_dir, f"rootfs-{rootfs_key(mirror)}", lambda scratch: _build(scratch, mirror)
    )
    tree = entry / "tree"
    if not tree.is_dir():
        # The tarball survives a pruned tree: extracting takes seconds, debootstrap minutes.
        scratch = entry / ".tree-extracting"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir()
        run(
            [
                "tar",
                "--zstd",
                "--numeric-owner",
                "-xpf",
                str(entry / "rootfs.tar.zst"),
                "-C",
                str(scratch),
            ]
        )
        scratch.rename(tree)
    return tree, built


def _build(scratch: Path, mirror: DebianMirror) -> None:
    tree = scratch / "tree"
    run(
        [
            "debootstrap",
            "--variant=minbase",
            f"--include={','.join(PACKAGES)}",
            SUITE,
            str(tree),
            mirror.uri,
        ],
        timeout=_DEBOOTSTRAP_TIMEOUT_S,
    )
    _strip_machine_state(tree)
    run(
        [
            "tar",
            "--zstd",
            "--numeric-owner",
            "--xattrs",
            "-cpf",
            str(scratch / "rootfs.tar.zst"),
            "-C",
            str(tree),
            ".",
        ],
        timeout=600,
    )


def _strip_machine_state(tree: Path) -> None:
    # The hosts have no way to the mirror: only the harness's repository, added per host.
    (tree / "etc/apt/sources.list").write_text("# Test host: see /etc/apt/sources.list.d/\n")
    for stale in ("var/lib/apt/lists", "var/cache/apt/archives"):
        for item in (tree / stale).glob("*"):
            if item.is_file():
                item.unlink()
    # No DNS on the bridge: names of the other hosts come from /etc/hosts.
    (tree / "etc/resolv.conf").write_text("")
    for key in (tree / "etc/ssh").glob("ssh_host_*"):
        key.unlink()
    (tree / "etc/machine-id").write_text("")
    (tree / "etc/hostname").write_text("localhost\n")
    ssh_dir = tree / "root/.ssh"
    ssh_dir.mkdir(mode=0o700, exist_ok=True)
    # pam_env reads it at every SSH login and logs an error when it is missing.
    (tree / "etc/default/locale").write_text("LANG=C.UTF-8\n")
    for unit in MASKED_UNITS:
        link = tree / "etc/systemd/system" / unit
        link.unlink(missing_ok=True)
        link.symlink_to("/dev/null")
    entrypoint = tree / ENTRYPOINT.lstrip("/")
    entrypoint.write_text(entrypoint_script())
    entrypoint.chmod(0o755)
    _add_sudo_user(tree)


def _add_sudo_user(tree: Path) -> None:
    # The login a cloud image gives: a user with passwordless sudo, reached by key only.
    run(["chroot", str(tree), "useradd", "--create-home", "--shell", "/bin/bash", SSH_USER])
    sudoers = tree / "etc/sudoers.d" / SSH_USER
    sudoers.write_text(f"{SSH_USER} ALL=(ALL) NOPASSWD:ALL\n")
    sudoers.chmod(0o440)
    ssh_dir = tree / "home" / SSH_USER / ".ssh"
    ssh_dir.mkdir(mode=0o700)
    uid_gid = (tree / "etc/passwd").read_text().split(f"\n{SSH_USER}:x:", 1)[1].split(":")[:2]
    for path in (ssh_dir, ssh_dir.parent):
        os.chown(path, int(uid_gid[0]), int(uid_gid[1]))
