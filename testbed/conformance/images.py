"""The images the [Conformance] specs of the tested release's e2e.test run, made like the bundle's.

Which: the references of that release's test/utils/image/manifest.go that a [Conformance]
spec (test/conformance/testdata/conformance.yaml names their files) or a helper it calls pulls.
Each is pushed under its upstream name, so the hosts pull it through their containerd mirrors
as they would from registry.k8s.io. `check_listed` compares them with what the built
e2e.test lists (`--list-images`), so a drifted pin fails the build instead of a run.

How each behaves like the upstream image (the specs rely on these paths, ports and tools):

- agnhost 2.47: `/agnhost` (entrypoint, `pause` by default) and `/agnhost-2`, `/uploads`, the
  porter's `/localhost.crt` and `/localhost.key`, `/coredns`, the user `user-defined-in-image`
  (1000) in `group-defined-in-image` (50000), the tools upstream adds to alpine: dig,
  nslookup and host (bind9-dnsutils), curl, nc (netcat-openbsd), ip and ss (iproute2), iperf,
  bash; and, as alpine's busybox gives them, busybox applets for the commands Debian's
  minbase lacks (ping, netstat, ...), but GNU wget trying once (Debian's busybox wget has no
  `-T`, which the Services specs use: it crashes on it). The binary is built from the agnhost
  source in the release's kubernetes tree, whose test/images/agnhost/VERSION says 2.48; the
  suite pulls the tag 2.47, built upstream from an earlier tree. Base: bookworm minbase.
- nautilus 1.7: agnhost with `/nautilus.jpg` and `/data.json`, running `test-webserver` on :80.
- busybox 1.36.1-1: busybox built here from the upstream source of bookworm's (1.35) with
  upstream's defconfig, static (busybox.py: Debian's `sh` drops environment variables named
  `data-1`, which the ConfigMap specs read back), every applet linked in `/bin` as the
  docker-library image lays them out, an nsswitch.conf; `sh` by default.
- nginx 1.14-4: Debian's nginx-light in the foreground (`nginx -g 'daemon off;'`) on :80 with
  the docker-library image's nginx.conf, conf.d/default.conf and /usr/share/nginx/html.
- httpd 2.4.38-4 and 2.4.39-4: Debian's apache2-bin under /usr/local/apache2 as the
  docker-library image has it (`httpd-foreground`, htdocs/index.html "It works!", :80, logs to
  stdout/stderr); the statefulset specs move htdocs/index.html away and back to break a probe.
- jessie-dnsutils 1.7: dig for the DNS specs' second querier, plus `/coredns`; bookworm's
  bind9-dnsutils instead of jessie's dnsutils.
- nonewprivs 1.3: `nnp` (prints the effective uid) setuid root in /usr/local/bin, `nnp` by default.
- sample-apiserver 1.29.2: `/sample-apiserver` (k8s.io/sample-apiserver v0.29.2) as entrypoint.
- pause and etcd: kubeadm's own, already in the offline bundle (`from_bundle`).

`/coredns` is the bundle's CoreDNS (versions.yaml) where upstream has 1.6.2 (agnhost) and 1.5.0
(jessie-dnsutils); only non-conformance DNS specs run it.

Not built (NOT_BUILT): none of the images a [Conformance] spec pulls. The other references of
manifest.go are used only by specs outside [Conformance] (e.g. the authenticated and invalid
registries, CUDA, volume servers, kitten, perl, redis); `check_listed` returns them.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from kubestead import versions
from testbed.bundle import oci, push
from testbed.bundle.images import DebianBase, ImageRecipe, build_image, cached_base
from testbed.bundle.oci import ImageConfig
from testbed.commands import run
from testbed.conformance.build import KUBERNETES_VERSION, Binaries
from testbed.conformance.busybox import cached_busybox
from testbed.errors import TestbedError
from testbed.mirror import DebianMirror

# manifest.go's promoterE2eRegistry (gcRegistry is registry.k8s.io itself).
E2E_REGISTRY = "registry.k8s.io/e2e-test-images"
AGNHOST = f"{E2E_REGISTRY}/agnhost:2.47"
BUSYBOX = f"{E2E_REGISTRY}/busybox:1.36.1-1"
HTTPD = f"{E2E_REGISTRY}/httpd:2.4.38-4"
HTTPD_NEW = f"{E2E_REGISTRY}/httpd:2.4.39-4"  # the statefulset specs' rolling update target
JESSIE_DNSUTILS = f"{E2E_REGISTRY}/jessie-dnsutils:1.7"
NAUTILUS = f"{E2E_REGISTRY}/nautilus:1.7"
NGINX = f"{E2E_REGISTRY}/nginx:1.14-4"
NONEWPRIVS = f"{E2E_REGISTRY}/nonewprivs:1.3"
SAMPLE_APISERVER = f"{E2E_REGISTRY}/sample-apiserver:1.29.2"
# Conformance images the testbed could not build, with the reason: none (see the docstring).
NOT_BUILT: Mapping[str, str] = {}

# Three bases, the fewest that keep each image's contents its own (the base cache keeps few).
TOOLS = DebianBase(
    packages=(
        "bash",
        "bind9-dnsutils",
        "busybox",  # the busybox image's binary and libraries come from here
        "curl",
        "iperf",
        "iproute2",
        "netcat-openbsd",
        # Debian's busybox is built without wget's timeout: its `-T` (the Services specs run
        # `wget -q -O - -T 1` in agnhost pods) dereferences NULL. GNU wget takes -T.
        "wget",
    )
)
NGINX_BASE = DebianBase(packages=("nginx-light",))
# apache2-bin only: the apache2 package's init script would start a server on the machine
# while debootstrap configures it. media-types: /etc/mime.types for mod_mime.
HTTPD_BASE = DebianBase(packages=("apache2-bin", "media-types"))
# The images and their bases live in a cache folder of their own: the base cache keeps two
# entries besides the newest, and these three would otherwise evict the bundle's.
CACHE_FOLDER = "conformance"
BUSYBOX_IN_TOOLS = "/bin/busybox"
# glibc's defaults without one would ask DNS before /etc/hosts, and stop at its "no".
NSSWITCH = """\
passwd:         files
group:          files
shadow:         files
hosts:          files dns
networks:       files
protocols:      files
services:       files
ethers:         files
rpc:            files
"""

_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Bump when a layout function below changes, so the cached images are rebuilt.
_LAYOUT_VERSION = 1
_HTTPD_PREFIX = "/usr/local/apache2"
_AGNHOST_PORTS = ("80/tcp", "8080/tcp", "8081/tcp", "9376/tcp", "5000/tcp")


def from_bundle(version: str = KUBERNETES_VERSION) -> dict[str, str]:
    """The suite's images that kubeadm deploys too: the bundle builds and pushes them."""
    kubeadm, _ = versions.kubeadm_images(version)
    return {
        f"registry.k8s.io/pause:{kubeadm.pause}": "kubeadm's pod sandbox image",
        f"registry.k8s.io/etcd:{kubeadm.etcd}": "kubeadm's etcd (the aggregator spec runs one)",
    }


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


