"""The control plane's encryption tasks, run on the controller against local directories.

The provider is never switched in place (Secrets written with the old one would become
unreadable), and keys and providers already on disk are kept, names included.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.ansible.ansible_run import TEST_INVENTORY, PlaybookRun, run_playbook

PLAYBOOK = Path(__file__).resolve().parent / "encryption.yml"
CONTROL_PLANES = ["cp-1", "cp-2", "cp-3"]
SECRET = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="  # 32 bytes, base64; a test value
OTHER = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="  # another test value


def _config(*providers: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "apiserver.config.k8s.io/v1",
        "kind": "EncryptionConfiguration",
        "resources": [{"resources": ["secrets"], "providers": [*providers, {"identity": {}}]}],
    }


def _provider(name: str, *keys: tuple[str, str]) -> dict[str, Any]:
    return {name: {"keys": [{"name": key, "secret": secret} for key, secret in keys]}}


def _file(root: Path, host: str) -> Path:
    return root / host / "encryption-configuration.yaml"


def _seed(root: Path, host: str, config: dict[str, Any]) -> None:
    _file(root, host).parent.mkdir(parents=True, exist_ok=True)
    _file(root, host).write_text(yaml.safe_dump(config), encoding="utf-8")


def _providers(root: Path, host: str) -> list[dict[str, Any]]:
    config = yaml.safe_load(_file(root, host).read_text(encoding="utf-8"))
    providers: list[dict[str, Any]] = config["resources"][0]["providers"]
    return providers


def _run(root: Path, provider: str) -> PlaybookRun:
    for host in CONTROL_PLANES:
        (root / host).mkdir(parents=True, exist_ok=True)
    return run_playbook(
        str(PLAYBOOK),
        TEST_INVENTORY,
        "-e",
        f"encryption_dir={root}",
        "-e",
        f"kubestead_encryption_at_rest={provider}",
    )


def test_ansible_encryption_one_key_for_every_control_plane(tmp_path: Path) -> None:
    first = _run(tmp_path, "secretbox")
    assert first.returncode == 0, first.output[-3000:]
    configs = [_providers(tmp_path, host) for host in CONTROL_PLANES]
    assert configs[0] == configs[1] == configs[2]
    secretbox, identity = configs[0]
    (key,) = secretbox["secretbox"]["keys"]
    assert key["name"] == "key1" and len(key["secret"]) == 44
    assert identity == {"identity": {}}
    assert oct(_file(tmp_path, "cp-1").stat().st_mode & 0o777) == "0o600"
    assert key["secret"] not in first.output
    again = _run(tmp_path, "secretbox")
    assert again.returncode == 0, again.output[-3000:]
    assert [_providers(tmp_path, host) for host in CONTROL_PLANES] == configs
    assert sum(r["changed"] for r in again.recap().values()) == 0


def test_ansible_encryption_reuses_the_key_a_control_plane_has(tmp_path: Path) -> None:
    _seed(tmp_path, "cp-2", _config(_provider("secretbox", ("key1", SECRET))))
    run = _run(tmp_path, "secretbox")
    assert run.returncode == 0, run.output[-3000:]
    for host in CONTROL_PLANES:
        assert _providers(tmp_path, host)[0] == _provider("secretbox", ("key1", SECRET))


def test_ansible_encryption_keeps_a_rotation_in_progress(tmp_path: Path) -> None:
    rotating = _config(
        _provider("secretbox", ("key2", OTHER), ("key1", SECRET)),
        _provider("aescbc", ("key1", SECRET)),
    )
    for host in CONTROL_PLANES:
        _seed(tmp_path, host, rotating)
    run = _run(tmp_path, "secretbox")
    assert run.returncode == 0, run.output[-3000:]
    for host in CONTROL_PLANES:
        assert _providers(tmp_path, host) == rotating["resources"][0]["providers"]


@pytest.mark.parametrize("wanted", ["aescbc", "none"])
def test_ansible_encryption_refuses_to_switch_the_provider(tmp_path: Path, wanted: str) -> None:
    before = _config(_provider("secretbox", ("key1", SECRET)))
    for host in CONTROL_PLANES:
        _seed(tmp_path, host, before)
    run = _run(tmp_path, wanted)
    assert run.returncode != 0
    output = " ".join(run.output.split())
    assert "Secrets on cp-1, cp-2, cp-3 are encrypted with secretbox" in output, run.output[-3000:]
    assert f"cluster.yaml asks for {wanted}" in output
    assert "Changing the encryption provider" in output
    assert SECRET not in run.output
    for host in CONTROL_PLANES:
        assert yaml.safe_load(_file(tmp_path, host).read_text(encoding="utf-8")) == before


def test_ansible_encryption_off_leaves_a_decrypted_cluster_alone(tmp_path: Path) -> None:
    decrypted = _config(_provider("secretbox", ("key1", SECRET)))
    decrypted["resources"][0]["providers"].reverse()  # identity first: the decryption's last step
    _seed(tmp_path, "cp-1", decrypted)
    run = _run(tmp_path, "none")
    assert run.returncode == 0, run.output[-3000:]
    assert yaml.safe_load(_file(tmp_path, "cp-1").read_text(encoding="utf-8")) == decrypted
    assert not _file(tmp_path, "cp-2").exists()
