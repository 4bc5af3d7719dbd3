"""The machine's configured Debian mirror, read at run time so no mirror host lives in the repo."""

from dataclasses import dataclass
from pathlib import Path

from testbed.errors import TestbedUnavailableError

DEBIAN_SOURCES = Path("/etc/apt/sources.list.d/debian.sources")
SUITE = "bookworm"


@dataclass(frozen=True)
class DebianMirror:
    """The archive URI serving `bookworm`, and the sources text (part of the cache keys)."""

    uri: str
    sources_text: str


def machine_mirror(sources: Path = DEBIAN_SOURCES) -> DebianMirror:
    """The first deb822 stanza that carries the bookworm suite; its first URI."""
    try:
        text = sources.read_text()
    except FileNotFoundError as exc:
        raise TestbedUnavailableError(
            f"{sources} is missing: the harness builds the hosts from the machine's Debian mirror"
        ) from exc
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line:
                continue
            key, _, value = line.partition(":")
            fields[key.strip().lower()] = value.strip()
        if SUITE in fields.get("suites", "").split() and "deb" in fields.get("types", "").split():
            uris = fields.get("uris", "").split()
            if uris:
                return DebianMirror(uri=uris[0], sources_text=text)
    raise TestbedUnavailableError(f"{sources} has no 'deb' stanza with suite {SUITE}")
