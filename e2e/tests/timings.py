"""Wall times the e2e session measures, printed by conftest at the end of the run."""

TIMINGS: dict[str, float] = {}
