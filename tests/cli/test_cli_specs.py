"""The valid/ and invalid/ spec folders, one file at a time, through `kubestead validate`."""

from __future__ import annotations

import datetime as dt
import inspect
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kubestead.cli import app
from kubestead.spec import rules, types
from kubestead.spec.loader import MAX_BYTES
from kubestead.spec.rules import Options
from kubestead.spec.validate import validate_file

SPECS = Path(__file__).resolve().parents[1] / "specs"

VALID = sorted((SPECS / "valid").glob("*.yaml"))
INVALID = sorted((SPECS / "invalid").glob("*.yaml"))
WARNING = sorted((SPECS / "warning").glob("*.yaml"))


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


REFUSED_OR_WARNED = [(p, 1) for p in INVALID] + [(p, 0) for p in WARNING]


@pytest.mark.parametrize(
    ("path", "exit_code"), REFUSED_OR_WARNED, ids=[p.stem for p, _ in REFUSED_OR_WARNED]
)
def test_cli_example_spec_gets_its_message(runner: CliRunner, path: Path, exit_code: int) -> None:
    # invalid/: refused; warning/: accepted with the warning. The first line is the message.
    result = runner.invoke(app, ["validate", "-f", str(path)])
    assert result.exit_code == exit_code, result.output
    assert f"{path}:{expected_line(path)}" in result.stderr.splitlines()
    assert "Traceback" not in result.output
    assert result.stdout == ""


def rule_of(path: Path) -> str:
    last = path.read_text(encoding="utf-8").splitlines()[-1]
    assert last.startswith("# rule: "), f"{path.name}: last line must be `# rule: NAME`"
    return last.removeprefix("# rule: ")


# The stages that refuse a spec before the rules run, each with its own examples.
STAGES = {"loader", "header", "schema", "overlay"}


def every_check() -> set[str]:
    """Every check a spec passes through: the cross-field rules and the field types' checks."""
    checks = {name for name, _ in inspect.getmembers(types, inspect.isfunction)}
    return {rule.__name__ for rule in rules.RULES} | {
        name for name in checks if name.startswith("check_")
    }


def test_cli_every_check_has_an_example_that_trips_it() -> None:
    # Derived from the code: a new rule or field check without an example file fails here.
    named = {rule_of(path) for path in INVALID + WARNING}
    assert named <= every_check() | STAGES, "a `# rule:` names no rule or check"
    assert every_check() | STAGES <= named, "add an example to tests/specs/ for each one"


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


def with_control_planes(count: int) -> str:
    """The three-control-plane valid spec with `count` control planes (10.0.0.11 upwards)."""
    text = (SPECS / "valid" / "three-control-planes.yaml").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if "role: control-plane" not in line]
    at = next(i for i, line in enumerate(lines) if line.strip() == "hosts:") + 1
    planes = [
        f"    - {{name: cp-{n}, address: 10.0.0.{10 + n}, role: control-plane}}"
        for n in range(1, count + 1)
    ]
    return "\n".join(lines[:at] + planes + lines[at:]) + "\n"