_COMMAND_FOLDERS = ("usr/local/bin", "usr/sbin", "usr/bin", "sbin", "bin")


def agnhost_layout(applets: Sequence[str], data: Sequence[str] = ()) -> Callable[[Path], None]:
    """What test/images/agnhost/Dockerfile adds besides the binary, and alpine's busybox.

    Upstream's base is alpine, whose commands are busybox applets: specs run ping or netstat
    in agnhost pods. Each applet no Debian package here provides is a link to busybox (TOOLS
    has it), as on alpine; wget is GNU's, made to try once as busybox's does.
    data: files to make readable.
    """

    def layout(rootfs: Path) -> None:
        (rootfs / "agnhost-2").symlink_to("agnhost")
        (rootfs / "uploads").mkdir()
        for name in ("localhost.crt", "localhost.key", *data):
            (rootfs / name).chmod(0o644)
        (rootfs / "usr/local/bin/iperf").symlink_to("/usr/bin/iperf")
        with (rootfs / "etc/wgetrc").open("a") as wgetrc:
            # A spec expecting "unreachable" waits out each attempt: one, as busybox makes.
            wgetrc.write("tries = 1\n")
        for applet in applets:
            paths = [rootfs / folder / applet for folder in _COMMAND_FOLDERS]
            if applet != "busybox" and not any(p.is_symlink() or p.exists() for p in paths):
                (rootfs / "usr/local/bin" / applet).symlink_to("/bin/busybox")
        with (rootfs / "etc/passwd").open("a") as passwd:
            passwd.write("user-defined-in-image:x:1000:1000::/home/user-defined-in-image:/bin/sh\n")
        with (rootfs / "etc/group").open("a") as group:
            group.write("user-defined-in-image:x:1000:\n")
            group.write("group-defined-in-image:x:50000:user-defined-in-image\n")

    return layout


