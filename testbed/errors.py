"""The two ways the testbed can fail: the machine cannot host it, or something broke."""


class TestbedUnavailableError(Exception):
    """The machine lacks a capability (root, containerd, debootstrap, ...): skip, unless in CI."""

    __test__ = False  # a class named Test* is not a test class


class TestbedError(Exception):
    """Building or starting the testbed failed; the message says where and what to look at."""

    __test__ = False