def test_cli_allow_even_etcd_words_four_members_correctly(
    runner: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "cluster.yaml"
    path.write_text(with_control_planes(4), encoding="utf-8")
    result = runner.invoke(app, ["validate", "-f", str(path), "--allow-even-etcd"])
    assert result.exit_code == 0, result.output
    assert (
        "warning: spec.hosts: ALLOWED BY --allow-even-etcd: 4 control planes run 4 etcd members, "
        "which tolerate 1 failure (quorum is 3), no more than 3 members do — finish the member "
        "replacement and return to 5 or 3 control planes"
    ) in result.stderr


@pytest.mark.parametrize(("count", "tolerated"), [(4, "1 failure"), (6, "2 failures")])
def test_cli_even_etcd_message_counts_the_failures_tolerated(
    runner: CliRunner, tmp_path: Path, count: int, tolerated: str
) -> None:
    path = tmp_path / "cluster.yaml"
    path.write_text(with_control_planes(count), encoding="utf-8")
    result = runner.invoke(app, ["validate", "-f", str(path)])
    assert result.exit_code == 1
    assert (
        f"spec.hosts: {count} control planes run {count} etcd members, which tolerate "
        f"{tolerated} (quorum is {count // 2 + 1}), no more than {count - 1} members do — use "
        f"{count - 1} or {count + 1} control planes"
    ) in result.stderr


@pytest.mark.parametrize("flags", [[], ["--allow-even-etcd"]])
def test_cli_more_than_seven_control_planes_is_refused_even_with_the_flag(
    runner: CliRunner, tmp_path: Path, flags: list[str]
) -> None:
    path = tmp_path / "cluster.yaml"
    path.write_text(with_control_planes(8), encoding="utf-8")
    result = runner.invoke(app, ["validate", "-f", str(path), *flags])
    assert result.exit_code == 1, result.output
    assert (
        "error: spec.hosts: 8 control planes run 8 etcd members: every write waits for 5 of "
        "them — use 3, 5 or 7"
    ) in result.stderr
    assert "ALLOWED BY" not in result.stderr


@pytest.mark.parametrize(
    ("provider", "port", "ok"),
    [
        ("kube-vip", 6443, True),
        ("kube-vip", 8443, False),
        ("haproxy-keepalived", 8443, True),
        ("haproxy-keepalived", 6443, False),
        ("external", 6443, True),
        ("external", 8443, True),
    ],
)
def test_cli_endpoint_port_follows_the_provider(
    runner: CliRunner, tmp_path: Path, provider: str, port: int, ok: bool
) -> None:
    text = (SPECS / "valid" / "three-control-planes.yaml").read_text(encoding="utf-8")
    old = "{address: 10.0.0.10, port: 6443, provider: kube-vip}"
    assert old in text
    path = tmp_path / "cluster.yaml"
    path.write_text(
        text.replace(old, f"{{address: 10.0.0.10, port: {port}, provider: {provider}}}"),
        encoding="utf-8",
    )
    result = runner.invoke(app, ["validate", "-f", str(path)])
    assert result.exit_code == (0 if ok else 1), result.output
    assert ("controlPlaneEndpoint.port" in result.stderr) is not ok


@pytest.mark.parametrize(
    ("today", "warned"),
    [(dt.date(2025, 7, 14), False), (dt.date(2025, 7, 15), True), (dt.date(2031, 1, 1), True)],
)
def test_cli_end_of_life_warning_starts_on_the_day(today: dt.date, warned: bool) -> None:
    # 1.30 reached end of life on 2025-07-15 (versions.yaml); the date is injected, not read.
    result = validate_file(
        SPECS / "warning" / "version-past-end-of-life.yaml", Options(today=today)
    )
    assert result.ok
    messages = [issue.message for issue in result.warnings]
    assert any("reached upstream end of life on 2025-07-15" in m for m in messages) is warned


@pytest.mark.parametrize("source", ["large", "endless"])
def test_cli_spec_larger_than_the_limit_is_refused_in_one_line(
    runner: CliRunner, tmp_path: Path, source: str
) -> None:
    path = Path("/dev/zero")
    if source == "large":
        path = tmp_path / "cluster.yaml"
        text = (SPECS / "valid" / "three-control-planes.yaml").read_text(encoding="utf-8")
        path.write_text(text + "#" * MAX_BYTES + "\n", encoding="utf-8")
    result = runner.invoke(app, ["validate", "-f", str(path)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"{path}: error: is larger than 1024 KiB, which no cluster spec needs — pass the "
        "cluster spec itself\n"
    )


def test_cli_long_values_are_cut_short_in_messages(runner: CliRunner, tmp_path: Path) -> None:
    text = (SPECS / "valid" / "three-control-planes.yaml").read_text(encoding="utf-8")
    path = tmp_path / "cluster.yaml"
    path.write_text(text.replace("name: lab", "name: " + "A" * 100_000), encoding="utf-8")
    result = runner.invoke(app, ["validate", "-f", str(path)])
    assert result.exit_code == 1
    [line] = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert f"metadata.name: `{'A' * 59}…` is not a DNS-1123 label" in line
    assert len(line) < 300
