# Real test hosts for the Ansible roles (tests/harness/): three Debian 12 containers with
# systemd and sshd on a private bridge, plus a local apt repository. Needs root.

HARNESS := $(BIN)/python -m tests.harness
HARNESS_TEST_PATHS := tests/harness

.PHONY: hosts-up hosts-down test-harness lint-harness

hosts-up: venv system-deps ## Start the three test hosts and print how to ssh into them (root)
	$(HARNESS) up

hosts-down: venv ## Stop the test hosts and remove their bridge, netns, mounts and containerd
	$(HARNESS) down

test-harness: venv system-deps ## Run the test-host smoke tests (three real hosts; root)
	$(BIN)/pytest $(HARNESS_TEST_PATHS) $(PYTEST_ARGS)

lint-harness: venv ## Ruff and mypy --strict over the harness only
	$(BIN)/ruff check $(HARNESS_TEST_PATHS)
	$(BIN)/ruff format --check $(HARNESS_TEST_PATHS)
	$(BIN)/mypy $(HARNESS_TEST_PATHS)

TEST_PATHS += $(HARNESS_TEST_PATHS)
