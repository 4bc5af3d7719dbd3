"""`kubestead status`: nodes, etcd health, certificate expiry, age of the last backup."""

from __future__ import annotations

import datetime as dt

from kubestead.commands._shared import (
    DEFAULT_ANSIBLE_DIR,
    DEFAULT_SPEC,
    AnsibleDir,
    JsonOption,
    SpecOption,
    inventory_for,
    packaged_playbook,
    report,
    run_playbook,
    user_errors,
)
from kubestead.terminal import Terminal


def status(
    spec: SpecOption = DEFAULT_SPEC,
    json: JsonOption = False,
    ansible_dir: AnsibleDir = DEFAULT_ANSIBLE_DIR,
) -> None:
    """Nodes, etcd members and their health, certificate expiry, age of the last backup."""
    from rich.table import Table

    from kubestead.runner import PlaybookRequest
    from kubestead.status import REPORT_TASK, condense

    term = Terminal()
    _, inventory = inventory_for(term, spec)
    with user_errors(term):
        request = PlaybookRequest(packaged_playbook("status.yml"), inventory)
        summary = run_playbook(term, ansible_dir, request, "read the cluster status")
        report(term, summary)
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
