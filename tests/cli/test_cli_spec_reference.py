"""The spec reference table in src/kubestead/README.md mirrors the models' field descriptions."""

from __future__ import annotations

from pydantic import BaseModel

from kubestead.spec import models
from scripts import spec_docs

MODELS = [
    value
    for value in vars(models).values()
    if isinstance(value, type)
    and issubclass(value, BaseModel)
    and value.__module__ == models.__name__
]


def test_cli_spec_reference_readme_table_is_generated() -> None:
    readme = spec_docs.README.read_text(encoding="utf-8")
    assert spec_docs.with_table(readme, spec_docs.table()) == readme, (
        "src/kubestead/README.md is out of date: run `python scripts/spec_docs.py`"
    )


def test_cli_spec_reference_every_field_has_a_description() -> None:
    missing = [
        f"{model.__name__}.{name}"
        for model in MODELS
        for name, field in model.model_fields.items()
        if not (field.description or "").strip()
    ]
    assert not missing, f"fields without Field(description=...): {missing}"


def test_cli_spec_reference_rows() -> None:
    by_path = {row.path: row for row in spec_docs.rows()}
    assert by_path["spec.hosts[].taints[].value"].default == '`""`'
    assert by_path["spec.kubernetes.podCIDR"].default == "`10.244.0.0/16`"
    assert by_path["spec.etcdBackup.schedule"].default == '`"0 */6 * * *"`'
    assert by_path["spec.etcdBackup"].default == "`{}`"
    assert by_path["spec.network.firewall"].default == "`true`"
    assert by_path["spec.inventoryOverlay"].default == "none"
    assert by_path["spec.network.privateCIDR"].default == "required"
    assert by_path["spec.ssh.port"].rule.startswith("1 to 65535; ")
    assert by_path["spec.kubernetes.cni"].rule.startswith("`kube-router`, `calico`, `cilium`; ")
