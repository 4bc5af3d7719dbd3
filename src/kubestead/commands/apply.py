"""`kubestead apply`: validate, render, read the cluster, plan, run the playbooks."""

from __future__ import annotations

from typing import Annotated

import typer

from kubestead.commands._shared import (
    DEFAULT_ANSIBLE_DIR,
    DEFAULT_SPEC,
    AllowEvenEtcd,
    AnsibleDir,
    SpecOption,
    user_errors,
)
from kubestead.terminal import Terminal

CheckOption = Annotated[bool, typer.Option("--check", help="Ansible check mode: change nothing.")]
LimitOption = Annotated[
    str | None, typer.Option("--limit", help="Only these hosts (an Ansible host pattern).")
]


def apply(
    spec: SpecOption = DEFAULT_SPEC,
    check: CheckOption = False,
    limit: LimitOption = None,
    allow_even_etcd: AllowEvenEtcd = False,
    ansible_dir: AnsibleDir = DEFAULT_ANSIBLE_DIR,
) -> None:
    """Make the cluster match the spec (install, join new hosts, upgrade one minor)."""
    from kubestead.phases import Context
    from kubestead.phases.plan import Plan
    from kubestead.phases.probe import Probe
    from kubestead.phases.render import Render
    from kubestead.phases.run import Run
    from kubestead.phases.validate import Validate

    term = Terminal()
    ctx = Context(
        term=term,
        spec=spec,
        ansible_dir=ansible_dir,
        check=check,
        limit=limit,
        allow_even_etcd=allow_even_etcd,
    )
    with user_errors(term):
        for phase in (Validate(), Render(), Probe(), Plan(), Run()):
            phase.run(ctx)
    changed = sum(s.changed for s in ctx.summaries)
    mode = " (check mode: nothing was changed)" if check else ""
    term.success(f"apply: done, {changed} changes{mode}")
