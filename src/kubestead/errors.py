"""The one exception a command turns into a one-line message and exit status 1."""


class KubesteadError(Exception):
    """A problem the user can fix; its text says what happened, where, and what to do."""
