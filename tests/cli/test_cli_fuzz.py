"""Fuzzing the loader: any text and any mapping ends in exit 0 or 1 with messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from kubestead.cli import app
from kubestead.spec.validate import validate_text

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cluster.yaml"
KEYS = ["apiVersion", "kind", "metadata", "spec", "hosts", "name", "address", "podCIDR", "x"]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)
)
values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), children, max_size=4
        ),
    ),
    max_leaves=20,
)


def example_with(path: list[str], value: Any) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_cli_fuzz_arbitrary_text_never_raises(text: str) -> None:
    result = validate_text(text)
    assert result.ok or result.errors
    for issue in result.issues:
        assert issue.render("f.yaml").startswith("f.yaml")


@settings(max_examples=200, deadline=None)
@given(values)
def test_cli_fuzz_arbitrary_documents_never_raise(value: Any) -> None:
    result = validate_text(yaml.safe_dump(value))
    assert not result.ok  # no random document is a whole valid spec
    assert result.errors


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(
        [["spec"], ["spec", "kubernetes"], ["spec", "hosts"], ["spec", "network"], ["metadata"]]
    ),
    values,
)
def test_cli_fuzz_mutated_example_never_raises(path: list[str], value: Any) -> None:
    result = validate_text(yaml.safe_dump(example_with(path, value)))
    assert result.ok or result.errors


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.one_of(st.text(max_size=200), values.map(yaml.safe_dump)))
def test_cli_fuzz_through_the_command(tmp_path: Path, text: str) -> None:
    spec = tmp_path / "cluster.yaml"
    spec.write_text(text, encoding="utf-8", errors="surrogatepass")
    result = CliRunner().invoke(app, ["validate", "-f", str(spec)])
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    if result.exit_code == 1:
        assert any(": error: " in line for line in result.stderr.splitlines())
