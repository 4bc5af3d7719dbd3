"""gitops/images.yml names every add-on's images: one entry per add-on (each folder of
platform/, and Argo CD of bootstrap/) and no other, read from the chart version its Application
pins, and every image a values file pins is in it (`kubestead bundle` lists this file)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubestead.addons import images as load_images
from tests.gitops import support

IMAGES = support.GITOPS / "images.yml"
REFERENCE = re.compile(
    r"^(?P<registry>[a-z0-9.-]+\.[a-z]+(?::\d+)?)/(?P<repository>[a-z0-9._/-]+)"
    r":(?P<tag>[\w][\w.-]*)(?P<digest>@sha256:[0-9a-f]{64})?$"
)


def entries() -> dict[str, dict[str, Any]]:
    loaded = yaml.safe_load(IMAGES.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict), f"{IMAGES}: not a mapping"
    return loaded


def addon_names() -> set[str]:
    """The platform/ folders, and the Applications of bootstrap/ that install a chart."""
    folders = {p.name for p in (support.GITOPS / "platform").iterdir() if p.is_dir()}
    bootstrap = {
        a.name for a in support.applications() if a.chart and a.file.parent.name == "bootstrap"
    }
    assert bootstrap == {"argo-cd"}
    return folders | bootstrap


def test_every_add_on_has_an_entry_and_every_entry_an_add_on() -> None:
    names, listed = addon_names(), set(entries())
    assert not names - listed, f"{IMAGES}: no entry for {sorted(names - listed)}"
    assert not listed - names, f"{IMAGES}: entries for no add-on: {sorted(listed - names)}"


def test_each_entry_was_read_from_the_pinned_chart() -> None:
    charts = {a.name: a.chart for a in support.applications() if a.chart}
    for name, entry in entries().items():
        chart = charts.get(name)
        if chart is None:  # the namespaces: no chart, no image
            assert "chart" not in entry and entry["images"] == [], name
            continue
        assert (entry.get("chart"), entry.get("version")) == (chart.chart, chart.target_revision), (
            f"{IMAGES}: {name} lists the images of {entry.get('chart')} {entry.get('version')}, "
            f"the Application pins {chart.chart} {chart.target_revision}: read them again"
        )


def test_references_are_whole_and_unique() -> None:
    for name, entry in entries().items():
        refs = entry["images"]
        assert len(refs) == len(set(refs)), f"{name}: an image listed twice"
        for ref in refs:
            assert REFERENCE.match(ref), f"{name}: {ref!r} lacks a registry or a tag"
    # The CLI reads the same file (and refuses what it cannot list).
    assert [e.addon for e in load_images(support.GITOPS)] == list(entries())


def normalise(reference: str) -> str:
    """A reference as containerd reads it: docker.io when no registry, library/ for one name."""
    first, _, rest = reference.partition("/")
    if not rest or not ("." in first or ":" in first or first == "localhost"):
        reference = f"docker.io/{reference}"
    registry, _, path = reference.partition("/")
    if registry == "docker.io" and "/" not in path:
        path = f"library/{path}"
    return f"{registry}/{path}"


def pinned(node: Any) -> Iterator[str]:
    """Every image a values tree pins: `image: REF`, or `image: {registry, repository, tag}`
    with a tag (without one the chart's default tag applies, which the list holds)."""
    if isinstance(node, list):
        for item in node:
            yield from pinned(item)
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key == "image" and isinstance(value, str) and ":" in value:
            yield normalise(value)
        elif key == "image" and isinstance(value, dict) and value.get("tag"):
            registry = value.get("registry")
            repository = str(value["repository"])
            name = f"{registry}/{repository}" if registry else repository
            yield normalise(f"{name}:{value['tag']}")
        else:
            yield from pinned(value)


def values_of_addons() -> list[Any]:
    return [
        pytest.param(app.name, support.REPO / value.removeprefix("$values/"), id=app.name)
        for app in support.applications()
        if app.chart
        for value in app.chart.value_files
    ]


@pytest.mark.parametrize(("addon", "values"), values_of_addons())
def test_images_pinned_in_values_are_listed(addon: str, values: Path) -> None:
    listed = {ref.partition("@")[0] for ref in entries()[addon]["images"]}
    full = set(entries()[addon]["images"])
    for ref in pinned(yaml.safe_load(values.read_text(encoding="utf-8"))):
        if "@" in ref:
            assert ref in full, f"{values}: pins {ref}, {IMAGES} lists {sorted(full)}"
        else:
            assert ref in listed, f"{values}: pins {ref}, {IMAGES} lists {sorted(listed)}"


def test_the_walk_finds_the_pins_there_are() -> None:
    """Not vacuous: Velero's values pin the server and its plugin."""
    velero = support.GITOPS / "platform" / "velero" / "values.yaml"
    assert set(pinned(yaml.safe_load(velero.read_text(encoding="utf-8")))) == {
        "docker.io/velero/velero:v1.17.1",
        "docker.io/velero/velero-plugin-for-aws:v1.13.1",
    }
    assert normalise("redis:7") == "docker.io/library/redis:7"
    assert normalise("quay.io/a/b:1") == "quay.io/a/b:1"
