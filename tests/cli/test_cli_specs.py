"""The valid/ and invalid/ spec folders, one file at a time, through `kubestead validate`."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from kubestead.cli import app

SPECS = Path(__file__).resolve().parents[1] / "specs"

VALID = sorted((SPECS / "valid").glob("*.yaml"))
INVALID = sorted((SPECS / "invalid").glob("*.yaml"))


def expected_line(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name}: first line must be `# expect: ...`"
    return first.removeprefix("# expect: ")


@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_cli_valid_spec_is_accepted(runner: CliRunner, path: Path) -> None:
    result = runner.invoke(app, ["validate", "-f", str(path)])
    assert result.exit_code == 0, result.output
    assert "error:" not in result.stderr
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1].startswith(f"{path}: valid — cluster ")


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_cli_invalid_spec_is_refused_with_its_message(runner: CliRunner, path: Path) -> None:
    result = runner.invoke(app, ["validate", "-f", str(path)])
    assert result.exit_code == 1, result.output
    assert f"{path}:{expected_line(path)}" in result.stderr.splitlines()
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_cli_spec_folders_cover_every_rule() -> None:
    # One invalid file per rule of the issue; a rule without a file is a rule without a test.
    names = {p.stem for p in INVALID}
    assert {
        "even-control-planes-2",
        "even-control-planes-4",
        "no-control-plane",
        "duplicate-host-name",
        "duplicate-host-address",
        "host-name-not-dns-label",
        "host-outside-private-cidr",
        "cidr-overlap-pod-service",
        "cidr-overlap-pod-private",
        "cidr-host-bits",
        "endpoint-outside-private-cidr",
        "endpoint-is-host-address",
        "version-without-v",
        "version-unsupported",
        "unknown-key-near-miss",
        "not-a-mapping",
        "empty-file",
        "wrong-api-version",
        "wrong-kind",
        "yaml-syntax-error",
    } <= names
    assert len(VALID) >= 5


def test_cli_allow_even_etcd_accepts_two_control_planes_loudly(runner: CliRunner) -> None:
    path = SPECS / "invalid" / "even-control-planes-2.yaml"
    result = runner.invoke(app, ["validate", "-f", str(path), "--allow-even-etcd"])
    assert result.exit_code == 0, result.output
    assert (
        f"{path}:16: warning: spec.hosts: ALLOWED BY --allow-even-etcd: 2 control planes run a "
        "2-member etcd, which needs both members for quorum and tolerates no failure — finish "
        "the member replacement and return to 3 or 1 control planes"
    ) in result.stderr.splitlines()


def test_cli_every_problem_is_reported_at_once(runner: CliRunner, tmp_path: Path) -> None:
    text = (SPECS / "valid" / "three-control-planes.yaml").read_text(encoding="utf-8")
    broken = (
        text.replace("address: 10.0.0.21", "address: 10.0.1.21")
        .replace("name: cp-2", "name: cp-1")
        .replace("serviceCIDR: 10.96.0.0/12", "serviceCIDR: 10.244.0.0/24")
    )
    path = tmp_path / "cluster.yaml"
    path.write_text(broken, encoding="utf-8")
    result = runner.invoke(app, ["validate", "-f", str(path)])
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert [e.split(": error: ")[1].split(":")[0] for e in errors] == [
        "spec.kubernetes.serviceCIDR",
        "spec.hosts[1].name",
        "spec.hosts[3].address",
    ]


def test_cli_validate_json(runner: CliRunner) -> None:
    path = SPECS / "invalid" / "cidr-host-bits.yaml"
    result = runner.invoke(app, ["validate", "-f", str(path), "--json"])
    assert result.exit_code == 1
    import json

    assert json.loads(result.stdout) == {
        "valid": False,
        "issues": [
            {
                "severity": "error",
                "path": "spec.network.privateCIDR",
                "line": 13,
                "message": "`10.0.0.1/24` has host bits set — did you mean 10.0.0.0/24?",
            }
        ],
    }
