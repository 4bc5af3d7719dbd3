"""The platform add-ons of gitops/: Argo CD's bootstrap, and the charts and images they pull.

Everything is read from the tree — the Argo CD chart, its version and values from
`bootstrap/argo-cd.yaml`, the root Application and its project from `bootstrap/root.yaml` and
`projects/bootstrap.yaml`, each add-on's chart from its Application, the images from
`images.yml` — so a pin lives in one file, never here.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kubestead.errors import KubesteadError

IMAGES_FILE = "images.yml"
# Argo CD reads values from the tree's own repository (the `values` source); so do we.
VALUES_PREFIX = "$values/gitops/"
HELM_TIMEOUT = "10m"
# Where `make ci-helm` installs helm and kubectl, searched after PATH.
TOOLS_BIN = Path(".tools") / "bin"
GIT_URL = re.compile(r"^(?:(?:https?|ssh)://[^\s/@]+(?:@[^\s/]+)?(?:/\S*)?|[\w.-]+@[\w.-]+:\S+)$")
CHART_REPO_URL = re.compile(r"^(?:https?|oci)://[^\s/]+(?:/\S*)?$")
REVISION = re.compile(r"^[^\s-]\S*$")
IMAGE_REFERENCE = re.compile(
    r"^(?P<name>[a-z0-9.-]+(?::\d+)?/[a-z0-9._/-]+)"
    r":(?P<tag>[\w][\w.-]{0,127})(?P<digest>@sha256:[0-9a-f]{64})?$"
)

Manifest = dict[str, Any]


@dataclass(frozen=True)
class Chart:
    """The chart source of one add-on's Application."""

    addon: str  # the Application's name
    repo_url: str
    name: str
    version: str
    release: str
    namespace: str
    value_files: tuple[str, ...]
    file: Path


@dataclass(frozen=True)
class AddonImages:
    """One entry of images.yml: the images of an add-on, read from its chart at `version`."""

    addon: str
    chart: str | None
    version: str | None
    images: tuple[str, ...]


def check_tree(gitops: Path) -> None:
    if not (gitops / "bootstrap").is_dir():
        raise KubesteadError(
            f"{gitops}: no GitOps tree here (no bootstrap/) — run kubestead from the "
            "repository root or pass --gitops-dir (or set KUBESTEAD_GITOPS_DIR)"
        )


