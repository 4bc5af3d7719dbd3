"""Every playbook's first play guards the inventory: the format these playbooks read, every
contract variable present, the host groups. What a spec may say is refused earlier, by the CLI
(tests/cli/test_cli_specs.py, one invalid spec per rule)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.ansible.ansible_run import PLAYBOOKS, TEST_INVENTORY, run_playbook


def test_ansible_inventory_check_accepts_the_contract_inventory() -> None:
    run = run_playbook("validate.yml", TEST_INVENTORY)
    assert run.returncode == 0, run.output[-3000:]


def test_ansible_inventory_check_refuses_another_format_with_the_fix() -> None:
    run = run_playbook("validate.yml", TEST_INVENTORY, "-e", "kubestead_inventory_format=2")
    assert run.returncode != 0
    assert "re-render the inventory" in " ".join(run.output.split()), run.output[-3000:]


def _inventory_without(tmp_path: Path, variable: str) -> Path:
    group_vars = yaml.safe_load((TEST_INVENTORY.parent / "group_vars" / "all.yml").read_text())
    del group_vars[variable]
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "all.yml").write_text(yaml.safe_dump(group_vars))
    hosts = tmp_path / "hosts.yml"
    hosts.write_text(TEST_INVENTORY.read_text())
    return hosts


@pytest.mark.parametrize("variable", ["kubestead_versions", "kubestead_etcd_backup_on_calendar"])
def test_ansible_inventory_check_refuses_a_missing_contract_variable(
    tmp_path: Path, variable: str
) -> None:
    run = run_playbook("validate.yml", _inventory_without(tmp_path, variable))
    assert run.returncode != 0
    output = " ".join(run.output.split())
    assert f"lacks {variable}" in output and "re-render it with `kubestead render`" in output


def test_ansible_inventory_check_refuses_an_inventory_without_the_groups(tmp_path: Path) -> None:
    inventory = yaml.safe_load(TEST_INVENTORY.read_text(encoding="utf-8"))
    cluster = inventory["all"]["children"].pop("k8s_cluster")
    inventory["all"]["children"]["nodes"] = cluster
    hosts = tmp_path / "hosts.yml"
    hosts.write_text(yaml.safe_dump(inventory), encoding="utf-8")
    (tmp_path / "group_vars").symlink_to(TEST_INVENTORY.parent / "group_vars")
    run = run_playbook("validate.yml", hosts)
    assert run.returncode != 0
    assert "the inventory needs the groups k8s_cluster" in " ".join(run.output.split())


def test_ansible_inventory_check_runs_first_in_every_playbook() -> None:
    for playbook in PLAYBOOKS:
        plays = yaml.safe_load(playbook.read_text(encoding="utf-8"))
        first = plays[0]
        assert first.get("ansible.builtin.import_playbook") in {"validate.yml", "os.yml"} or (
            first.get("roles") == [{"role": "inventory_check"}]
        ), playbook.name
    os_plays = yaml.safe_load((PLAYBOOKS[0].parent / "os.yml").read_text(encoding="utf-8"))
    assert os_plays[0]["ansible.builtin.import_playbook"] == "validate.yml"


VALID_SPECS = sorted((Path(__file__).resolve().parents[1] / "specs" / "valid").glob("*.yaml"))


@pytest.mark.parametrize("spec", VALID_SPECS, ids=[p.stem for p in VALID_SPECS])
def test_ansible_inventory_check_accepts_every_valid_spec_rendered(
    tmp_path: Path, spec: Path
) -> None:
    # What the CLI accepts, the playbooks accept: every valid spec, rendered by the CLI itself.
    rendered = subprocess.run(
        [sys.executable, "-m", "kubestead", "render", "-f", str(spec), "-o", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert rendered.returncode == 0, rendered.stderr
    run = run_playbook("validate.yml", tmp_path / "hosts.yml")
    assert run.returncode == 0, run.output[-3000:]
