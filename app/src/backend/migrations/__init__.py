"""Alembic migrations, shipped inside the package so `backend migrate` works from the wheel."""

# The newest revision. Readiness compares the database with it; kept here as a constant so
# that `backend serve` need not import Alembic (a third of its start-up time). A test checks
# that it equals the head Alembic computes from versions/.
HEAD = "0001"