@dataclass(frozen=True)
class Busybox:
    """A busybox binary, the libraries it loads (none when static), its applets."""

    binary: Path
    libraries: Mapping[str, Path]  # path in the image -> the file in the tree
    applets: tuple[str, ...]


def busybox_in(tree: Path) -> Busybox:
    """What the busybox image needs from a root filesystem that has Debian's busybox."""
    libraries: dict[str, Path] = {}
    for line in _in_tree(tree, "/usr/bin/ldd", BUSYBOX_IN_TOOLS).splitlines():
        # "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux... (0x...)"
        path = line.split("=>")[-1].split("(")[0].strip()
        if path.startswith("/"):
            libraries[path] = tree / path.lstrip("/")
    applets = tuple(sorted(_in_tree(tree, BUSYBOX_IN_TOOLS, "--list").split()))
    if "sh" not in applets or not libraries:
        raise TestbedError(f"{tree}{BUSYBOX_IN_TOOLS}: no shell applet, or not dynamically linked")
    return Busybox(tree / BUSYBOX_IN_TOOLS.lstrip("/"), libraries, applets)


def static_busybox(binary: Path) -> Busybox:
    """The busybox image's: built from upstream's source, static (busybox.py says why)."""
    applets = tuple(sorted(run([str(binary), "--list"]).stdout.split()))
    if "sh" not in applets:
        raise TestbedError(f"{binary}: no shell applet")
    return Busybox(binary, {}, applets)


def _in_tree(tree: Path, *argv: str) -> str:
    # In the tree: its own loader and libraries, whatever the machine's are.
    return run(["chroot", str(tree), *argv]).stdout


def busybox_layout(applets: Sequence[str]) -> Callable[[Path], None]:
    """Every applet a link to /bin/busybox, as `busybox --install -s /bin` would make."""

    def layout(rootfs: Path) -> None:
        for applet in applets:
            if applet != "busybox":
                (rootfs / "bin" / applet).symlink_to("busybox")
        for folder in ("root", "home", "var/spool/mail", "var/www"):
            (rootfs / folder).mkdir(parents=True, exist_ok=True)
        _write(rootfs / "etc/nsswitch.conf", NSSWITCH)

    return layout


NGINX_CONF = """\
user  www-data;
worker_processes  1;

error_log  /var/log/nginx/error.log warn;
pid        /var/run/nginx.pid;

events {
    worker_connections  1024;
}

http {
    include       /etc/nginx/mime.types;
    default_type  application/octet-stream;

    log_format  main  '$remote_addr - $remote_user [$time_local] "$request" '
                      '$status $body_bytes_sent "$http_referer" '
                      '"$http_user_agent" "$http_x_forwarded_for"';

    access_log  /var/log/nginx/access.log  main;

    sendfile        on;
    keepalive_timeout  65;

    include /etc/nginx/conf.d/*.conf;
}
"""
NGINX_DEFAULT_SERVER = """\
server {
    listen       80;
    server_name  localhost;

    location / {
        root   /usr/share/nginx/html;
        index  index.html index.htm;
    }

    error_page   500 502 503 504  /50x.html;
    location = /50x.html {
        root   /usr/share/nginx/html;
    }
}
"""
NGINX_INDEX = """\
<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>
</body>
</html>
"""


def nginx_layout(rootfs: Path) -> None:
    """The docker-library nginx image's configuration, pages and logs on Debian's nginx."""
    _write(rootfs / "etc/nginx/nginx.conf", NGINX_CONF)
    for stale in ("sites-enabled", "sites-available", "modules-enabled"):
        shutil.rmtree(rootfs / "etc/nginx" / stale, ignore_errors=True)
    _write(rootfs / "etc/nginx/conf.d/default.conf", NGINX_DEFAULT_SERVER)
    html = rootfs / "usr/share/nginx/html"
    shutil.rmtree(html, ignore_errors=True)
    _write(html / "index.html", NGINX_INDEX)
    _write(html / "50x.html", "<html><body><h1>An error occurred.</h1></body></html>\n")
    logs = rootfs / "var/log/nginx"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)
    # As upstream: the logs are the container's output.
    (logs / "access.log").symlink_to("/dev/stdout")
    (logs / "error.log").symlink_to("/dev/stderr")


