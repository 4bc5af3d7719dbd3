"""Every role's defaults/main.yml and meta/argument_specs.yml describe the same interface."""

from __future__ import annotations

import re
import typing
from pathlib import Path
from typing import Any

import pydantic
import pytest
import yaml

from scripts import role_docs
from tests.ansible.ansible_run import ROLES

ROLE_IDS = [role.name for role in ROLES]


def _load(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict), f"{path} is not a mapping"
    return loaded


def _entry_points(role: Path) -> dict[str, dict[str, Any]]:
    specs = _load(role / "meta" / "argument_specs.yml")["argument_specs"]
    assert isinstance(specs, dict)
    return specs


@pytest.mark.parametrize("role", ROLES, ids=ROLE_IDS)
def test_ansible_argument_specs_main_mirrors_defaults(role: Path) -> None:
    defaults = _load(role / "defaults" / "main.yml")
    options = _entry_points(role)["main"]["options"]
    assert sorted(options) == sorted(defaults), (
        f"{role.name}: only in defaults {sorted(set(defaults) - set(options))}, "
        f"only in argument_specs {sorted(set(options) - set(defaults))}"
    )


@pytest.mark.parametrize("role", ROLES, ids=ROLE_IDS)
def test_ansible_argument_specs_document_every_option(role: Path) -> None:
    for entry, spec in _entry_points(role).items():
        assert spec.get("short_description"), f"{role.name}.{entry}: no short_description"
        for name, option in spec["options"].items():
            assert option.get("description"), f"{role.name}.{entry}.{name}: no description"
            assert option.get("type"), f"{role.name}.{entry}.{name}: no type"


@pytest.mark.parametrize("role", ROLES, ids=ROLE_IDS)
def test_ansible_argument_specs_defaults_agree(role: Path) -> None:
    """A default stated in the spec is the value defaults/main.yml really has."""
    defaults = _load(role / "defaults" / "main.yml")
    for entry, spec in _entry_points(role).items():
        for name, option in spec["options"].items():
            assert name in defaults, f"{role.name}.{entry}.{name}: not in defaults/main.yml"
            if "default" in option:
                assert option["default"] == defaults[name], f"{role.name}.{entry}.{name}"


@pytest.mark.parametrize("role", ROLES, ids=ROLE_IDS)
def test_ansible_argument_specs_names_carry_the_role_prefix(role: Path) -> None:
    defaults = _load(role / "defaults" / "main.yml")
    assert all(name.startswith(f"{role.name}_") for name in defaults), role.name


@pytest.mark.parametrize("role", ROLES, ids=ROLE_IDS)
def test_ansible_argument_specs_every_default_is_in_the_readme(role: Path) -> None:
    readme = (role / "README.md").read_text(encoding="utf-8")
    missing = [name for name in _load(role / "defaults" / "main.yml") if f"`{name}`" not in readme]
    assert not missing, f"{role.name}/README.md does not mention {missing}"


@pytest.mark.parametrize("role", ROLES, ids=ROLE_IDS)
def test_ansible_argument_specs_readme_table_is_generated(role: Path) -> None:
    # The README's table mirrors the argument specs: `python scripts/role_docs.py` writes it.
    readme = (role / "README.md").read_text(encoding="utf-8")
    assert role_docs.with_table(readme, role_docs.table(role)) == readme, (
        f"{role.name}/README.md is out of date: run `python scripts/role_docs.py`"
    )


def _spec_choices() -> dict[str, list[str]]:
    """kubestead_<variable> -> the values the spec allows, from the models' Literal types."""
    from kubestead.spec import models

    choices: dict[str, list[str]] = {}
    for model in vars(models).values():
        if not (isinstance(model, type) and issubclass(model, pydantic.BaseModel)):
            continue
        for name, field in model.model_fields.items():
            if typing.get_origin(field.annotation) is typing.Literal:
                choices[name] = list(typing.get_args(field.annotation))
    return choices


@pytest.mark.parametrize("role", ROLES, ids=ROLE_IDS)
def test_ansible_argument_specs_choices_are_the_specs_values(role: Path) -> None:
    # An option fed by a spec field (`"{{ kubestead_cni }}"`) allows exactly what the spec
    # allows: a value added to the model without the role (or the reverse) fails here.
    from kubestead import render

    defaults = _load(role / "defaults" / "main.yml")
    spec_choices = _spec_choices()
    # Variables the CLI derives from a spec field: what the derivation can give.
    derived = {"control_plane_metrics_address": list(render.METRICS_ADDRESSES.values())}
    for entry, spec in _entry_points(role).items():
        for name, option in spec["options"].items():
            fed = re.fullmatch(r"\{\{ kubestead_(\w+) \}\}", str(defaults.get(name, "")))
            if "choices" not in option or not fed:
                continue
            if fed.group(1) in derived:
                allowed = derived[fed.group(1)]
            else:
                [field] = [f for f in spec_choices if fed.group(1).endswith(f)]
                allowed = spec_choices[field]
            assert sorted(option["choices"]) == sorted(allowed), f"{role.name}.{entry}.{name}"
