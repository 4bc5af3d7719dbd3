"""`kubestead status`: nodes, etcd health, certificate expiry, age of the last backup."""

from __future__ import annotations

import datetime as dt

from kubestead.commands._shared import (
    DEFAULT_ANSIBLE_DIR,
    DEFAULT_SPEC,
    AnsibleDir,
    JsonOption,
    SpecOption,
    on_hosts,
    packaged_playbook,
    play,
)


def status(
    spec: SpecOption = DEFAULT_SPEC,
    json: JsonOption = False,
    ansible_dir: AnsibleDir = DEFAULT_ANSIBLE_DIR,
) -> None:
    """Nodes, etcd members and their health, certificate expiry, age of the last backup."""
    from rich.table import Table

    from kubestead.status import REPORT_TASK, condense

    with on_hosts(spec) as (term, _, inventory):
        playbook = packaged_playbook("status.yml")
        summary = play(term, ansible_dir, playbook, inventory, "read the cluster status")
    result = condense(summary.results.get(REPORT_TASK, []), dt.datetime.now(dt.UTC))
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
    age = f"{backup['age_hours']} hours ago" if backup else "none found"
    term.data(f"last backup: {age}\n")
