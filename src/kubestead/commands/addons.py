"""`kubestead addons`: Argo CD and the root Application, from which gitops/ follows."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kubestead.commands._shared import (
    DEFAULT_GITOPS_DIR,
    DEFAULT_SPEC,
    GitopsDir,
    SpecOption,
    load_cluster,
    user_errors,
)
from kubestead.terminal import Terminal

KubeconfigOption = Annotated[
    Path | None,
    typer.Option("--kubeconfig", help="The cluster's kubeconfig (default ./NAME.kubeconfig)."),
]
RepoUrl = Annotated[
    str | None,
    typer.Option(
        "--repo-url",
        help="The Git repository the root Application syncs (a mirror of this tree); "
        "default: the one bootstrap/root.yaml names.",
    ),
]
Revision = Annotated[
    str | None,
    typer.Option(
        "--revision", help="Branch, tag or commit to sync; default: bootstrap/root.yaml's."
    ),
]
ChartRepo = Annotated[
    str | None,
    typer.Option(
        "--chart-repo",
        help="Helm repository (https:// or oci://) holding the Argo CD chart (a mirror); "
        "default: the one bootstrap/argo-cd.yaml names.",
    ),
]
DryRun = Annotated[
    bool,
    typer.Option("--dry-run", help="Print the commands and manifests; touch no cluster."),
]


def addons(
    spec: SpecOption = DEFAULT_SPEC,
    kubeconfig: KubeconfigOption = None,
    repo_url: RepoUrl = None,
    revision: Revision = None,
    chart_repo: ChartRepo = None,
    gitops_dir: GitopsDir = DEFAULT_GITOPS_DIR,
    dry_run: DryRun = False,
) -> None:
    """Install Argo CD and the root Application; the add-ons of gitops/ follow from Git.

    Runs on this machine against the cluster's API, like helm and kubectl do: with the
    kubeconfig `kubestead kubeconfig` writes (NAME.kubeconfig) or --kubeconfig. helm (from
    PATH, else .tools/bin) installs the Argo CD chart at the version and with the values of
    gitops/bootstrap/argo-cd.yaml; kubectl then applies the bootstrap AppProject and the root
    Application. Run it after `apply` and `kubeconfig`, and again at will: it converges.
    Air-gapped: --repo-url names your mirror of this repository (its Applications pointed at
    your chart mirrors, gitops/README.md), --chart-repo your mirror of Argo CD's chart.
    """
    from kubestead.addons import (
        CHART_REPO_URL,
        GIT_URL,
        REVISION,
        bootstrap,
        check_option,
        find_tool,
        run,
    )
    from kubestead.errors import KubesteadError

    term = Terminal()
    with user_errors(term):
        if repo_url is not None:
            fix = "a Git URL — use https://HOST/PATH, ssh://HOST/PATH or USER@HOST:PATH"
            check_option("--repo-url", repo_url, GIT_URL, fix)
        if chart_repo is not None:
            fix = "a Helm repository URL — use https://HOST/PATH or oci://HOST/PATH"
            check_option("--chart-repo", chart_repo, CHART_REPO_URL, fix)
        if revision is not None:
            check_option("--revision", revision, REVISION, "a branch, tag or commit")
        cluster = load_cluster(term, spec)
        config = kubeconfig or Path(f"{cluster.metadata.name}.kubeconfig")
        plan = bootstrap(
            gitops_dir, config, repo_url=repo_url, revision=revision, chart_repo=chart_repo
        )
        if dry_run:
            term.data("".join(step.shell() for step in plan.steps))
            return
        programs = {name: find_tool(name) for name in ("helm", "kubectl")}
        if not config.is_file():
            raise KubesteadError(
                f"{config}: no such kubeconfig — write it with `kubestead kubeconfig -f {spec}`, "
                "or pass --kubeconfig"
            )
        for step in plan.steps:
            program = programs[step.argv[0]]
            term.info(f"$ {step.line(program)}")
            run(step, program, term.info)
    term.success(
        f"Argo CD is installed; the root Application syncs {plan.repo_url} at {plan.revision} — "
        f"follow it: kubectl --kubeconfig {config} -n {plan.namespace} get applications"
    )
