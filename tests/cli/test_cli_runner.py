"""The runner class: the arguments it gives ansible-runner, and real runs on this machine."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from kubestead.cli import app
from kubestead.progress import HostCounts, ProgressView
from kubestead.render import render
from kubestead.runner import PlaybookRequest, PlaybookRunner
from kubestead.spec.validate import validate_file

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TINY = FIXTURES / "tiny.yml"
LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}


def inventory_of(spec: Path) -> dict[str, str]:
    cluster = validate_file(spec).cluster
    assert cluster is not None
    return render(cluster, spec.name)


def test_cli_runner_arguments(tmp_path: Path, local_spec: Path) -> None:
    runner = PlaybookRunner(FIXTURES / "ansible")
    request = PlaybookRequest(
        TINY, inventory_of(local_spec), limit="cp-1", check=True, extravars={"a": 1}
    )

    def handler(event: dict[str, Any]) -> bool:
        return True

    arguments = runner.arguments(request, tmp_path, handler)
    path = arguments["envvars"].pop("PATH")
    assert "ansible-playbook" in {
        p.name for d in path.split(":") for p in Path(d).glob("ansible-*")
    }
    assert arguments == {
        "private_data_dir": str(tmp_path),
        "playbook": str(TINY),
        "inventory": str(tmp_path / "inventory"),
        "limit": "cp-1",
        "cmdline": "--check",
        "envvars": {"ANSIBLE_CONFIG": str(FIXTURES / "ansible" / "ansible.cfg")},
        "extravars": {"a": 1},
        "event_handler": handler,
        "quiet": True,
        "suppress_env_files": True,
    }


def test_cli_runner_without_limit_or_check(tmp_path: Path, local_spec: Path) -> None:
    arguments = PlaybookRunner(tmp_path / "no-ansible").arguments(
        PlaybookRequest(TINY, inventory_of(local_spec)), tmp_path, lambda e: True
    )
    assert "limit" not in arguments
    assert "cmdline" not in arguments
    assert set(arguments["envvars"]) == {"PATH"}  # no ansible.cfg there: none is forced


@pytest.mark.slow
def test_cli_runner_real_run_streams_events(local_spec: Path) -> None:
    events: list[str] = []
    stream = io.StringIO()
    view = ProgressView(Console(file=stream, width=200), "tiny")
    request = PlaybookRequest(TINY, inventory_of(local_spec), limit="cp-1", extravars=LOCAL)

    def handle(event: dict[str, Any]) -> bool:
        events.append(event.get("event", ""))
        return view.handle(event)

    with view:
        summary = PlaybookRunner(FIXTURES / "ansible").run(request, handle)
    assert summary.ok, summary
    assert summary.hosts == {"cp-1": HostCounts(ok=3, changed=1, failed=0, skipped=1)}
    assert summary.host_reports("tiny") == [{"host": "cp-1", "cluster": "local"}]
    assert events.count("runner_on_ok") == 3
    assert events[-1] == "playbook_on_stats"
    assert stream.getvalue() == "tiny\nplay: Exercise the kubestead runner on the local machine\n"


@pytest.mark.slow
def test_cli_runner_real_failure_is_reported_with_host_and_message(local_spec: Path) -> None:
    stream = io.StringIO()
    request = PlaybookRequest(
        TINY, inventory_of(local_spec), limit="cp-2", extravars={**LOCAL, "tiny_fail": True}
    )
    with ProgressView(Console(file=stream, width=200), "tiny") as view:
        summary = PlaybookRunner(FIXTURES / "ansible").run(request, view.handle)
    assert not summary.ok
    assert summary.status == "failed"
    assert [f.render() for f in summary.failures] == [
        "cp-2: failed at task `Fail when the test asks for it`: failure requested by the test"
    ]
    assert stream.getvalue().splitlines()[-1] == summary.failures[0].render()


@pytest.mark.slow
@pytest.mark.usefixtures("local_ansible")
def test_cli_apply_end_to_end_on_this_machine(runner: CliRunner, local_spec: Path) -> None:
    # The whole apply path: validate, render, the packaged probe on every control plane (all
    # local: no /etc/kubernetes/admin.conf, so no cluster), plan an install, run the stand-in
    # cluster.yml with the rendered inventory through ansible-runner.
    result = runner.invoke(
        app, ["apply", "-f", str(local_spec), "--ansible-dir", str(FIXTURES / "ansible")]
    )
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert "plan: cluster.yml: install Kubernetes v1.31.4 on 4 hosts" in lines
    assert "cp-1: ok=1 changed=0 failed=0 unreachable=0 skipped=1" in lines
    assert "worker-1: ok=1 changed=0 failed=0 unreachable=0 skipped=1" in lines
    assert lines[-1] == "apply: done, 0 changes"


@pytest.mark.slow
@pytest.mark.usefixtures("local_ansible")
def test_cli_apply_failure_is_one_line(
    runner: CliRunner, local_spec: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBESTEAD_TEST_FAIL_HOST", "cp-2")
    result = runner.invoke(
        app,
        ["apply", "-f", str(local_spec), "--check", "--ansible-dir", str(FIXTURES / "ansible")],
    )
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "error: cluster.yml failed: cp-2: failed at task `Fail when the test asks for it`: "
        "stand-in failure on cp-2"
    )
    assert "Traceback" not in result.output


@pytest.mark.slow
@pytest.mark.usefixtures("local_ansible")
def test_cli_apply_without_playbooks_is_one_line(
    runner: CliRunner, local_spec: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "ansible"
    empty.mkdir()
    result = runner.invoke(app, ["apply", "-f", str(local_spec), "--ansible-dir", str(empty)])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"error: {empty}/playbooks/cluster.yml: playbook not found — run kubestead from the "
        "repository root or pass --ansible-dir (or set KUBESTEAD_ANSIBLE_DIR) to the folder "
        "with ansible.cfg and playbooks/"
    )


@pytest.mark.slow
def test_cli_progress_view_draws_live_on_a_terminal(local_spec: Path) -> None:
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=True, width=120)
    request = PlaybookRequest(TINY, inventory_of(local_spec), limit="cp-3", extravars=LOCAL)
    with ProgressView(console, "tiny") as view:
        summary = PlaybookRunner(FIXTURES / "ansible").run(request, view.handle)
    assert summary.ok
    drawn = stream.getvalue()
    # The live view redraws in place: the play, the last task and the host's counts appear.
    assert "tiny · play: Exercise the kubestead runner on the local machine" in drawn
    assert "task: Fail when the test asks for it" in drawn
    assert "cp-3" in drawn
