"""What several commands share: options, loading a spec, running a playbook."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kubestead.errors import KubesteadError
from kubestead.terminal import Terminal

if TYPE_CHECKING:
    from kubestead.runner import PlaybookRequest, RunSummary
    from kubestead.spec.issues import Issue
    from kubestead.spec.models import Cluster

SpecOption = Annotated[
    Path, typer.Option("--file", "-f", help="The cluster spec.", show_default=True)
]
AllowEvenEtcd = Annotated[
    bool,
    typer.Option(
        "--allow-even-etcd",
        help="Accept 2 or 4 control planes, for a member-replacement window only.",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]
AnsibleDir = Annotated[
    Path,
    typer.Option(
        "--ansible-dir",
        envvar="KUBESTEAD_ANSIBLE_DIR",
        help="Folder with ansible.cfg and playbooks/.",
    ),
]
GitopsDir = Annotated[
    Path,
    typer.Option(
        "--gitops-dir",
        envvar="KUBESTEAD_GITOPS_DIR",
        help="The GitOps tree (bootstrap/, projects/, platform/, images.yml).",
    ),
]
DEFAULT_GITOPS_DIR = Path("gitops")
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]

DEFAULT_SPEC = Path("cluster.yaml")
DEFAULT_ANSIBLE_DIR = Path("ansible")


@contextlib.contextmanager
def user_errors(term: Terminal) -> Iterator[None]:
    """A KubesteadError becomes one line on stderr and exit status 1, never a traceback."""
    try:
        yield
    except KubesteadError as error:
        term.error(f"error: {error}")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        term.error(
            "error: interrupted — a playbook may have stopped midway; run the command again "
            "(the playbooks converge)"
        )
        raise typer.Exit(130) from None


def load_cluster(term: Terminal, spec: Path, *, allow_even_etcd: bool = False) -> Cluster:
    """Validate `spec`, print every issue, and stop with exit 1 on any error."""
    from kubestead.spec.rules import Options
    from kubestead.spec.validate import validate_file

    result = validate_file(spec, Options(allow_even_etcd=allow_even_etcd))
    print_issues(term, spec, result.issues)
    if not result.ok or result.cluster is None:
        raise typer.Exit(1)
    return result.cluster


def print_issues(term: Terminal, spec: Path, issues: list[Issue]) -> None:
    """Every issue, in file order, one line each: errors in red, warnings in yellow."""
    for issue in sorted(issues, key=lambda i: (i.line or 0)):
        text = issue.render(str(spec))
        if issue.severity == "error":
            term.error(text)
        else:
            term.warning(text)


@dataclass(frozen=True)
class HostOptions:
    """The options of every command that acts on hosts. A new one goes here, and each such
    command declares it (a test checks each does), so no command silently drops it."""

    spec: Path = DEFAULT_SPEC
    ansible_dir: Path = DEFAULT_ANSIBLE_DIR
    allow_even_etcd: bool = False


@dataclass
class Hosts:
    """The validated spec, its inventory and the way to run playbooks on its hosts: the one
    object every host-acting command goes through (ADR 0015)."""

    term: Terminal
    options: HostOptions
    cluster: Cluster
    inventory: dict[str, str]

    def playbook(self, name: str) -> Path:
        """A playbook of the Ansible folder (`--ansible-dir`)."""
        return playbook_path(self.options.ansible_dir, name)

    def play(
        self,
        playbook: Path,
        title: str,
        *,
        extravars: dict[str, Any] | None = None,
        limit: str | None = None,
        check: bool = False,
    ) -> RunSummary:
        """Run `playbook`, print its per-host summary, and stop on the first failure."""
        return play(
            self.term,
            self.options.ansible_dir,
            playbook,
            self.inventory,
            title,
            extravars=extravars,
            limit=limit,
            check=check,
        )

    def read(self, playbook: Path, title: str) -> RunSummary:
        """Run a read-only playbook whose answer the caller interprets (failures included)."""
        from kubestead.runner import PlaybookRequest

        request = PlaybookRequest(playbook, self.inventory)
        return run_playbook(self.term, self.options.ansible_dir, request, title)


@contextlib.contextmanager
def on_hosts(options: HostOptions) -> Iterator[Hosts]:
    """How every command that acts on hosts opens: validate, render, then the body.

    Validating and rendering run inside `user_errors` like the body does, so a problem in any
    of them is one line on stderr.
    """
    term = Terminal()
    with user_errors(term):
        cluster = load_cluster(term, options.spec, allow_even_etcd=options.allow_even_etcd)
        yield Hosts(term, options, cluster, render_inventory(cluster, options.spec))


def render_inventory(cluster: Cluster, spec: Path) -> dict[str, str]:
    """The inventory of a validated spec, its overlay included (relative path -> content)."""
    from kubestead.render import render
    from kubestead.spec.overlay import load_overlay, overlay_file

    named = cluster.spec.inventory_overlay
    overlay: dict[str, object] = {}
    if named is not None:
        overlay, problems = load_overlay(overlay_file(spec, named), named)
        if problems:  # changed since it was validated
            raise KubesteadError(problems[0].render(str(spec)))
    return render(cluster, spec.name, overlay=overlay, overlay_name=named or "")


def confirm(question: str, yes: bool) -> None:
    """Ask on stderr before anything destructive; anything but yes stops with nothing done."""
    if not yes and not typer.confirm(question, default=False, err=True):
        raise KubesteadError("cancelled — nothing was changed")


def playbook_path(ansible_dir: Path, name: str) -> Path:
    return ansible_dir / "playbooks" / name


def packaged_playbook(name: str) -> Path:
    """A playbook the CLI ships itself (probe, status, kubeconfig fetch, snapshot upload)."""
    return Path(__file__).resolve().parent.parent / "playbooks" / name


def play(
    term: Terminal,
    ansible_dir: Path,
    playbook: Path,
    inventory: dict[str, str],
    title: str,
    *,
    extravars: dict[str, Any] | None = None,
    limit: str | None = None,
    check: bool = False,
) -> RunSummary:
    """Run one playbook under `title`, print its summary, and stop on the first failure.

    Every command that acts on hosts goes through here, so an option added to the request
    reaches them all; only the read-only probe calls `run_playbook` itself, because it reads
    its answer rather than reporting it.
    """
    from kubestead.runner import PlaybookRequest

    request = PlaybookRequest(
        playbook, inventory, limit=limit, check=check, extravars=extravars or {}
    )
    summary = run_playbook(term, ansible_dir, request, title)
    report(term, summary)
    return summary


def run_playbook(
    term: Terminal, ansible_dir: Path, request: PlaybookRequest, title: str
) -> RunSummary:
    from kubestead.progress import ProgressView
    from kubestead.runner import PlaybookRunner

    runner = PlaybookRunner(ansible_dir)
    runner.check_playbook(request.playbook)
    with ProgressView(term.console(), title) as view:
        summary = runner.run(request, view.handle)
    return summary


def report(term: Terminal, summary: RunSummary) -> None:
    """The final summary: one line per host, then exit 1 when anything failed."""
    for host, c in sorted(summary.hosts.items()):
        term.info(
            f"{host}: ok={c.ok} changed={c.changed} failed={c.failed} "
            f"unreachable={c.unreachable} skipped={c.skipped}"
        )
    if not summary.ok:
        first = summary.failures[0].render() if summary.failures else f"rc={summary.rc}"
        raise KubesteadError(f"{summary.playbook} {summary.status}: {first}")
