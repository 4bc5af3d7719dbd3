"""The GitHub Actions workflows users copy: pinned, least-privilege, bounded and cancellable.

Every rule is one function that returns its problems as `file: path: what — fix` lines; the
tests run it over each workflow in .github/workflows and over a broken example, so a rule that
could never fail is caught too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))

# owner/repo[/path]@<full commit SHA>; ./local actions and workflows run at this commit already.
PINNED_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9_.-]+(/[^@\s]+)?@[0-9a-f]{40}$")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>[^\s#]+)(?P<rest>.*)$")
VERSION_COMMENT = re.compile(r"^\s+# v\d+\.\d+\.\d+\S*(\s.*)?$")
EXPRESSION = re.compile(r"^\$\{\{.*\}\}$", re.DOTALL)

Workflow = dict[Any, Any]
Check = Callable[[str, str, Workflow], list[str]]


def load(path: Path) -> tuple[str, Workflow]:
    """The raw text (for comments) and the parsed document of one workflow file."""
    text = path.read_text(encoding="utf-8")
    doc = yaml.safe_load(text)
    assert isinstance(doc, dict), f"{path.name}: not a YAML mapping"
    return text, doc


def triggers(doc: Workflow) -> dict[str, Any]:
    # YAML 1.1 (PyYAML) reads the bare key `on` as the boolean True.
    on = doc.get("on", doc.get(True))
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    assert isinstance(on, dict), "no `on:` triggers"
    return on


def jobs(doc: Workflow) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, job in (doc.get("jobs") or {}).items():
        assert isinstance(job, dict), f"jobs.{name}: not a mapping"
        yield str(name), job


def steps(doc: Workflow) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, job in jobs(doc):
        for index, step in enumerate(job.get("steps") or []):
            yield f"jobs.{name}.steps[{index}]", step


def check_uses_pinned(file: str, text: str, doc: Workflow) -> list[str]:
    """Every `uses:` names a full commit SHA and says on the same line which release it is."""
    problems = []
    seen = set()
    for number, line in enumerate(text.splitlines(), start=1):
        match = USES_LINE.match(line)
        if not match:
            continue
        ref = match["ref"].strip("'\"")
        seen.add(ref)
        if ref.startswith("./"):
            continue
        if not PINNED_REF.match(ref):
            problems.append(
                f"{file}:{number}: uses: {ref} is not pinned — use owner/repo@<40-hex commit SHA>"
            )
        elif not VERSION_COMMENT.match(match["rest"]):
            problems.append(
                f"{file}:{number}: uses: {ref} has no version comment — add '# vX.Y.Z' after it"
            )
    # A `uses` the line scan cannot see (flow style, odd quoting) must not slip through.
    parsed = [(f"jobs.{name}", job.get("uses")) for name, job in jobs(doc)]
    parsed += [(where, step.get("uses")) for where, step in steps(doc)]
    for where, ref in parsed:
        if ref is not None and ref not in seen:
            problems.append(f"{file}: {where}.uses: {ref} — write it as a plain `uses:` line")
    return problems


def check_permissions(file: str, text: str, doc: Workflow) -> list[str]:
    """`permissions: {}` at the top, and each job states its own."""
    problems = []
    if doc.get("permissions", "missing") != {}:
        problems.append(f"{file}: permissions: must be {{}} at the top — grant per job instead")
    for name, job in jobs(doc):
        if not isinstance(job.get("permissions"), dict):
            problems.append(
                f"{file}: jobs.{name}.permissions: missing — list the scopes this job needs"
            )
    return problems


def check_timeouts(file: str, text: str, doc: Workflow) -> list[str]:
    """Every job has `timeout-minutes` (a reusable-workflow call cannot; its jobs carry them)."""
    return [
        f"{file}: jobs.{name}.timeout-minutes: missing — bound the job (the default is 6 hours)"
        for name, job in jobs(doc)
        if "uses" not in job and not isinstance(job.get("timeout-minutes"), int)
    ]


def check_checkouts(file: str, text: str, doc: Workflow) -> list[str]:
    """No checkout leaves the token in .git/config for later steps to find."""
    return [
        f"{file}: {where}.with.persist-credentials: must be false — later steps need no token"
        for where, step in steps(doc)
        if str(step.get("uses", "")).startswith("actions/checkout@")
        and (step.get("with") or {}).get("persist-credentials") is not False
    ]


def check_triggers(file: str, text: str, doc: Workflow) -> list[str]:
    """No pull_request_target; pushes and pull requests are filtered by path."""
    on = triggers(doc)
    problems = []
    if "pull_request_target" in on:
        problems.append(
            f"{file}: on.pull_request_target: runs a fork's change with this repository's "
            "token and secrets — use pull_request"
        )
    for event in ("pull_request", "push"):
        if event in on and not (on[event] or {}).get("paths"):
            problems.append(f"{file}: on.{event}.paths: missing — run only for this component")
    return problems


def check_concurrency(file: str, text: str, doc: Workflow) -> list[str]:
    """A run says whether a newer one cancels it."""
    concurrency = doc.get("concurrency")
    if not isinstance(concurrency, dict) or "group" not in concurrency:
        return [f"{file}: concurrency.group: missing — one run per branch or pull request"]
    cancel = concurrency.get("cancel-in-progress")
    if isinstance(cancel, bool) or (isinstance(cancel, str) and EXPRESSION.match(cancel)):
        return []
    return [f"{file}: concurrency.cancel-in-progress: missing — true, false or an expression"]


def check_no_secrets_in_scripts(file: str, text: str, doc: Workflow) -> list[str]:
    """Secrets reach a script through `env:`, never pasted into its text (logs, ps, injection)."""
    return [
        f"{file}: {where}.run: expands secrets.* in the script — pass it through env:"
        for where, step in steps(doc)
        if re.search(r"\$\{\{[^}]*\bsecrets\.", str(step.get("run", "")))
    ]


CHECKS: list[Check] = [
    check_uses_pinned,
    check_permissions,
    check_timeouts,
    check_checkouts,
    check_triggers,
    check_concurrency,
    check_no_secrets_in_scripts,
]


def test_the_three_workflows_are_there() -> None:
    assert {path.stem for path in WORKFLOWS} >= {"app", "chart", "platform"}


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_workflow(path: Path, check: Check) -> None:
    text, doc = load(path)
    assert check(path.name, text, doc) == []


# One broken workflow per rule, each through the same load() and check as the real files.
GOOD = """\
name: good
on:
  pull_request:
    paths: [app/**]
permissions: {}
concurrency:
  group: ${{ github.workflow }}-${{ github.ref }}
  cancel-in-progress: true
jobs:
  test:
    runs-on: ubuntu-24.04
    timeout-minutes: 5
    permissions:
      contents: read
    env:
      TOKEN: ${{ secrets.GITHUB_TOKEN }}
    steps:
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1
        with:
          persist-credentials: false
      - run: echo "$TOKEN" | wc -c
"""

BROKEN: list[tuple[Check, str, str, str]] = [
    (
        check_uses_pinned,
        "@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1",
        "@v7",
        "uses: actions/checkout@v7 is not pinned",
    ),
    (
        check_uses_pinned,
        "@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1",
        "@3d3c42e5aac5ba805825da76410c181273ba90b1",
        "has no version comment",
    ),
    (
        check_uses_pinned,
        "      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1\n"
        "        with:\n          persist-credentials: false\n",
        "      - {uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1,"
        " with: {persist-credentials: false}}\n",
        "write it as a plain `uses:` line",
    ),
    (check_permissions, "permissions: {}\n", "permissions: read-all\n", "permissions: must be {}"),
    (
        check_permissions,
        "    permissions:\n      contents: read\n",
        "",
        "jobs.test.permissions: missing",
    ),
    (check_timeouts, "    timeout-minutes: 5\n", "", "jobs.test.timeout-minutes: missing"),
    (
        check_checkouts,
        "persist-credentials: false",
        "persist-credentials: true",
        "persist-credentials: must be false",
    ),
    (check_triggers, "  pull_request:\n", "  pull_request_target:\n", "pull_request_target"),
    (check_triggers, "    paths: [app/**]\n", "    branches: [main]\n", "on.pull_request.paths"),
    (check_concurrency, "  cancel-in-progress: true\n", "", "cancel-in-progress: missing"),
    (
        check_no_secrets_in_scripts,
        'echo "$TOKEN"',
        'echo "${{ secrets.GITHUB_TOKEN }}"',
        "expands secrets.*",
    ),
]


def test_the_good_example_passes(tmp_path: Path) -> None:
    path = tmp_path / "good.yml"
    path.write_text(GOOD, encoding="utf-8")
    text, doc = load(path)
    assert [problem for check in CHECKS for problem in check("good.yml", text, doc)] == []


@pytest.mark.parametrize(
    ("check", "old", "new", "expected"),
    BROKEN,
    ids=[f"{check.__name__}-{index}" for index, (check, *_) in enumerate(BROKEN)],
)
def test_a_broken_workflow_is_caught(
    tmp_path: Path, check: Check, old: str, new: str, expected: str
) -> None:
    assert old in GOOD
    path = tmp_path / "broken.yml"
    path.write_text(GOOD.replace(old, new, 1), encoding="utf-8")
    text, doc = load(path)
    problems = check("broken.yml", text, doc)
    assert len(problems) == 1, problems
    assert expected in problems[0]


def test_app_tests_run_on_the_image_base() -> None:
    """The app workflow's job container is app/Dockerfile's PYTHON_IMAGE (bump them together)."""
    dockerfile = (ROOT / "app" / "Dockerfile").read_text(encoding="utf-8")
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", dockerfile, re.MULTILINE)
    assert base, "app/Dockerfile: no `ARG PYTHON_IMAGE=`"
    _, doc = load(ROOT / ".github" / "workflows" / "app.yml")
    container = doc["jobs"]["test"]["container"]
    image = container["image"] if isinstance(container, dict) else container
    assert image == base[1], (
        f"app.yml: jobs.test.container.image: {image} differs from app/Dockerfile's "
        f"PYTHON_IMAGE {base[1]} — make them the same"
    )
