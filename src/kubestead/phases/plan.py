"""Phase 4: decide the playbooks from the cluster's state and the spec."""

from __future__ import annotations

from kubestead.phases import Context
from kubestead.plan import plan


class Plan:
    title = "plan"

    def run(self, ctx: Context) -> None:
        assert ctx.cluster is not None and ctx.state is not None  # noqa: S101 - earlier phases
        ctx.plan = plan(
            ctx.cluster.spec.kubernetes.version,
            [h.name for h in ctx.cluster.spec.hosts],
            ctx.state,
        )
        for note in ctx.plan.notes:
            ctx.term.warning(f"warning: {note}")
        for step in ctx.plan.steps:
            ctx.term.info(f"plan: {step.playbook}: {step.reason}")
