"""Phase 3: read the cluster's version and nodes from the control planes (read-only)."""

from __future__ import annotations

from kubestead.commands._shared import packaged_playbook, run_playbook
from kubestead.phases import Context
from kubestead.probe import state_from_summary
from kubestead.runner import PlaybookRequest


class Probe:
    title = "read the cluster's state"

    def run(self, ctx: Context) -> None:
        request = PlaybookRequest(packaged_playbook("probe.yml"), ctx.inventory)
        summary = run_playbook(ctx.term, ctx.ansible_dir, request, self.title)
        ctx.state = state_from_summary(summary)
