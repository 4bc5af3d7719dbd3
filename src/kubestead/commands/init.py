"""`kubestead init`: print the commented starter spec."""

from __future__ import annotations

from importlib import resources

from kubestead.terminal import Terminal


def starter_text() -> str:
    return resources.files("kubestead").joinpath("starter.yaml").read_text(encoding="utf-8")


def init() -> None:
    """Print a commented starter cluster.yaml (three control planes, two workers)."""
    Terminal().data(starter_text())
