"""Fixtures shared by every cross-cutting test: the real test hosts (one bring-up a session)."""

import pytest

from testbed.fixtures import test_hosts

__all__ = ["test_hosts"]

# The test hosts are one bench on this machine (its bridge, netns names and lock): under
# pytest-xdist (`make test`) every test that uses them runs on one worker, which brings them up
# once, instead of each worker bringing up its own in turn.
HOSTS_GROUP = "test-hosts"


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups off the items
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "test_hosts" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group(HOSTS_GROUP))
