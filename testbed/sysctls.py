"""Machine-wide sysctls: what they were before the hosts started, and putting them back.

The hosts share the machine's kernel. Keys under net.* belong to each host's network namespace,
but kernel.*, vm.* and fs.* are the machine's: the kubelet sets `vm.overcommit_memory=1`,
`kernel.panic=10` and `kernel.panic_on_oops=1` on every node it starts, and a CNI may set more.
`save` records every readable and writable one before the first host boots; `restore` writes
back those that changed.
"""

from __future__ import annotations

import json
from pathlib import Path

PROC_SYS = Path("/proc/sys")
TREES = ("kernel", "vm", "fs")
# Counters and triggers, not settings: they change on their own or act when written.
VOLATILE = {
    "kernel/ns_last_pid",
    "kernel/random/boot_id",
    "kernel/random/uuid",
    "kernel/hostname",
    "kernel/domainname",
    "vm/drop_caches",
    "vm/compact_memory",
    "fs/binfmt_misc/register",
    "fs/binfmt_misc/status",
}


def _settings() -> dict[str, str]:
    values: dict[str, str] = {}
    for tree in TREES:
        for path in sorted((PROC_SYS / tree).rglob("*")):
            key = str(path.relative_to(PROC_SYS))
            if key in VOLATILE or key.startswith("fs/binfmt_misc/") or not path.is_file():
                continue
            if not path.stat().st_mode & 0o200:
                continue
            try:
                values[key] = path.read_text()
            except OSError:
                continue  # write-only or refusing reads in this context
    return values


def save(target: Path) -> None:
    """Record the machine's writable kernel-wide sysctls in target (JSON)."""
    target.write_text(json.dumps(_settings(), indent=0, sort_keys=True))


def restore(source: Path) -> list[str]:
    """Write back every recorded sysctl that changed; return them as `key=value`."""
    try:
        saved: dict[str, str] = json.loads(source.read_text())
    except (FileNotFoundError, ValueError):
        return []
    current = _settings()
    restored = []
    for key, value in saved.items():
        if current.get(key, value) == value:
            continue
        try:
            (PROC_SYS / key).write_text(value)
        except OSError:
            continue  # some keys only move one way (kernel.unprivileged_bpf_disabled)
        restored.append(f"{key.replace('/', '.')}={value.strip()}")
    return restored
