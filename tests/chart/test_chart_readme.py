"""The README's values table is the one values.yaml generates, and every key is documented."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.chart.conftest import ChartKit


def run_table(kit: ChartKit, mode: str, chart: Path) -> subprocess.CompletedProcess[str]:
    script = kit.repo / "scripts" / "chart_values_table.py"
    return subprocess.run(
        [sys.executable, str(script), mode, str(chart)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_readme_values_table_is_in_sync(kit: ChartKit) -> None:
    result = run_table(kit, "--check", kit.chart)
    assert result.returncode == 0, result.stderr


def test_check_finds_a_stale_table(kit: ChartKit, tmp_path: Path) -> None:
    chart = tmp_path / "backend"
    shutil.copytree(kit.chart, chart)
    values = chart / "values.yaml"
    values.write_text(
        values.read_text(encoding="utf-8").replace("replicaCount: 1", "replicaCount: 2"),
        encoding="utf-8",
    )
    result = run_table(kit, "--check", chart)
    assert result.returncode == 1
    assert "make chart-docs" in result.stderr
    assert run_table(kit, "--write", chart).returncode == 0
    assert run_table(kit, "--check", chart).returncode == 0
    assert "| `replicaCount` | integer | `2` |" in (chart / "README.md").read_text(encoding="utf-8")


def test_check_finds_an_undocumented_key(kit: ChartKit, tmp_path: Path) -> None:
    chart = tmp_path / "backend"
    shutil.copytree(kit.chart, chart)
    values = chart / "values.yaml"
    values.write_text(values.read_text(encoding="utf-8") + "\nsneaky: true\n", encoding="utf-8")
    result = run_table(kit, "--check", chart)
    assert result.returncode == 1
    assert "sneaky" in result.stderr


def test_every_values_key_is_in_the_schema(kit: ChartKit) -> None:
    """values.schema.json forbids unknown keys, so it must know every default one."""
    import json

    import yaml

    values = yaml.safe_load((kit.chart / "values.yaml").read_text(encoding="utf-8"))
    schema = json.loads((kit.chart / "values.schema.json").read_text(encoding="utf-8"))

    def walk(node: object, props: dict[str, object], path: str) -> list[str]:
        missing: list[str] = []
        if not isinstance(node, dict):
            return missing
        for key, value in node.items():
            sub = props.get(key)
            if not isinstance(sub, dict):
                missing.append(f"{path}{key}")
                continue
            inner = sub.get("properties")
            if isinstance(inner, dict) and isinstance(value, dict):
                missing += walk(value, inner, f"{path}{key}.")
        return missing

    assert walk(values, schema["properties"], "") == []
