"""`kubestead validate`: every problem of a spec at once, one line each."""

from __future__ import annotations

from kubestead.commands._shared import (
    DEFAULT_SPEC,
    AllowEvenEtcd,
    JsonOption,
    SpecOption,
    print_issues,
)
from kubestead.terminal import Terminal


def validate(
    spec: SpecOption = DEFAULT_SPEC,
    allow_even_etcd: AllowEvenEtcd = False,
    json: JsonOption = False,
) -> None:
    """Check a cluster spec; exit 1 when it has errors (warnings do not fail)."""
    import typer

    from kubestead.spec.issues import dotted
    from kubestead.spec.rules import Options
    from kubestead.spec.validate import validate_file

    term = Terminal()
    result = validate_file(spec, Options(allow_even_etcd=allow_even_etcd))
    if json:
        term.json(
            {
                "valid": result.ok,
                "issues": [
                    {
                        "severity": i.severity,
                        "path": dotted(i.path),
                        "line": i.line,
                        "message": i.message,
                    }
                    for i in sorted(result.issues, key=lambda i: (i.line or 0))
                ],
            }
        )
    else:
        print_issues(term, spec, result.issues)
    if not result.ok or result.cluster is None:
        raise typer.Exit(1)
    if not json:
        cluster = result.cluster
        term.success(
            f"{spec}: valid — cluster {cluster.metadata.name}, Kubernetes "
            f"{cluster.spec.kubernetes.version}, {len(cluster.control_planes)} control planes, "
            f"{len(cluster.workers)} workers"
        )
