"""testbed/cis.py without a cluster: reading kube-bench's report, the explained FAILs and the
page that shows them, and what is put into a host for a run."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from testbed import cis
from testbed.errors import TestbedError

DOCS = Path(__file__).resolve().parents[2] / "docs" / "cis.md"


def _report(*results: tuple[str, str]) -> str:
    """A report shaped as kube-bench's --json output, one section per result."""
    controls = [
        {
            "id": "4",
            "tests": [
                {
                    "section": number.rsplit(".", 1)[0],
                    "results": [
                        {
                            "test_number": number,
                            "test_desc": f"check {number}",
                            "status": status,
                            "actual_value": "permissions=644",
                        }
                    ],
                }
                for number, status in results
            ],
        }
    ]
    return json.dumps({"Controls": controls, "Totals": {}})


def test_parse_reads_every_check_and_counts_them() -> None:
    result = cis.parse(
        "worker-1", "worker", _report(("4.1.1", "FAIL"), ("4.1.2", "PASS"), ("4.2.1", "PASS"))
    )
    assert result.counts() == {"FAIL": 1, "PASS": 2}
    assert [(c.id, c.actual) for c in result.failing()] == [("4.1.1", "permissions=644")]
    header, row = cis.table([result]).splitlines()
    assert header.split()[-4:] == list(cis.STATUSES)
    assert row.split() == ["worker-1", "worker", "2", "1", "0", "0"]


def test_parse_refuses_what_is_not_a_report() -> None:
    with pytest.raises(TestbedError, match="cp-1: kube-bench printed no JSON report"):
        cis.parse("cp-1", "control-plane", "error: unknown flag --benchmark")
    with pytest.raises(TestbedError, match="unexpected kube-bench report"):
        cis.parse("cp-1", "control-plane", json.dumps({"Controls": []}))
    with pytest.raises(TestbedError, match=r"statuses \['SKIP'\]"):
        cis.parse("cp-1", "control-plane", _report(("1.1.1", "SKIP")))


def test_explained_failures_read_roles_and_reasons(tmp_path: Path) -> None:
    listed = tmp_path / "explained.yml"
    listed.write_text(
        "- id: '1.1.12'\n  roles: [control-plane]\n  reason: >-\n    owned by\n    root\n"
        "- id: '5.1.1'\n  roles: [cluster, worker]\n  reason: kubeadm's group\n",
        encoding="utf-8",
    )
    assert cis.explained_failures(listed) == {
        "1.1.12": {"control-plane": "owned by root"},
        "5.1.1": {"cluster": "kubeadm's group", "worker": "kubeadm's group"},
    }


def test_every_explained_failure_is_on_the_cis_page_and_nothing_else_is() -> None:
    explained = cis.explained_failures()
    assert explained, "the list of explained FAILs is empty: then docs/cis.md should say so"
    for reasons in explained.values():
        assert set(reasons) <= {"control-plane", "worker", "cluster"}
    # docs/cis.md's table of explained FAILs: `| 1.1.12 | control-plane | ... |`
    rows = re.findall(
        r"^\| `?(\d+(?:\.\d+)+)`? \| ([a-z, -]+) \|", DOCS.read_text(encoding="utf-8"), re.M
    )
    on_page = {check: {role.strip() for role in roles.split(",")} for check, roles in rows}
    assert on_page == {check: set(reasons) for check, reasons in explained.items()}


def test_install_puts_kube_bench_its_definitions_and_jq_under_the_host_root(tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    for path in (
        "bin/kube-bench",
        f"share/kube-bench/cfg/{cis.BENCHMARK}/node.yaml",
        "share/kube-bench/bin/jq",
    ):
        (tools / path).parent.mkdir(parents=True, exist_ok=True)
        (tools / path).write_text(path, encoding="utf-8")
    root = tmp_path / "rootfs"
    installed = cis.install(cis.KubeBench.installed_in(tools), root)
    assert installed == root / cis.IN_HOST.lstrip("/")
    assert (installed / "kube-bench").read_text(encoding="utf-8") == "bin/kube-bench"
    assert (installed / "cfg" / cis.BENCHMARK / "node.yaml").is_file()
    assert (installed / "bin" / "jq").is_file()
    # A second run replaces what the first left, rather than failing on it.
    assert cis.install(cis.KubeBench.installed_in(tools), root) == installed


def test_installed_in_names_the_target_that_builds_it(tmp_path: Path) -> None:
    with pytest.raises(TestbedError, match="run `make cis-tools`"):
        cis.KubeBench.installed_in(tmp_path)


def test_argv_runs_the_audits_with_bash_as_sh_and_jq_on_the_path() -> None:
    argv = cis.argv(cis.POLICY_TARGETS, "/etc/kubernetes/admin.conf")
    assert argv[:5] == ["unshare", "--mount", "--propagation", "private", "--"]
    assert "mount --bind /bin/bash /bin/sh" in argv[7]
    assert any(arg.startswith(f"PATH={cis.IN_HOST}/bin:") for arg in argv)
    assert "KUBECONFIG=/etc/kubernetes/admin.conf" in argv
    assert argv[argv.index("--targets") + 1] == "policies"
    assert argv[argv.index("--benchmark") + 1] == cis.BENCHMARK
