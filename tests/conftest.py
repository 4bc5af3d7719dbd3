"""Fixtures shared by every cross-cutting test: the real test hosts (one bring-up a session)."""

from testbed.fixtures import test_hosts

__all__ = ["test_hosts"]