def documents(path: Path) -> list[Manifest]:
    """The mappings of a YAML file, or one line that names the file and the problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KubesteadError(
            f"{path}: no such file — is --gitops-dir a whole gitops/ tree?"
        ) from None
    try:
        loaded = list(yaml.safe_load_all(text))
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f":{where.line + 1}" if where is not None else ""
        raise KubesteadError(f"{path}{line}: not valid YAML — fix the file") from None
    return [doc for doc in loaded if isinstance(doc, dict)]


def application_files(gitops: Path) -> list[Path]:
    """The add-ons' Applications: Argo CD's own in bootstrap/, one folder each in platform/."""
    return sorted(gitops.glob("bootstrap/*.yaml")) + sorted(
        gitops.glob("platform/*/application.yaml")
    )


def charts(gitops: Path) -> list[Chart]:
    """Every chart an add-on Application installs, in the order of `application_files`."""
    found = []
    for path in application_files(gitops):
        for doc in documents(path):
            if doc.get("kind") != "Application":
                continue
            spec = doc.get("spec") or {}
            for source in spec.get("sources") or [spec.get("source") or {}]:
                if "chart" not in source:
                    continue
                helm = source.get("helm") or {}
                found.append(
                    Chart(
                        addon=str(doc["metadata"]["name"]),
                        repo_url=str(source["repoURL"]),
                        name=str(source["chart"]),
                        version=str(source["targetRevision"]),
                        release=str(helm.get("releaseName", doc["metadata"]["name"])),
                        namespace=str(spec["destination"]["namespace"]),
                        value_files=tuple(str(v) for v in helm.get("valueFiles", [])),
                        file=path,
                    )
                )
    return found


def images(gitops: Path) -> list[AddonImages]:
    """The entries of images.yml, in file order; a malformed entry is one line naming it."""
    path = gitops / IMAGES_FILE
    docs = documents(path)
    if len(docs) != 1:
        raise KubesteadError(f"{path}: expected one mapping of add-on names — fix the file")
    entries = []
    for addon, entry in docs[0].items():
        where = f"{path}: {addon}"
        if not isinstance(entry, dict) or not isinstance(entry.get("images"), list):
            raise KubesteadError(f"{where}: expected a mapping with an `images` list")
        refs = tuple(str(ref) for ref in entry["images"])
        for ref in refs:
            if not IMAGE_REFERENCE.match(ref):
                raise KubesteadError(
                    f"{where}: {ref!r} is not a full image reference — write "
                    "REGISTRY/REPOSITORY:TAG, with @sha256:DIGEST where the chart pins one"
                )
        chart, version = entry.get("chart"), entry.get("version")
        entries.append(
            AddonImages(
                str(addon),
                None if chart is None else str(chart),
                None if version is None else str(version),
                refs,
            )
        )
    return entries


def split_reference(ref: str) -> tuple[str, str]:
    """(name, version) of an image reference: `name:version` gives the reference back."""
    match = IMAGE_REFERENCE.match(ref)
    if match is None:
        raise KubesteadError(f"{ref!r} is not a full image reference")
    return match["name"], match["tag"] + (match["digest"] or "")


# The bootstrap: what `kubestead addons` runs.


@dataclass(frozen=True)
class Step:
    """One command of the bootstrap; `stdin` is what it reads (the manifests it applies)."""

    argv: tuple[str, ...]
    stdin: str = ""

    def line(self, program: str | None = None) -> str:
        """The command line; `program` in place of the first word (helm's path, say)."""
        return shlex.join([program or self.argv[0], *self.argv[1:]])

    def shell(self) -> str:
        """The step as a shell command, its manifests as a here-document."""
        if not self.stdin:
            return self.line() + "\n"
        return f"{self.line()} <<'EOF'\n{self.stdin}EOF\n"


@dataclass(frozen=True)
class Bootstrap:
    steps: list[Step]
    repo_url: str  # what the root Application syncs
    revision: str
    namespace: str  # Argo CD's


def check_option(option: str, value: str, pattern: re.Pattern[str], fix: str) -> str:
    if not pattern.match(value):
        raise KubesteadError(f"{option}: {value!r} is not {fix}")
    return value


def _chart_reference(repo_url: str, chart: str) -> list[str]:
    """helm's arguments for a chart of a repository; Argo CD writes OCI ones without oci://."""
    if repo_url.startswith(("http://", "https://")):
        return [chart, "--repo", repo_url]
    return [f"oci://{repo_url.removeprefix('oci://').rstrip('/')}/{chart}"]


def _values_file(gitops: Path, chart: Chart, value: str) -> str:
    if not value.startswith(VALUES_PREFIX):
        raise KubesteadError(
            f"{chart.file}: {chart.addon}: values file {value!r} is not under "
            f"{VALUES_PREFIX} — keep Argo CD's values in the gitops tree"
        )
    return str(gitops / value.removeprefix(VALUES_PREFIX))


def _the_object(gitops: Path, relative: str, kind: str) -> Manifest:
    path = gitops / relative
    found = [doc for doc in documents(path) if doc.get("kind") == kind]
    if len(found) != 1:
        raise KubesteadError(f"{path}: expected one {kind}, found {len(found)} — fix the file")
    return found[0]


def bootstrap(
    gitops: Path,
    kubeconfig: Path,
    *,
    repo_url: str | None = None,
    revision: str | None = None,
    chart_repo: str | None = None,
) -> Bootstrap:
    """helm installs Argo CD as bootstrap/argo-cd.yaml pins it (chart, version, values), then
    kubectl applies the bootstrap AppProject and the root Application, pointed at `repo_url`
    and `revision` when given (a mirror), else at what root.yaml names."""
    check_tree(gitops)
    argo = [c for c in charts(gitops) if c.file == gitops / "bootstrap" / "argo-cd.yaml"]
    if len(argo) != 1:
        raise KubesteadError(
            f"{gitops / 'bootstrap' / 'argo-cd.yaml'}: expected the argo-cd Application with "
            "one chart source — fix the file"
        )
    chart = argo[0]
    repo = chart_repo or chart.repo_url
    helm = ["helm", "upgrade", "--install", chart.release, *_chart_reference(repo, chart.name)]
    helm += ["--version", chart.version, "--namespace", chart.namespace, "--create-namespace"]
    for value in chart.value_files:
        helm += ["--values", _values_file(gitops, chart, value)]
    helm += ["--wait", "--timeout", HELM_TIMEOUT, "--kubeconfig", str(kubeconfig)]

    project = _the_object(gitops, "projects/bootstrap.yaml", "AppProject")
    root = _the_object(gitops, "bootstrap/root.yaml", "Application")
    source = root["spec"]["source"]
    upstream = source["repoURL"]
    source["repoURL"] = repo_url or upstream
    source["targetRevision"] = revision or source["targetRevision"]
    repos = project["spec"]["sourceRepos"]
    project["spec"]["sourceRepos"] = [source["repoURL"] if r == upstream else r for r in repos]
    manifests = yaml.safe_dump_all([project, root], sort_keys=False, explicit_start=True)
    kubectl = ("kubectl", "apply", "--filename", "-", "--kubeconfig", str(kubeconfig))
    return Bootstrap(
        [Step(tuple(helm)), Step(kubectl, manifests)],
        source["repoURL"],
        str(source["targetRevision"]),
        chart.namespace,
    )


def find_tool(name: str) -> str:
    """`name` on PATH, else in .tools/bin (where `make ci-helm` puts helm and kubectl)."""
    found = shutil.which(name)
    if found:
        return found
    local = TOOLS_BIN / name
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    raise KubesteadError(
        f"{name}: not found on PATH or in {TOOLS_BIN} — install it, or run `make ci-helm` "
        f"(the pinned helm and kubectl, into {TOOLS_BIN})"
    )


def run(step: Step, program: str, say: Callable[[str], None]) -> None:
    """Run `step` with `program` as its first word, passing each line it prints to `say`."""
    last = ""
    try:
        # The program is helm or kubectl as found by find_tool; no shell, no user string.
        with (
            subprocess.Popen(  # noqa: S603
                [program, *step.argv[1:]],
                stdin=subprocess.PIPE if step.stdin else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            ) as process
        ):
            if process.stdin is not None:
                process.stdin.write(step.stdin)  # a few KiB: fits in the pipe before we read
                process.stdin.close()
            for raw in process.stdout or ():
                line = raw.rstrip("\n")
                last = line or last
                say(line)
    except OSError as error:
        raise KubesteadError(f"{program}: cannot run it ({error.strerror})") from None
    if process.returncode != 0:
        raise KubesteadError(
            f"{step.argv[0]} {step.argv[1]} failed (exit {process.returncode}): {last} — "
            "fix that and run `kubestead addons` again (it converges)"
        )
