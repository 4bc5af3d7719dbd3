"""The harness's parts that need no root: settings, mirror and package lists, cache, CIDR check."""

import ipaddress
from pathlib import Path

import pytest

from tests.harness.aptrepo import HOST_PACKAGES, host_packages
from tests.harness.cache import KEEP_PER_KIND, cache_key, cached_entry
from tests.harness.errors import HarnessError, HarnessUnavailableError
from tests.harness.lifecycle import HarnessLifecycle
from tests.harness.mirror import machine_mirror
from tests.harness.network import check_network_is_free
from tests.harness.settings import HarnessSettings

SOURCES = """\
Types: deb
URIs: http://mirror.invalid/debian-security
Suites: bookworm-security
Components: main

Types: deb-src
URIs: http://mirror.invalid/source
Suites: bookworm
Components: main

Types: deb
# a comment line inside the stanza
URIs: http://mirror.invalid/debian http://second.invalid/debian
Suites: bookworm bookworm-updates
Components: main
"""


def test_defaults_give_the_documented_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("KUBESTEAD_HARNESS_CIDR", "KUBESTEAD_HARNESS_REPO_PORT"):
        monkeypatch.delenv(variable, raising=False)
    settings = HarnessSettings.from_environment()
    assert str(settings.network) == "172.29.213.0/24"
    assert str(settings.bridge_address) == "172.29.213.1"
    assert [str(settings.host_address(i)) for i in (1, 2, 3)] == [
        "172.29.213.11",
        "172.29.213.12",
        "172.29.213.13",
    ]
    assert settings.host_names() == ["kstest-1", "kstest-2", "kstest-3"]
    assert settings.apt_source == "deb [trusted=yes] http://172.29.213.1:8213/ ./"


def test_cache_folder_follows_xdg_cache_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("KUBESTEAD_HARNESS_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert HarnessSettings.from_environment().cache_dir == tmp_path / "kubestead/testhosts"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("KUBESTEAD_HARNESS_CIDR", "not-a-network"),
        ("KUBESTEAD_HARNESS_CIDR", "172.29.0.0/16"),
        ("KUBESTEAD_HARNESS_CIDR", "8.8.8.0/24"),
        ("KUBESTEAD_HARNESS_REPO_PORT", "http"),
        ("KUBESTEAD_HARNESS_REPO_PORT", "70000"),
        ("KUBESTEAD_HARNESS_LOCK_WAIT", "forever"),
    ],
)
def test_a_bad_override_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(HarnessError) as caught:
        HarnessSettings.from_environment()
    message = str(caught.value)
    assert message.startswith(f"{variable}={value!r}")
    assert "\n" not in message


def test_mirror_is_the_first_deb_stanza_with_bookworm(tmp_path: Path) -> None:
    sources = tmp_path / "debian.sources"
    sources.write_text(SOURCES)
    mirror = machine_mirror(sources)
    assert mirror.uri == "http://mirror.invalid/debian"
    assert mirror.sources_text == SOURCES


def test_missing_or_unusable_sources_make_the_harness_unavailable(tmp_path: Path) -> None:
    with pytest.raises(HarnessUnavailableError, match="missing"):
        machine_mirror(tmp_path / "absent.sources")
    only_security = tmp_path / "security.sources"
    only_security.write_text(SOURCES.split("\n\n")[0] + "\n")
    with pytest.raises(HarnessUnavailableError, match="no 'deb' stanza"):
        machine_mirror(only_security)


def test_host_packages_ignore_comments_blanks_and_duplicates(tmp_path: Path) -> None:
    listing = tmp_path / "host-packages.txt"
    listing.write_text("# header\nufw\n\n  chrony  # time\nufw\n")
    assert host_packages(listing) == ["chrony", "ufw"]
    listing.write_text("# nothing\n")
    with pytest.raises(HarnessError, match="lists no packages"):
        host_packages(listing)


def test_the_repository_list_the_roles_use_is_readable() -> None:
    assert host_packages(HOST_PACKAGES)


def test_cache_key_depends_on_content_not_on_order() -> None:
    assert cache_key({"a": 1, "b": [1, 2]}) == cache_key({"b": [1, 2], "a": 1})
    assert cache_key({"a": 1}) != cache_key({"a": 2})


def test_cached_entry_builds_once_and_keeps_a_bounded_history(tmp_path: Path) -> None:
    builds: list[str] = []

    def build(scratch: Path) -> None:
        builds.append(scratch.name)
        (scratch / "content").write_text("built")

    first, built = cached_entry(tmp_path, "thing-1", build)
    assert built
    assert (first / "content").read_text() == "built"
    again, built_again = cached_entry(tmp_path, "thing-1", build)
    assert (again, built_again) == (first, False)
    assert len(builds) == 1
    for key in range(2, 6):
        cached_entry(tmp_path, f"thing-{key}", build)
    assert len(list(tmp_path.glob("thing-*"))) == KEEP_PER_KIND + 1
    assert (tmp_path / "thing-5").is_dir()
    assert not list(tmp_path.glob(".building-*"))


def test_a_failed_build_leaves_no_entry(tmp_path: Path) -> None:
    def broken(scratch: Path) -> None:
        (scratch / "half").write_text("written")
        raise HarnessError("debootstrap failed")

    with pytest.raises(HarnessError):
        cached_entry(tmp_path, "rootfs-x", broken)
    assert not (tmp_path / "rootfs-x").exists()
    assert not list(tmp_path.glob(".building-*"))


def test_a_network_the_machine_already_routes_is_refused() -> None:
    routes = Path("/proc/net/route").read_text().splitlines()[1:]
    # The machine's own connected networks, read from the kernel: one of them must be refused.
    connected = [
        ipaddress.IPv4Network(
            (
                int.from_bytes(bytes.fromhex(fields[1]), "little"),
                bin(int.from_bytes(bytes.fromhex(fields[7]), "little")).count("1"),
            )
        )
        for fields in (line.split() for line in routes)
        if fields[0] != "ksbr0" and fields[1] != "00000000"
    ]
    if not connected:
        pytest.skip("the machine routes no network besides its default route")
    with pytest.raises(HarnessError, match="KUBESTEAD_HARNESS_CIDR"):
        check_network_is_free(ipaddress.IPv4Network(f"{connected[0].network_address}/24"))


def test_down_refuses_a_run_folder_with_files_it_did_not_make(tmp_path: Path) -> None:
    keep = tmp_path / "notes.txt"
    keep.write_text("someone else's")
    settings = HarnessSettings(
        network=ipaddress.IPv4Network("172.29.213.0/24"),
        repo_port=8213,
        run_dir=tmp_path,
        cache_dir=tmp_path / "cache",
    )
    with pytest.raises(HarnessError, match=r"KUBESTEAD_HARNESS_RUN_DIR=.*notes\.txt"):
        HarnessLifecycle(settings).down()
    assert keep.read_text() == "someone else's"
