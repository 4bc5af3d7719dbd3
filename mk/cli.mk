# The kubestead CLI and cluster spec (src/kubestead). Its tests walk the example specs in
# tests/specs/ (data only) and run ansible-runner against this machine.

.PHONY: test-cli lint-cli lint-spec-docs spec-docs cli-sample

CLI_TEST_PATHS := tests/cli

test-cli: venv ## Run the kubestead CLI and spec tests
	$(BIN)/pytest $(CLI_TEST_PATHS) $(PYTEST_ARGS)

lint-cli: venv lint-spec-docs ## Ruff and mypy --strict over the CLI and its tests only (lint-python covers all)
	$(BIN)/ruff check src/kubestead $(CLI_TEST_PATHS)
	$(BIN)/ruff format --check src/kubestead $(CLI_TEST_PATHS)
	$(BIN)/mypy src/kubestead $(CLI_TEST_PATHS)

# The spec table in src/kubestead/README.md mirrors the models' field descriptions.
lint-spec-docs: venv ## Check that the spec table in src/kubestead/README.md matches the models
	$(BIN)/python scripts/spec_docs.py --check

spec-docs: venv ## Regenerate the spec table in src/kubestead/README.md from the models
	$(BIN)/python scripts/spec_docs.py

cli-sample: venv ## Regenerate the committed inventories (ansible/inventory/sample/, tests/ansible/inventory/) from their specs
	$(BIN)/kubestead render -f examples/cluster.yaml -o ansible/inventory/sample
	$(BIN)/kubestead render -f tests/ansible/cluster.yaml -o tests/ansible/inventory

LINT_TARGETS += lint-spec-docs
TEST_PATHS += $(CLI_TEST_PATHS)
