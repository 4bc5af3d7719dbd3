"""The host-acting commands: what they build and how they refuse, without hosts."""

from __future__ import annotations

import datetime as dt
import io
import json
import stat
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from kubestead.cli import app
from kubestead.kubeconfig import rewrite_server, write_private
from kubestead.status import condense
from kubestead.terminal import colour_allowed

ADMIN_CONF = """\
apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: Q0E=
    server: https://10.0.0.11:6443
  name: kubernetes
users:
- name: kubernetes-admin
  user: {client-certificate-data: Q0VSVA==, client-key-data: S0VZ}
"""


def test_cli_kubeconfig_points_at_the_endpoint() -> None:
    document = yaml.safe_load(rewrite_server(ADMIN_CONF, "10.0.0.10", 6443))
    assert document["clusters"][0]["cluster"]["server"] == "https://10.0.0.10:6443"
    assert document["users"][0]["user"]["client-key-data"] == "S0VZ"


def test_cli_kubeconfig_file_is_private(tmp_path: Path) -> None:
    target = tmp_path / "prod.kubeconfig"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o644)
    write_private(target, "new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_text(encoding="utf-8") == "new"


NODES = {
    "items": [
        {
            "metadata": {"name": "cp-1"},
            "status": {
                "conditions": [{"type": "Ready", "status": "True"}],
                "nodeInfo": {"kubeletVersion": "v1.30.3"},
            },
        }
    ]
}
# `etcdctl endpoint health/status --cluster -w json` and `kubeadm certs check-expiration -o json`.
ETCD_HEALTH = [
    {"endpoint": "https://10.0.0.12:2379", "health": False, "took": "", "error": "timeout"},
    {"endpoint": "https://10.0.0.11:2379", "health": True, "took": "9ms"},
]
ETCD_STATUS = [
    {"Endpoint": "https://10.0.0.11:2379", "Status": {"leader": 7, "header": {"member_id": 7}}}
]
CERTS = {
    "kind": "CertificateExpirationInfo",
    "apiVersion": "output.kubeadm.k8s.io/v1alpha3",
    "certificates": [
        {"name": "apiserver", "expirationDate": "2027-01-01T00:00:00Z", "residualTime": 864000},
        {"name": "super-admin.conf", "expirationDate": "", "residualTime": 0, "missing": True},
    ],
}


@pytest.mark.parametrize("as_text", [True, False])
def test_cli_status_condenses_the_reports(as_text: bool) -> None:
    now = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)

    def encode(value: object) -> object:
        # Ansible hands JSON output over as text or, templated, as data: both must work.
        return json.dumps(value) if as_text else value

    report = {
        "host": "cp-1",
        "nodes": encode(NODES),
        "etcd_health": encode(ETCD_HEALTH),
        "etcd_status": encode(ETCD_STATUS),
        "certificates": encode(CERTS),
        "newest_backup_mtime": str((now - dt.timedelta(hours=3)).timestamp()),
    }
    assert condense([report], now) == {
        "nodes": [{"name": "cp-1", "ready": True, "version": "v1.30.3"}],
        "etcd": [
            {"endpoint": "https://10.0.0.11:2379", "healthy": True, "leader": True, "error": ""},
            {
                "endpoint": "https://10.0.0.12:2379",
                "healthy": False,
                "leader": False,
                "error": "timeout",
            },
        ],
        "certificates": [
            {
                "host": "cp-1",
                "name": "apiserver",
                "expires": "2027-01-01T00:00:00Z",
                "days_left": 10,
            }
        ],
        "last_backup": {"time": "2026-01-01T09:00:00+00:00", "host": "cp-1", "age_hours": 3.0},
    }


def test_cli_reset_asks_first_and_no_means_nothing_happens(
    runner: CliRunner, local_spec: Path, tmp_path: Path
) -> None:
    result = runner.invoke(
        app, ["reset", "-f", str(local_spec), "--ansible-dir", str(tmp_path)], input="n\n"
    )
    assert result.exit_code == 1
    assert "Destroy cluster local on cp-1, cp-2, cp-3, worker-1? [y/N]" in result.stderr
    # The runner does not echo the typed answer, so the prompt and the message share a line.
    assert result.stderr.endswith("[y/N]:error: cancelled — nothing was changed\n")


