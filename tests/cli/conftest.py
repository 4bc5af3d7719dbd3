"""Shared fixtures: a spec whose hosts are this machine (test hosts: tests/conftest.py)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "cluster.yaml"
SPECS = REPO / "tests" / "specs"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# Three control planes and a worker, all reached with Ansible's local connection (set by the
# `local_ansible` fixture), so no address is ever connected to; they are TEST-NET-1 (RFC 5737,
# documentation only, never routed) because the spec refuses loopback addresses.
LOCAL_SPEC = """\
apiVersion: kubestead.io/v1alpha1
kind: Cluster
metadata:
  name: local
spec:
  kubernetes:
    version: {version}
    controlPlaneEndpoint: {{address: 192.0.2.10, port: 6443, provider: kube-vip}}
  network:
    privateCIDR: 192.0.2.0/24
    adminCIDRs: [192.0.2.0/24]
  ssh: {{user: root, privateKeyFile: /nonexistent}}
  hosts:
    - {{name: cp-1, address: 192.0.2.11, role: control-plane}}
    - {{name: cp-2, address: 192.0.2.12, role: control-plane}}
    - {{name: cp-3, address: 192.0.2.13, role: control-plane}}
    - {{name: worker-1, address: 192.0.2.21, role: worker}}
"""


# The end-of-life rule reads today's date; every test sees this one, after the end of life of
# 1.30 and 1.31 and before none of the supported minors' (tests that need another pass `today`).
FIXED_TODAY = dt.date(2026, 1, 15)


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> dt.date:
    from kubestead.spec import rules

    monkeypatch.setattr(rules, "current_date", lambda: FIXED_TODAY)
    return FIXED_TODAY


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
