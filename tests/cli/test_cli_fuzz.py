"""Fuzzing the loader: any text and any mapping ends in exit 0 or 1 with messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from kubestead.cli import app
from kubestead.spec.issues import Issue
from kubestead.spec.validate import Result, validate_file, validate_text

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cluster.yaml"
# Every character str.splitlines() breaks a line at, and a terminal escape.
LINE_BREAKERS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029\x1b\x00\t"
KEYS = ["apiVersion", "kind", "metadata", "spec", "hosts", "name", "address", "podCIDR", "x"]
KEYS += ["foo\nbar", "po\rdCIDR", "a\u2028b", "\x1b[31mred", "x\x85y"]

# Text that often holds control characters, so that keys and values can try to split a line.
nasty_text = st.text(
    alphabet=st.one_of(st.sampled_from(LINE_BREAKERS), st.characters()), max_size=20
)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), nasty_text)
values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), nasty_text), children, max_size=4),
    ),
    max_leaves=20,
)


def assert_one_line(issue: Issue) -> None:
    line = issue.render("f.yaml")
    assert "\n" not in line, line
    assert len(line.splitlines()) == 1, line
    assert not any(c in line for c in LINE_BREAKERS), line


def assert_one_line_each(result: Result) -> None:
    for issue in result.issues:
        assert_one_line(issue)


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
    assert_one_line_each(result)


@settings(max_examples=200, deadline=None)
@given(values)
def test_cli_fuzz_arbitrary_documents_never_raise(value: Any) -> None:
    result = validate_text(yaml.safe_dump(value))
    assert not result.ok  # no random document is a whole valid spec
    assert result.errors
    assert_one_line_each(result)


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
    assert_one_line_each(result)


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
    # Exactly one stderr line per issue (plus the "valid" line on success): no user key or
    # value may split a message.
    issues = validate_file(spec).issues
    lines = result.stderr.splitlines()
    assert len(lines) == len(issues) + (1 if result.exit_code == 0 else 0), result.stderr
    for issue in issues:
        assert_one_line(issue)


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from([["spec"], ["spec", "kubernetes"], ["metadata"], ["spec", "network"]]),
    nasty_text.filter(lambda t: any(c in t for c in LINE_BREAKERS)),
    values,
)
def test_cli_fuzz_control_characters_in_keys_stay_on_one_line(
    path: list[str], key: str, value: Any
) -> None:
    data = example_with([*path, key], value)
    result = validate_text(yaml.safe_dump(data))
    assert result.errors
    assert_one_line_each(result)


def test_cli_key_and_values_with_newlines_are_escaped(runner: CliRunner, tmp_path: Path) -> None:
    data = example_with(["spec", "foo\nbar"], 1)
    data["metadata"]["name"] = "a\nb"
    data["spec"]["hosts"][0]["labels"] = {"k\u2028x": "v\x85"}
    data["spec"]["hosts"][1]["taints"] = "x\ry"
    spec = tmp_path / "cluster.yaml"
    spec.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = runner.invoke(app, ["validate", "-f", str(spec)])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 5, result.stderr
    assert f"{spec}:12: error: spec.foo\\nbar: unknown field — remove it" in result.stderr
    assert "metadata.name: `a\\nb` is not a DNS-1123 label" in result.stderr
    assert "spec.hosts[0].labels.k\\u2028x: `k\\u2028x` is not a Kubernetes label key" in (
        result.stderr
    )
    assert "`v\\x85` is not a Kubernetes label value" in result.stderr
    assert "got the string 'x\\ry'" in result.stderr
