"""Real test hosts for the Ansible roles: systemd containers on a private bridge.

`fixtures.test_hosts` is the pytest entry point, `python -m tests.harness up|down` the
human one; both drive `lifecycle.HarnessLifecycle`.
"""
