"""The conformance images: which references, pushed where, and the layouts the specs rely on."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from testbed.bundle.push import _split
from testbed.conformance.build import Binaries
from testbed.conformance.images import (
    AGNHOST,
    BUSYBOX,
    HTTPD,
    NAUTILUS,
    NONEWPRIVS,
    Busybox,
    agnhost_layout,
    busybox_layout,
    check_listed,
    from_bundle,
    httpd_layout,
    nginx_layout,
    recipes,
)
from testbed.errors import TestbedError

APPLETS = ("[", "busybox", "cat", "nslookup", "sh", "sleep", "wget")


def _busybox(tmp_path: Path, applets: tuple[str, ...] = APPLETS) -> Busybox:
    libc = "/lib/x86_64-linux-gnu/libc.so.6"
    return Busybox(tmp_path / "bin/busybox", {libc: tmp_path / libc.lstrip("/")}, applets)


@pytest.fixture
def binaries(tmp_path: Path) -> Binaries:
    return Binaries(
        suite=tmp_path / "suite",
        sample_apiserver=tmp_path / "sample-apiserver",
        coredns=tmp_path / "coredns",
        kubernetes_source=tmp_path / "kubernetes",
    )


def test_each_image_is_pushed_where_the_hosts_mirror_of_its_registry_looks(
    binaries: Binaries, tmp_path: Path
) -> None:
    built = recipes(binaries, _busybox(tmp_path), _busybox(tmp_path))
    references = [recipe.reference for recipe in built]
    assert len(set(references)) == len(references)
    for reference in references:
        # A host asking its registry.k8s.io mirror for e2e-test-images/<name>:<tag> finds it.
        registry, _, path = reference.partition("/")
        assert registry == "registry.k8s.io"
        assert _split(reference) == tuple(path.rsplit(":", 1))
    # What the bundle already pushes is not built twice (under the same tag, differently).
    assert not set(references) & set(from_bundle())


def test_the_bundle_provides_kubeadms_sandbox_and_etcd_for_the_tested_release() -> None:
    # Two sources that must agree: kubeadm's pins (versions.yaml) and e2e.test's manifest.go.
    assert sorted(from_bundle()) == ["registry.k8s.io/etcd:3.5.12-0", "registry.k8s.io/pause:3.9"]


def test_agnhost_and_nautilus_run_the_agnhost_binary_built_here(
    binaries: Binaries, tmp_path: Path
) -> None:
    by_reference = {
        r.reference: r for r in recipes(binaries, _busybox(tmp_path), _busybox(tmp_path))
    }
    agnhost, nautilus = by_reference[AGNHOST], by_reference[NAUTILUS]
    assert agnhost.files["/agnhost"] == binaries.suite / "agnhost"
    assert list(agnhost.config.entrypoint) == ["/agnhost"]
    assert list(agnhost.config.cmd) == ["pause"]
    # nautilus is agnhost serving its data files from / on :80.
    assert nautilus.files["/agnhost"] == agnhost.files["/agnhost"]
    assert {"/data.json", "/nautilus.jpg"} <= set(nautilus.files)
    assert list(nautilus.config.cmd) == ["test-webserver"]
    assert list(by_reference[NONEWPRIVS].config.cmd) == ["nnp"]


def test_agnhost_gets_alpines_busybox_commands_only_where_debian_has_none(tmp_path: Path) -> None:
    for folder in ("usr/bin", "usr/local/bin", "etc"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "bin").symlink_to("usr/bin")  # bookworm's merged /usr
    for command in ("cat", "sh", "busybox"):
        (tmp_path / "usr/bin" / command).write_text("from a Debian package")
    (tmp_path / "usr/bin/nslookup").symlink_to("/etc/alternatives/nslookup")  # dangling here
    for name in ("agnhost", "localhost.crt", "localhost.key", "etc/passwd", "etc/group"):
        (tmp_path / name).write_text("")
    (tmp_path / "etc/wgetrc").write_text("# GNU wget's\n")
    (tmp_path / "usr/bin/wget").write_text("GNU wget")
    agnhost_layout(APPLETS)(tmp_path)
    linked = {path.name for path in (tmp_path / "usr/local/bin").iterdir()}
    # sleep and [ from busybox; Debian's cat, sh, nslookup and GNU wget stay.
    assert linked == {"[", "sleep", "iperf"}
    assert (tmp_path / "usr/local/bin/sleep").readlink() == Path("/bin/busybox")
    # One attempt, as busybox's wget: an "unreachable" check does not wait out 20 tries.
    assert (tmp_path / "etc/wgetrc").read_text().splitlines()[-1] == "tries = 1"
    assert (tmp_path / "agnhost-2").readlink() == Path("agnhost")
    assert (tmp_path / "uploads").is_dir()
    assert (
        "group-defined-in-image:x:50000:user-defined-in-image"
        in (tmp_path / "etc/group").read_text()
    )


def test_busybox_links_every_applet_to_the_one_binary(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin/busybox").write_text("binary")
    busybox_layout(APPLETS)(tmp_path)
    for applet in APPLETS:
        assert (tmp_path / "bin" / applet).resolve() == (tmp_path / "bin/busybox").resolve()
    assert not (tmp_path / "bin/busybox").is_symlink()
    # Names resolve as on a Debian host: /etc/hosts (the pod's, from the kubelet) before DNS.
    assert "hosts:          files dns" in (tmp_path / "etc/nsswitch.conf").read_text()


def test_the_busybox_image_is_its_own_busybox_and_agnhost_links_debians(
    binaries: Binaries, tmp_path: Path
) -> None:
    static = Busybox(tmp_path / "static/busybox", {}, (*APPLETS, "hush"))
    tools = _busybox(tmp_path, ("busybox", "ping", "sh"))
    by_reference = {r.reference: r for r in recipes(binaries, static, tools)}
    busybox = by_reference[BUSYBOX]
    assert busybox.base is None  # nothing but the one static binary
    assert busybox.files == {"/bin/busybox": static.binary}
    assert "hush" in busybox.customize_inputs and "ping" not in busybox.customize_inputs
    agnhost = by_reference[AGNHOST]
    assert "ping" in agnhost.customize_inputs and "hush" not in agnhost.customize_inputs


def test_a_changed_applet_list_is_a_different_busybox_image(
    binaries: Binaries, tmp_path: Path
) -> None:
    def busybox_recipe(applets: tuple[str, ...]) -> str:
        busybox = _busybox(tmp_path, applets)
        (recipe,) = [r for r in recipes(binaries, busybox, busybox) if r.reference == BUSYBOX]
        return recipe.customize_inputs

    assert busybox_recipe(APPLETS) != busybox_recipe((*APPLETS, "ip"))


def test_httpd_serves_the_statefulset_specs_index_from_the_upstream_prefix(
    tmp_path: Path, binaries: Binaries
) -> None:
    httpd_layout(tmp_path)
    prefix = tmp_path / "usr/local/apache2"
    config = (prefix / "conf/httpd.conf").read_text()
    assert 'DocumentRoot "/usr/local/apache2/htdocs"' in config
    assert "Listen 80\n" in config
    # kubectl's specs look for this text; the statefulset specs move this file away and back.
    assert "It works!" in (prefix / "htdocs/index.html").read_text()
    foreground = prefix / "bin/httpd-foreground"
    assert os.access(foreground, os.X_OK)
    assert "exec httpd -DFOREGROUND" in foreground.read_text()
    assert "-f conf/httpd.conf" in (prefix / "bin/httpd").read_text()
    # The image runs httpd-foreground, found through PATH, from the prefix.
    (recipe,) = [
        r for r in recipes(binaries, _busybox(tmp_path), _busybox(tmp_path)) if r.reference == HTTPD
    ]
    assert list(recipe.config.cmd) == ["httpd-foreground"]
    assert recipe.config.env[0].startswith("PATH=/usr/local/apache2/bin:")
    assert recipe.config.working_dir == "/usr/local/apache2"


def test_nginx_serves_its_html_on_port_80_and_logs_to_the_container_output(
    tmp_path: Path,
) -> None:
    debian_site = tmp_path / "etc/nginx/sites-enabled/default"
    debian_site.parent.mkdir(parents=True)
    debian_site.write_text("server { listen 80 default_server; root /var/www/html; }")
    nginx_layout(tmp_path)
    assert not debian_site.parent.exists()  # Debian's site would serve another root
    server = (tmp_path / "etc/nginx/conf.d/default.conf").read_text()
    assert "listen       80;" in server
    assert "root   /usr/share/nginx/html;" in server
    assert (tmp_path / "usr/share/nginx/html/index.html").is_file()
    assert "include /etc/nginx/conf.d/*.conf;" in (tmp_path / "etc/nginx/nginx.conf").read_text()
    logs = tmp_path / "var/log/nginx"
    assert (logs / "access.log").readlink() == Path("/dev/stdout")
    assert (logs / "error.log").readlink() == Path("/dev/stderr")


def test_nnp_keeps_its_setuid_bit(binaries: Binaries, tmp_path: Path) -> None:
    (recipe,) = [
        r
        for r in recipes(binaries, _busybox(tmp_path), _busybox(tmp_path))
        if r.reference == NONEWPRIVS
    ]
    nnp = tmp_path / "usr/local/bin/nnp"
    nnp.parent.mkdir(parents=True)
    nnp.write_text("binary")
    assert recipe.customize is not None
    recipe.customize(tmp_path)
    assert nnp.stat().st_mode & stat.S_ISUID


def test_the_images_e2e_test_lists_but_no_spec_here_needs_are_returned() -> None:
    listed = [AGNHOST, BUSYBOX, "registry.k8s.io/e2e-test-images/perl:5.26"]
    assert check_listed(listed, [AGNHOST, BUSYBOX]) == ["registry.k8s.io/e2e-test-images/perl:5.26"]


def test_a_pin_that_drifted_from_e2e_test_names_what_e2e_test_uses() -> None:
    listed = ["registry.k8s.io/e2e-test-images/agnhost:2.52", BUSYBOX]
    with pytest.raises(TestbedError) as raised:
        check_listed(listed, [AGNHOST, BUSYBOX, "registry.k8s.io/e2e-test-images/gone:1"])
    message = str(raised.value)
    assert f"{AGNHOST}: e2e.test uses registry.k8s.io/e2e-test-images/agnhost:2.52" in message
    assert "gone:1: e2e.test uses no such image" in message
    assert BUSYBOX not in message
