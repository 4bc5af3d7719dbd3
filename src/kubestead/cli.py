"""The `kubestead` command: assembles the commands, nothing else.

Heavy modules (pydantic, PyYAML, ansible-runner, rich tables) are imported inside the
commands, so `kubestead --help` answers at once; a test holds that line.
"""

from __future__ import annotations

import typer

from kubestead import __version__
from kubestead.commands.addons import addons
from kubestead.commands.apply import apply
from kubestead.commands.backup import backup
from kubestead.commands.bundle import bundle
from kubestead.commands.init import init
from kubestead.commands.kubeconfig import kubeconfig
from kubestead.commands.render import render
from kubestead.commands.reset import reset
from kubestead.commands.restore import restore
from kubestead.commands.status import status
from kubestead.commands.validate import validate

app = typer.Typer(
    name="kubestead",
    help="One validated cluster.yaml, applied to your machines by Ansible.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kubestead {__version__}")
        raise typer.Exit


@app.callback()
def main_options(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """One validated cluster.yaml, applied to your machines by Ansible."""


for command in (
    init,
    validate,
    render,
    apply,
    kubeconfig,
    addons,
    backup,
    restore,
    reset,
    status,
    bundle,
):
    app.command()(command)


def main() -> None:
    app()
