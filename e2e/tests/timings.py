"""What the e2e session measures, printed by conftest at the end of the run: wall times, and
reports (a title and its text) such as the CIS benchmark's counts per host."""

TIMINGS: dict[str, float] = {}
REPORTS: dict[str, str] = {}
