"""The session's SSH identity and the hosts' known_hosts file."""

from pathlib import Path

from testbed.commands import run

_COMMENT = "kubestead-harness"


def make_client_key(ssh_dir: Path) -> Path:
    """A fresh ed25519 key pair without passphrase; returns the private key path."""
    ssh_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    private_key = ssh_dir / "id_ed25519"
    private_key.unlink(missing_ok=True)
    Path(f"{private_key}.pub").unlink(missing_ok=True)
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", _COMMENT, "-f", str(private_key)])
    return private_key


def make_host_keys(rootfs: Path) -> list[str]:
    """Generate the host's own SSH host keys in its root filesystem; return the public keys."""
    run(["ssh-keygen", "-A", "-f", str(rootfs)])
    return [
        " ".join(pub.read_text().split()[:2])
        for pub in sorted((rootfs / "etc/ssh").glob("ssh_host_*_key.pub"))
    ]


def write_known_hosts(path: Path, host_keys: dict[str, tuple[str, list[str]]]) -> None:
    """known_hosts lines for each host under both its name and its address."""
    lines = [
        f"{name},{address} {key}"
        for name, (address, keys) in sorted(host_keys.items())
        for key in keys
    ]
    path.write_text("\n".join(lines) + "\n")
