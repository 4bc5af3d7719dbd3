"""gitops/README.md stays true: it names every add-on with the chart version its Application
pins, the bootstrap commands use the pinned Argo CD chart and values, and it says what is proven."""

from __future__ import annotations

import re

from tests.gitops import support

README = support.GITOPS / "README.md"


def test_every_add_on_is_in_the_table_with_its_pinned_version() -> None:
    text = README.read_text(encoding="utf-8")
    rows = {
        line.split("|")[1].strip(): line
        for line in text.splitlines()
        if line.startswith("| ") and not line.startswith("| ---")
    }
    for app in support.applications():
        chart = app.chart
        if chart is None or app.name == "argo-cd":
            continue
        row = next((r for names, r in rows.items() if re.search(rf"\b{app.name}\b", names)), None)
        assert row is not None, f"README table has no row for {app.name}"
        assert chart.target_revision in row, (
            f"README row of {app.name} lacks {chart.target_revision}"
        )


def test_the_bootstrap_commands_match_the_tree() -> None:
    text = README.read_text(encoding="utf-8")
    argo = support.application("argo-cd").chart
    assert argo is not None
    assert f"--version {argo.target_revision}" in text
    assert "-f gitops/bootstrap/argocd-values.yaml" in text
    assert "kubectl apply -f gitops/projects/bootstrap.yaml -f gitops/bootstrap/root.yaml" in text
    assert "validated, not run here" in text
