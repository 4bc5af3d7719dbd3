"""Every chart is pinned to an exact version, and every values file sets only keys that chart
version defines (upstream-keys.txt, recorded next to the values from the upstream chart)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.gitops import support
from tests.gitops.upstream_keys import Record, load

CHART_APPS = [a for a in support.applications() if a.chart]


def record_for(app: support.Application) -> tuple[Path, Path | None]:
    """(upstream-keys.txt, values file or None) of a chart Application."""
    folder = app.file.parent
    chart = app.chart
    assert chart is not None
    values = [v for v in chart.value_files if v.startswith("$values/")]
    assert len(values) <= 1, app.name
    values_path = support.REPO / values[0].removeprefix("$values/") if values else None
    if values_path is not None:
        assert values_path.parent == folder, f"{app.name}: values outside its folder"
    return folder / "upstream-keys.txt", values_path


@pytest.mark.parametrize("app", CHART_APPS, ids=lambda a: a.name)
def test_chart_version_is_exact(app: support.Application) -> None:
    chart = app.chart
    assert chart is not None
    assert support.EXACT_VERSION.match(chart.target_revision), (
        f"{app.file}: {app.name} targetRevision {chart.target_revision!r} is not an exact version"
    )


def test_git_sources_follow_the_main_branch() -> None:
    for app in support.applications():
        for source in app.sources:
            if source.chart:
                continue
            assert source.repo_url == support.GIT_REPO_URL, app.name
            assert source.target_revision == "main", f"{app.name}: {source.target_revision!r}"


@pytest.mark.parametrize("app", CHART_APPS, ids=lambda a: a.name)
def test_values_keys_exist_in_the_pinned_chart(app: support.Application) -> None:
    record_path, values_path = record_for(app)
    assert record_path.exists(), f"{app.name}: no {record_path}; see tests/gitops/upstream_keys.py"
    record = load(record_path)
    chart = app.chart
    assert chart is not None
    assert (record.chart, record.version) == (chart.chart, chart.target_revision), (
        f"{record_path} was made from {record.chart} {record.version}, "
        f"the Application pins {chart.chart} {chart.target_revision}: regenerate it"
    )
    if values_path is None:
        return
    values = yaml.safe_load(values_path.read_text(encoding="utf-8"))
    unknown = record.unknown(values)
    assert not unknown, (
        f"{values_path}: keys {record.chart} {record.version} does not define: {unknown}"
    )


def test_every_values_file_belongs_to_an_application() -> None:
    used = set()
    for app in support.applications():
        for source in app.sources:
            used |= {support.REPO / v.removeprefix("$values/") for v in source.value_files}
    assert set(support.values_files()) | {support.backend_values()} == used


@pytest.mark.parametrize("values_path", support.alternative_values(), ids=lambda p: p.parent.name)
def test_alternative_values_keys_exist_in_their_chart(values_path: Path) -> None:
    record = load(values_path.parent / "upstream-keys.txt")
    text = values_path.read_text(encoding="utf-8")
    assert f"{record.chart}\n# {record.version}" in text, (
        f"{values_path} must name the chart and version it was checked against ({record.version})"
    )
    unknown = record.unknown(yaml.safe_load(text))
    assert not unknown, (
        f"{values_path}: keys {record.chart} {record.version} does not define: {unknown}"
    )


def test_the_check_refuses_a_key_the_chart_does_not_define() -> None:
    record = Record(
        chart="demo",
        version="1.0.0",
        source="test",
        keys=frozenset({"image.tag", "podAnnotations", "resources"}),
        open_maps=frozenset({"podAnnotations", "resources"}),
    )
    assert record.unknown({"image": {"tag": "1"}, "podAnnotations": {"a": "b"}}) == []
    assert record.unknown({"resources": {"limits": {"memory": "1Gi"}}}) == []
    assert record.unknown({"image": {"tga": "1"}, "replicas": 2}) == ["image.tga", "replicas"]
    assert record.unknown({"typo": {"deep": {"key": 1}}}) == ["typo"]


def test_each_folder_says_which_version_its_values_were_checked_against() -> None:
    for app in CHART_APPS:
        record_path, _ = record_for(app)
        head = record_path.read_text(encoding="utf-8").splitlines()[:4]
        chart = app.chart
        assert chart is not None
        assert f"# version: {chart.target_revision}" in head, record_path
        assert any(line.startswith("# source: ") for line in head), record_path
