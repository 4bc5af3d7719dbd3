"""Every pinned version lives in src/kubestead/versions.yaml, and nowhere else in the code.

The CLI, `render` (kubestead_versions in the inventory), the roles and the testbed read it; a
pin written anywhere else is a second copy that will disagree one day. Tests keep their own
expected values (they check behaviour against the sources the data file names), and cluster
specs are data a user writes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from kubestead import versions
from kubestead.render import render
from kubestead.spec.validate import validate_file

REPO = Path(__file__).resolve().parents[2]
# Code and configuration that must read the pins instead of writing them.
SCANNED = ("ansible/roles", "ansible/playbooks", "src/kubestead", "testbed", "e2e", "mk", "scripts")
SUFFIXES = {".py", ".yml", ".yaml", ".j2", ".mk", ".toml", ".cfg", ".sh"}
# Specs (user data: they must name a version) and Go's own pins of the wrapper modules.
EXEMPT = {
    "src/kubestead/versions.yaml",
    "src/kubestead/starter.yaml",
    "testbed/cluster.yaml",
    "testbed/cluster-haproxy.yaml",
    "testbed/cluster-conformance.yaml",
}


def _leaves(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from _leaves(value)
    elif isinstance(node, list):
        for value in node:
            yield from _leaves(value)
    else:
        yield str(node)


def pins() -> set[str]:
    """The data file's full versions (MAJOR.MINOR.PATCH forms, image tags, toolchains)."""
    data = yaml.safe_load(versions.DATA_FILE.read_text(encoding="utf-8"))
    full = re.compile(r"\d+\.\d+\.(\d+|\*)|^go\d")
    return {leaf for leaf in _leaves(data) if full.search(leaf) and " " not in leaf}


def test_cli_versions_are_written_only_in_the_data_file() -> None:
    found = []
    patterns = {pin: re.compile(rf"(?<![\w.]){re.escape(pin)}(?![\w])") for pin in pins()}
    for root in SCANNED:
        for path in sorted((REPO / root).rglob("*")):
            relative = str(path.relative_to(REPO))
            if not path.is_file() or path.suffix not in SUFFIXES or relative in EXEMPT:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            for pin, pattern in patterns.items():
                for match in pattern.finditer(text):
                    found.append(f"{relative}:{text.count(chr(10), 0, match.start()) + 1}: {pin}")
    assert not found, "versions written outside versions.yaml:\n" + "\n".join(found)


def test_cli_versions_reach_the_roles_through_the_inventory() -> None:
    spec = REPO / "examples" / "cluster.yaml"
    result = validate_file(spec)
    assert result.cluster is not None
    group_vars = yaml.safe_load(render(result.cluster, spec.name)["group_vars/all.yml"])
    pinned = group_vars["kubestead_versions"]
    assert pinned["kube_vip"] == versions.KUBE_VIP_VERSION
    assert pinned["containerd"] == versions.CONTAINERD_VERSIONS
    # The sandbox image follows the cluster's release, as kubeadm's does.
    images, _ = versions.kubeadm_images(result.cluster.spec.kubernetes.version)
    assert pinned["pause"] == images.pause
