# The local real cluster: Kubernetes v1.30.3 built from source, the backend deployed by its chart.
# Needs root on Linux. Binaries and images are cached under ~/.cache/kubestead (outside the clone).

E2E_PYTHON = $(BIN)/python -m e2e.localcluster

.PHONY: up down e2e e2e-build

e2e-build: venv system-deps ## Build (or reuse) the local cluster's binaries from source
	$(E2E_PYTHON) build

up: venv system-deps $(HELM_STAMP) ## Bring up a real local Kubernetes v1.30.3 with the backend on it (root)
	$(E2E_PYTHON) up

down: ## Remove everything `make up` made (processes, mounts, interfaces, iptables, state); idempotent
	@if [ -x $(BIN)/python ]; then $(E2E_PYTHON) down; else python3 -m e2e.localcluster down; fi

e2e: venv system-deps $(HELM_STAMP) ## End-to-end tests on a local cluster this target brings up and tears down
	$(BIN)/pytest e2e/tests -p no:cacheprovider $(PYTEST_ARGS)
TEST_PATHS += tests/localcluster
# The Ansible rendering tests validate their kubeadm configs with the real kubeadm v1.30.3.
TEST_PREREQS += e2e-build
