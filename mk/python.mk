# Python style and types for both packages (app/src/backend, src/kubestead) and all tests.

.PHONY: lint-python fmt

lint-python: venv ## Ruff (lint + format check) and mypy --strict over all Python code
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

fmt: venv ## Format Python code and apply ruff's safe fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

LINT_TARGETS += lint-python
