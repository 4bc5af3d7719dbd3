"""Every role's defaults/main.yml and meta/argument_specs.yml describe the same interface."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

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
