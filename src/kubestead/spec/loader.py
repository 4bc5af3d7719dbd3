"""Safe YAML loading that remembers where every key and list item was written.

PyYAML's composed node tree carries marks; walking it once gives a map from field path to line
so that a semantic error can say `cluster.yaml:14: spec.hosts[2].address: ...`. The loader
also refuses what PyYAML would accept silently: duplicate keys (the last one would win).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kubestead.spec.issues import Issue, Path_

# Deeper documents are not cluster specs; the limit also keeps the walk off Python's stack limit.
MAX_DEPTH = 64
# A spec of a thousand hosts is about 100 KiB; anything near these limits is not a cluster spec,
# and refusing it up front bounds the time and memory every later step spends.
MAX_BYTES = 1024 * 1024
# Values the document holds once its aliases are expanded: a "billion laughs" document is a few
# lines that expand to billions of values, which validation and messages would then walk.
MAX_VALUES = 100_000


@dataclass(frozen=True)
class Document:
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)

    def line_of(self, path: Path_) -> int | None:
        """The line of `path`, or of its nearest ancestor that was written in the file."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return None


class LoadError(Exception):
    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.render())
        self.issue = issue


def _walk(node: yaml.Node, path: Path_, lines: dict[Path_, int], seen: set[int]) -> None:
    # Aliases point at nodes already walked: skipping them keeps a "billion laughs" document
    # linear instead of exponential.
    if id(node) in seen:
        return
    seen.add(id(node))
    if len(path) > MAX_DEPTH:
        raise LoadError(
            Issue(
                path=path,
                message=f"nested deeper than {MAX_DEPTH} levels — flatten it",
                line=node.start_mark.line + 1,
            )
        )
    if isinstance(node, yaml.MappingNode):
        keys: set[str] = set()
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            key = key_node.value
            if key in keys:
                raise LoadError(
                    Issue(
                        path=(*path, key),
                        message="duplicate key — keep one of them",
                        line=key_node.start_mark.line + 1,
                    )
                )
            keys.add(key)
            lines[(*path, key)] = key_node.start_mark.line + 1
            _walk(value_node, (*path, key), lines, seen)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _walk(item, (*path, index), lines, seen)


def _expanded_size(node: yaml.Node, sizes: dict[int, int]) -> int:
    """How many values `node` holds with every alias expanded; linear in the written nodes."""
    known = sizes.get(id(node))
    if known is not None:
        return known
    size = 1
    if isinstance(node, yaml.MappingNode):
        size += sum(_expanded_size(v, sizes) for _, v in node.value)
    elif isinstance(node, yaml.SequenceNode):
        size += sum(_expanded_size(item, sizes) for item in node.value)
    sizes[id(node)] = size
    return size


def _mark_line(error: yaml.YAMLError) -> int:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    return int(mark.line) + 1 if mark is not None else 1


def loads(text: str) -> Document:
    """Parse one YAML document into plain data plus the line of every field path."""
    if len(text) > MAX_BYTES:
        raise LoadError(_too_large())
    loader: yaml.SafeLoader | None = None
    try:
        # The constructor already reads the stream: a control character fails right here.
        loader = yaml.SafeLoader(text)
        node = loader.get_single_node()
        if node is None:
            raise LoadError(
                Issue(path=(), message="the file is empty — start from `kubestead init`", line=1)
            )
        lines: dict[Path_, int] = {(): node.start_mark.line + 1}
        _walk(node, (), lines, set())
        if _expanded_size(node, {}) > MAX_VALUES:
            raise LoadError(
                Issue(
                    path=(),
                    message=f"its YAML aliases expand to more than {MAX_VALUES:,} values — "
                    "write the values out instead of nesting aliases",
                    line=1,
                )
            )
        data = loader.construct_document(node)  # type: ignore[no-untyped-call]  # no stub
    except yaml.YAMLError as error:
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise LoadError(
            Issue(
                path=(),
                message=f"YAML syntax error: {problem} — fix the YAML at this line",
                line=_mark_line(error),
            )
        ) from None
    except RecursionError:
        raise LoadError(
            Issue(path=(), message=f"nested deeper than {MAX_DEPTH} levels — flatten it", line=1)
        ) from None
    finally:
        if loader is not None:
            loader.dispose()  # type: ignore[no-untyped-call]  # no stub
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a {type(data).__name__} value"
        raise LoadError(
            Issue(
                path=(),
                message=f"the document is {kind}, not a mapping — "
                "a cluster spec starts with `apiVersion: kubestead.io/v1alpha1`",
                line=node.start_mark.line + 1,
            )
        )
    return Document(data=data, lines=lines)


def _too_large() -> Issue:
    return Issue(
        path=(),
        message=f"is larger than {MAX_BYTES // 1024} KiB, which no cluster spec needs — pass "
        "the cluster spec itself",
    )


def load(path: Path) -> Document:
    """Read and parse `path`; every failure is a LoadError with one line for the user."""
    try:
        with path.open("rb") as handle:
            # Read one byte past the limit: a huge file (or an endless one like /dev/zero) is
            # refused without reading it whole.
            raw = handle.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            raise LoadError(_too_large())
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise LoadError(
            Issue(
                path=(),
                message="no such file — pass the spec with -f, or create one with "
                "`kubestead init > cluster.yaml`",
            )
        ) from None
    except IsADirectoryError:
        raise LoadError(Issue(path=(), message="is a directory — pass the spec file")) from None
    except UnicodeDecodeError:
        raise LoadError(Issue(path=(), message="is not UTF-8 text — save it as UTF-8")) from None
    except OSError as error:
        raise LoadError(Issue(path=(), message=f"cannot be read ({error.strerror})")) from None
    return loads(text)
