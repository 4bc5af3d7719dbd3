"""Shared fixtures: a spec whose hosts are this machine (test hosts: tests/conftest.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "cluster.yaml"
SPECS = REPO / "tests" / "specs"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# Three control planes and a worker, all reached with Ansible's local connection (set by the
# `local_ansible` fixture): the addresses are loopback so nothing could leave the machine.
LOCAL_SPEC = """\
apiVersion: kubestead.io/v1alpha1
kind: Cluster
metadata:
  name: local
spec:
  kubernetes:
    version: {version}
    controlPlaneEndpoint: {{address: 127.0.0.10, port: 6443, provider: kube-vip}}
  network:
    privateCIDR: 127.0.0.0/24
    adminCIDRs: [127.0.0.0/24]
  ssh: {{user: root, privateKeyFile: /nonexistent}}
  hosts:
    - {{name: cp-1, address: 127.0.0.11, role: control-plane}}
    - {{name: cp-2, address: 127.0.0.12, role: control-plane}}
    - {{name: cp-3, address: 127.0.0.13, role: control-plane}}
    - {{name: worker-1, address: 127.0.0.21, role: worker}}
"""


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def local_spec(tmp_path: Path) -> Path:
    path = tmp_path / "cluster.yaml"
    path.write_text(LOCAL_SPEC.format(version="v1.31.4"), encoding="utf-8")
    return path


@pytest.fixture
def local_ansible(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every host of the inventory is this machine: Ansible's default connection is local."""
    monkeypatch.setenv("ANSIBLE_TRANSPORT", "local")
    monkeypatch.setenv("ANSIBLE_PYTHON_INTERPRETER", sys.executable)
    monkeypatch.setenv("ANSIBLE_LOCAL_TEMP", "/tmp/kubestead-test-ansible")
    monkeypatch.setenv("ANSIBLE_NOCOLOR", "1")