# The docker-library httpd.conf, reduced to what it enables, with Debian's module paths.
HTTPD_CONF = f"""\
ServerRoot "{_HTTPD_PREFIX}"
Listen 80
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authn_core_module /usr/lib/apache2/modules/mod_authn_core.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule authz_host_module /usr/lib/apache2/modules/mod_authz_host.so
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
LoadModule env_module /usr/lib/apache2/modules/mod_env.so
LoadModule headers_module /usr/lib/apache2/modules/mod_headers.so
LoadModule setenvif_module /usr/lib/apache2/modules/mod_setenvif.so
LoadModule status_module /usr/lib/apache2/modules/mod_status.so
LoadModule autoindex_module /usr/lib/apache2/modules/mod_autoindex.so
LoadModule dir_module /usr/lib/apache2/modules/mod_dir.so
LoadModule alias_module /usr/lib/apache2/modules/mod_alias.so
User daemon
Group daemon
ServerAdmin you@example.com
ServerName localhost
PidFile logs/httpd.pid
DefaultRuntimeDir logs
<Directory />
    AllowOverride none
    Require all denied
</Directory>
DocumentRoot "{_HTTPD_PREFIX}/htdocs"
<Directory "{_HTTPD_PREFIX}/htdocs">
    Options Indexes FollowSymLinks
    AllowOverride None
    Require all granted
</Directory>
DirectoryIndex index.html
<Files ".ht*">
    Require all denied
</Files>
ErrorLog /proc/self/fd/2
LogLevel warn
LogFormat "%h %l %u %t \\"%r\\" %>s %b" common
CustomLog /proc/self/fd/1 common
TypesConfig /etc/mime.types
"""
HTTPD_INDEX = "<html><body><h1>It works!</h1></body></html>\n"
HTTPD_FOREGROUND = """\
#!/bin/sh
set -e
# A pid file left by a killed container would stop the next start.
rm -f /usr/local/apache2/logs/httpd.pid
exec httpd -DFOREGROUND "$@"
"""
# Debian's binary is apache2 with apache2.conf compiled in: httpd is a name for it with ours.
HTTPD_WRAPPER = f"""\
#!/bin/sh
exec /usr/sbin/apache2 -d {_HTTPD_PREFIX} -f conf/httpd.conf "$@"
"""


def httpd_layout(rootfs: Path) -> None:
    """/usr/local/apache2 as the docker-library httpd image has it, on Debian's apache2."""
    prefix = rootfs / _HTTPD_PREFIX.lstrip("/")
    _write(prefix / "conf/httpd.conf", HTTPD_CONF)
    _write(prefix / "htdocs/index.html", HTTPD_INDEX)
    (prefix / "logs").mkdir()
    _write(prefix / "bin/httpd", HTTPD_WRAPPER, 0o755)
    _write(prefix / "bin/httpd-foreground", HTTPD_FOREGROUND, 0o755)


def _setuid_nnp(rootfs: Path) -> None:
    # The spec proves allowPrivilegeEscalation=false by the setuid bit having no effect.
    (rootfs / "usr/local/bin/nnp").chmod(0o4755)


