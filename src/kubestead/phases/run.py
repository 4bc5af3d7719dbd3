"""Phase 5: run the planned playbooks in order; the first failure stops the rest."""

from __future__ import annotations

from kubestead.commands._shared import playbook_path, report, run_playbook
from kubestead.phases import Context
from kubestead.runner import PlaybookRequest


class Run:
    title = "run the playbooks"

    def run(self, ctx: Context) -> None:
        assert ctx.plan is not None  # noqa: S101 - set by Plan
        for step in ctx.plan.steps:
            request = PlaybookRequest(
                playbook_path(ctx.ansible_dir, step.playbook),
                ctx.inventory,
                limit=step.limit or ctx.limit,
                check=ctx.check,
                extravars=step.extravars,
            )
            summary = run_playbook(ctx.term, ctx.ansible_dir, request, step.playbook)
            ctx.summaries.append(summary)
            report(ctx.term, summary)
