"""Every playbook's first play refuses a bad inventory with a message that says what to change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.ansible.ansible_run import PLAYBOOKS, TEST_INVENTORY, run_playbook


def test_ansible_inventory_check_accepts_the_contract_inventory() -> None:
    run = run_playbook("validate.yml", TEST_INVENTORY)
    assert run.returncode == 0, run.output[-3000:]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("kubestead_inventory_format=2", "re-render the inventory"),
        ("kubestead_kubernetes_version=v1.27.1", "set kubernetes.version in cluster.yaml"),
        ("kubestead_pod_cidr=10.96.0.0/16", "must not overlap"),
        ("kubestead_cni=flannel", "unsupported setting"),
        ("kubestead_api_endpoint_address=10.0.0.11", "belong to no host"),
        ("kubestead_api_endpoint_address=192.168.1.10", "it must lie in"),
        ("kubestead_etcd_backup_schedule='0 0 *'", "five cron fields"),
        ("kubestead_api_endpoint_provider=haproxy-keepalived", "set controlPlaneEndpoint.port"),
    ],
)
def test_ansible_inventory_check_refuses_with_the_fix(override: str, message: str) -> None:
    run = run_playbook("validate.yml", TEST_INVENTORY, "-e", override)
    assert run.returncode != 0
    assert message in " ".join(run.output.split()), run.output[-3000:]


def test_ansible_inventory_check_accepts_no_admin_cidrs_with_the_firewall_off() -> None:
    extra = json.dumps({"kubestead_firewall_enabled": False, "kubestead_admin_cidrs": []})
    run = run_playbook("validate.yml", TEST_INVENTORY, "-e", extra)
    assert run.returncode == 0, run.output[-3000:]


def test_ansible_inventory_check_refuses_no_admin_cidrs_with_the_firewall_on() -> None:
    extra = json.dumps({"kubestead_firewall_enabled": True, "kubestead_admin_cidrs": []})
    run = run_playbook("validate.yml", TEST_INVENTORY, "-e", extra)
    assert run.returncode != 0
    assert "at least one admin CIDR is needed" in " ".join(run.output.split()), run.output[-3000:]


def _even_control_plane(tmp_path: Path) -> Path:
    inventory = yaml.safe_load(TEST_INVENTORY.read_text(encoding="utf-8"))
    control_plane = inventory["all"]["children"]["k8s_cluster"]["children"]["control_plane"]
    del control_plane["hosts"]["cp-3"]
    hosts = tmp_path / "hosts.yml"
    hosts.write_text(yaml.safe_dump(inventory), encoding="utf-8")
    (tmp_path / "group_vars").symlink_to(TEST_INVENTORY.parent / "group_vars")
    return hosts


@pytest.mark.parametrize("allow", [None, "false"])
def test_ansible_inventory_check_refuses_an_even_control_plane(
    tmp_path: Path, allow: str | None
) -> None:
    extra = [] if allow is None else ["-e", f"kubestead_allow_even_etcd={allow}"]
    run = run_playbook("validate.yml", _even_control_plane(tmp_path), *extra)
    assert run.returncode != 0
    assert "stacked etcd needs an odd count" in " ".join(run.output.split())


def test_ansible_inventory_check_allows_an_even_control_plane_loudly(tmp_path: Path) -> None:
    """`kubestead render --allow-even-etcd` writes the flag for a member-replacement window."""
    extra = json.dumps({"kubestead_allow_even_etcd": True})
    run = run_playbook("validate.yml", _even_control_plane(tmp_path), "-e", extra)
    assert run.returncode == 0, run.output[-3000:]
    output = " ".join(run.output.split())
    assert "WARNING: 2 control-plane hosts (an even etcd membership)" in output
    assert "quorum needs 2 members" in output


def test_ansible_inventory_check_does_not_warn_for_an_odd_control_plane() -> None:
    extra = json.dumps({"kubestead_allow_even_etcd": True})
    run = run_playbook("validate.yml", TEST_INVENTORY, "-e", extra)
    assert run.returncode == 0, run.output[-3000:]
    assert "WARNING: 3 control-plane hosts" not in " ".join(run.output.split())


def test_ansible_inventory_check_runs_first_in_every_playbook() -> None:
    for playbook in PLAYBOOKS:
        plays = yaml.safe_load(playbook.read_text(encoding="utf-8"))
        first = plays[0]
        assert first.get("ansible.builtin.import_playbook") in {"validate.yml", "os.yml"} or (
            first.get("roles") == [{"role": "inventory_check"}]
        ), playbook.name
    os_plays = yaml.safe_load((PLAYBOOKS[0].parent / "os.yml").read_text(encoding="utf-8"))
    assert os_plays[0]["ansible.builtin.import_playbook"] == "validate.yml"