def recipes(binaries: Binaries, busybox: Busybox, tools_busybox: Busybox) -> list[ImageRecipe]:
    """Every image this module builds: busybox's is `busybox`; agnhost's applets are links to
    Debian's busybox in TOOLS' tree (`tools_busybox`), as alpine's are to its own."""
    applets = tools_busybox.applets
    suite, source = binaries.suite, binaries.kubernetes_source / "test/images"
    coredns = binaries.coredns / "coredns"
    agnhost_files = {
        "/agnhost": suite / "agnhost",
        "/coredns": coredns,
        "/localhost.crt": source / "agnhost/porter/localhost.crt",
        "/localhost.key": source / "agnhost/porter/localhost.key",
    }
    agnhost_config = ImageConfig(
        entrypoint=("/agnhost",), cmd=("pause",), env=(_PATH,), exposed_ports=_AGNHOST_PORTS
    )
    httpd_config = ImageConfig(
        cmd=("httpd-foreground",),
        env=(f"PATH={_HTTPD_PREFIX}/bin:{_PATH.removeprefix('PATH=')}",),
        working_dir=_HTTPD_PREFIX,
        exposed_ports=("80/tcp",),
    )
    httpd_inputs = HTTPD_CONF + HTTPD_INDEX + HTTPD_FOREGROUND + HTTPD_WRAPPER
    return [
        ImageRecipe(
            reference=BUSYBOX,
            files={"/bin/busybox": busybox.binary, **busybox.libraries},
            config=ImageConfig(cmd=("sh",), env=(_PATH,)),
            customize=busybox_layout(busybox.applets),
            customize_inputs=f"{NSSWITCH} {' '.join(busybox.applets)}",
        ),
        ImageRecipe(
            reference=AGNHOST,
            files=agnhost_files,
            base=TOOLS,
            config=agnhost_config,
            customize=agnhost_layout(applets),
            customize_inputs=f"agnhost layout {_LAYOUT_VERSION} {' '.join(applets)}",
        ),
        ImageRecipe(
            reference=NAUTILUS,
            files={
                **agnhost_files,
                "/nautilus.jpg": source / "nautilus/html/nautilus.jpg",
                "/data.json": source / "nautilus/html/data.json",
            },
            base=TOOLS,
            config=ImageConfig(
                entrypoint=("/agnhost",),
                cmd=("test-webserver",),
                env=(_PATH,),
                exposed_ports=_AGNHOST_PORTS,
            ),
            customize=agnhost_layout(applets, ("nautilus.jpg", "data.json")),
            customize_inputs=f"nautilus layout {_LAYOUT_VERSION} {' '.join(applets)}",
        ),
        ImageRecipe(
            reference=JESSIE_DNSUTILS,
            files={"/coredns": coredns},
            base=TOOLS,
            config=ImageConfig(cmd=("bash",), env=(_PATH,)),
        ),
        ImageRecipe(
            reference=NGINX,
            base=NGINX_BASE,
            config=ImageConfig(
                cmd=("nginx", "-g", "daemon off;"), env=(_PATH,), exposed_ports=("80/tcp",)
            ),
            customize=nginx_layout,
            customize_inputs=NGINX_CONF + NGINX_DEFAULT_SERVER + NGINX_INDEX,
        ),
        *(
            ImageRecipe(
                reference=reference,
                base=HTTPD_BASE,
                config=httpd_config,
                customize=httpd_layout,
                customize_inputs=httpd_inputs,
            )
            for reference in (HTTPD, HTTPD_NEW)
        ),
        ImageRecipe(
            reference=NONEWPRIVS,
            files={"/usr/local/bin/nnp": suite / "nnp"},
            config=ImageConfig(cmd=("nnp",), env=(_PATH,)),
            customize=_setuid_nnp,
            customize_inputs="setuid nnp",
        ),
        ImageRecipe(
            reference=SAMPLE_APISERVER,
            files={"/sample-apiserver": binaries.sample_apiserver / "sample-apiserver"},
            config=ImageConfig(entrypoint=("/sample-apiserver",), env=(_PATH,)),
        ),
    ]


def check_listed(listed: Iterable[str], needed: Iterable[str]) -> list[str]:
    """The listed references nothing here provides; refuse a needed one e2e.test does not list.

    listed: `e2e.test --list-images`; needed: the references built here and from the bundle.
    """
    known = set(listed)
    drifted = sorted(set(needed) - known)
    if drifted:
        by_name = {reference.rsplit(":", 1)[0]: reference for reference in known}
        lines = [
            f"  {ref}: e2e.test uses {by_name.get(ref.rsplit(':', 1)[0], 'no such image')}"
            for ref in drifted
        ]
        raise TestbedError(
            "the conformance images differ from e2e.test's; fix testbed/conformance/images.py:\n"
            + "\n".join(lines)
        )
    return sorted(known - set(needed))


Report = Callable[[str], None]


def build_images(
    cache: Path, binaries: Binaries, mirror: DebianMirror, report: Report
) -> dict[str, Path]:
    """Each image's OCI archive (built if missing, under <cache>/conformance), by reference."""
    cache = cache / CACHE_FOLDER
    tools_busybox = busybox_in(cached_base(cache, TOOLS, mirror))
    binary, built = cached_busybox(cache, mirror)
    if built:
        report(f"built busybox from its upstream source: {binary}")
    archives: dict[str, Path] = {}
    for recipe in recipes(binaries, static_busybox(binary), tools_busybox):
        archive, built = build_image(cache, recipe, mirror)
        if built:
            report(f"built {recipe.reference}")
        archives[recipe.reference] = archive
    return archives


def push_images(registry: str, archives: Mapping[str, Path], report: Report) -> None:
    """Push what the registry lacks, under the upstream names; check the bundle's are there."""
    missing = [ref for ref in from_bundle() if push.manifest_digest(registry, ref) is None]
    if missing:
        raise TestbedError(
            f"the registry {registry} lacks {', '.join(missing)}, which the offline bundle "
            "pushes: is this the registry `make up` started?"
        )
    for reference, archive in archives.items():
        if push.manifest_digest(registry, reference) != oci.archive_digest(archive):
            report(f"pushing {reference}")
            push.push(registry, archive, reference)
