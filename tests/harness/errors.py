"""The two ways a bring-up can fail: the machine cannot host test hosts, or something broke."""


class HarnessUnavailableError(Exception):
    """The machine lacks a capability (root, containerd, debootstrap, ...): skip, unless in CI."""


class HarnessError(Exception):
    """Bringing the hosts up or down failed; the message says where and what to look at."""