def test_cli_reset_unknown_host_is_refused(runner: CliRunner, local_spec: Path) -> None:
    result = runner.invoke(app, ["reset", "-f", str(local_spec), "--host", "cp-9", "--yes"])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "error: --host cp-9: not in spec.hosts — use one of its names"
    )


def test_cli_restore_needs_an_existing_snapshot(runner: CliRunner, local_spec: Path) -> None:
    result = runner.invoke(
        app, ["restore", "-f", str(local_spec), "--snapshot", "/nonexistent.db", "--yes"]
    )
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "error: /nonexistent.db: no such snapshot file — pass --snapshot FILE"
    )


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_cli_colour_only_on_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert colour_allowed(FakeTty())
    assert not colour_allowed(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not colour_allowed(FakeTty())


def test_cli_every_host_command_takes_every_host_option() -> None:
    """A new HostOptions field must reach every command that acts on hosts (issue 11: once,
    `--allow-even-etcd` reached apply but not backup, restore, reset, status or kubeconfig)."""
    import dataclasses
    import inspect

    import kubestead.commands as commands_package
    from kubestead.commands._shared import HostOptions

    host_commands = sorted(
        path.stem
        for path in Path(commands_package.__file__).parent.glob("[!_]*.py")
        if "on_hosts(" in path.read_text(encoding="utf-8")
    )
    assert host_commands == ["apply", "backup", "kubeconfig", "reset", "restore", "status"]
    wanted = {field.name for field in dataclasses.fields(HostOptions)}
    for name in host_commands:
        module = __import__(f"kubestead.commands.{name}", fromlist=[name])
        parameters = set(inspect.signature(getattr(module, name)).parameters)
        assert wanted <= parameters, f"{name} lacks {sorted(wanted - parameters)}"


def test_cli_reset_first_control_plane_is_refused(runner: CliRunner, local_spec: Path) -> None:
    result = runner.invoke(app, ["reset", "-f", str(local_spec), "--host", "cp-1", "--yes"])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "error: --host cp-1: the first control plane cannot be removed — move another control "
        "plane to the top of spec.hosts, run apply, then remove this one"
    )


def test_cli_reset_control_plane_leaving_even_members_needs_the_flag(
    runner: CliRunner, local_spec: Path, tmp_path: Path
) -> None:
    refused = runner.invoke(app, ["reset", "-f", str(local_spec), "--host", "cp-3", "--yes"])
    assert refused.exit_code == 1
    assert refused.stderr.splitlines()[-1] == (
        "error: --host cp-3: 2 etcd members would remain, which tolerate no more failures than "
        "1 — pass --allow-even-etcd for a member-replacement window, then add a control plane "
        "back with apply"
    )
    # With the flag the removal gets past every check and reaches the playbook (absent here).
    allowed = runner.invoke(
        app,
        ["reset", "-f", str(local_spec), "--host", "cp-3", "--yes", "--allow-even-etcd",
         "--ansible-dir", str(tmp_path)],
    )  # fmt: skip
    assert allowed.exit_code == 1
    assert "remove-node.yml: playbook not found" in allowed.stderr.splitlines()[-1]


def test_cli_backup_copies_are_private(tmp_path: Path) -> None:
    from kubestead.snapshots import keep_private, private_folder

    target = tmp_path / "backups"
    private_folder(target)
    for host, stamps in {"cp-1": ["20260101T000000Z", "20260102T000000Z"], "cp-2": []}.items():
        (target / host).mkdir(mode=0o755)
        for stamp in stamps:
            (target / host / f"etcd-{host}-{stamp}.db").write_bytes(b"snapshot")
            (target / host / f"etcd-{host}-{stamp}.db").chmod(0o644)
    newest = keep_private(target, ["cp-1", "cp-2", "cp-3"])
    assert newest == [target / "cp-1" / "etcd-cp-1-20260102T000000Z.db"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in (target / "cp-1").iterdir()} == {0o600}
    assert stat.S_IMODE((target / "cp-2").stat().st_mode) == 0o700
