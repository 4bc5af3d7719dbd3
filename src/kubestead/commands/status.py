"""`kubestead status`: nodes, etcd health, certificate expiry, time of the last backup."""

from __future__ import annotations

import datetime as dt

from kubestead.commands._shared import (
    DEFAULT_ANSIBLE_DIR,
    DEFAULT_SPEC,
    AllowEvenEtcd,
    AnsibleDir,
    HostOptions,
    JsonOption,
    SpecOption,
    on_hosts,
    packaged_playbook,
)


def status(
    spec: SpecOption = DEFAULT_SPEC,
    json: JsonOption = False,
    allow_even_etcd: AllowEvenEtcd = False,
    ansible_dir: AnsibleDir = DEFAULT_ANSIBLE_DIR,
) -> None:
    """Nodes, etcd members and their health, certificate expiry, time of the last backup."""
    from rich.table import Table

    from kubestead.status import REPORT_KEY, condense

    with on_hosts(HostOptions(spec, ansible_dir, allow_even_etcd)) as hosts:
        summary = hosts.play(packaged_playbook("status.yml"), "read the cluster status")
    term = hosts.term
    result = condense(summary.host_reports(REPORT_KEY), dt.datetime.now(dt.UTC))
    if json:
        term.json(result)
        return
    for title in ("nodes", "etcd", "certificates"):
        rows = result[title]
        table = Table(title=title, box=None, pad_edge=False, show_edge=False)
        for key in rows[0] if rows else ["none found"]:
            table.add_column(key)
        for row in rows:
            table.add_row(*(str(v) for v in row.values()))
        term.table(table)
    backup = result["last_backup"]
    age = (
        f"{backup['time']} on {backup['host']} ({backup['age_hours']} hours ago)"
        if backup
        else "none found"
    )
    term.data(f"last backup: {age}\n")
