# The kubestead CLI and cluster spec (src/kubestead). Its tests walk the example specs in
# tests/specs/ (data only) and run ansible-runner against this machine.

.PHONY: test-cli lint-cli cli-sample

CLI_TEST_PATHS := tests/cli

test-cli: venv ## Run the kubestead CLI and spec tests
	$(BIN)/pytest $(CLI_TEST_PATHS) $(PYTEST_ARGS)

lint-cli: venv ## Ruff and mypy --strict over the CLI and its tests only (lint-python covers all)
	$(BIN)/ruff check src/kubestead $(CLI_TEST_PATHS)
	$(BIN)/ruff format --check src/kubestead $(CLI_TEST_PATHS)
	$(BIN)/mypy src/kubestead $(CLI_TEST_PATHS)

cli-sample: venv ## Regenerate ansible/inventory/sample/ from examples/cluster.yaml
	$(BIN)/kubestead render -f examples/cluster.yaml -o ansible/inventory/sample

TEST_PATHS += $(CLI_TEST_PATHS)
