# The testbed (testbed/): the offline bundle built from source, systemd node containers on a
# bridge, and a real HA cluster made by `kubestead apply -f testbed/cluster.yaml`. Needs root
# on Linux. Builds are cached under ~/.cache/kubestead (outside the clone).

TESTBED := $(BIN)/python -m testbed
E2E_TEST_PATHS := e2e/tests

.PHONY: up down e2e e2e-full e2e-upgrade e2e-gitops testbed-build testbed-binaries hosts-up hosts-down

testbed-binaries: venv system-deps ## Build (or reuse) the Kubernetes binaries (kubeadm validates rendered configs)
	$(TESTBED) binaries

testbed-build: venv system-deps $(HELM_STAMP) ## Build (or reuse) the whole offline bundle of testbed/cluster.yaml
	$(TESTBED) build

# `make up SPEC=testbed/cluster-haproxy.yaml` brings up the other endpoint's cluster.
SPEC ?=

up: venv system-deps $(HELM_STAMP) ## A real HA Kubernetes made by `kubestead apply`, with the backend on it (root)
	KUBESTEAD_TESTBED_SPEC=$(SPEC) $(TESTBED) up

down: venv ## Remove everything `make up` made (hosts, bridge, services, mounts, sysctls put back); idempotent
	KUBESTEAD_TESTBED_SPEC=$(SPEC) $(TESTBED) down

# Every e2e test on the default cluster (kube-vip), then the endpoint's tests on the
# haproxy-keepalived one. The first session ends with the reset drill and hands its reset
# hosts on (KUBESTEAD_E2E_HAND_ON); the second takes them over (KUBESTEAD_E2E_TAKE_OVER) and
# applies its spec from scratch on them: the drill's second half, and one bring-up less.
# Each session tears down what it does not hand on.
E2E_ENDPOINT_TESTS := e2e/tests/test_platform.py e2e/tests/test_control_plane_failure.py

# The upgrade drill and the GitOps proof need their own cluster and bundle (`make e2e-upgrade`,
# `make e2e-gitops`).
E2E_MARKS ?= not upgrade and not gitops

e2e: venv system-deps $(HELM_STAMP) ## End-to-end tests on the clusters this target brings up and tears down
	KUBESTEAD_E2E_HAND_ON=1 $(BIN)/pytest $(E2E_TEST_PATHS) -p no:cacheprovider -m "$(E2E_MARKS)" $(PYTEST_ARGS)
	KUBESTEAD_E2E_TAKE_OVER=1 KUBESTEAD_TESTBED_SPEC=testbed/cluster-haproxy.yaml \
	  $(BIN)/pytest $(E2E_ENDPOINT_TESTS) -p no:cacheprovider $(PYTEST_ARGS)

e2e-full: ## `make e2e`, then the upgrade drill and the GitOps proof (longer; before resolving day-2 or GitOps work)
	$(MAKE) e2e
	$(MAKE) e2e-upgrade
	$(MAKE) e2e-gitops

# The GitOps proof (e2e/tests/test_gitops.py): a bundle with the argo-cd add-on's images, Argo CD
# built from source (on first use, minutes; cached), and a git server on the bridge.
e2e-gitops: venv system-deps $(HELM_STAMP) ## Argo CD (built here) syncs the backend from git: a commit rolls it under load, drift is undone (own cluster)
	KUBESTEAD_TESTBED_GITOPS=1 \
	  $(BIN)/pytest e2e/tests/test_gitops.py -p no:cacheprovider -m gitops $(PYTEST_ARGS)

# The upgrade drill (e2e/tests/test_upgrade.py): a bundle with versions.yaml's `tested` and
# `upgrade_tested` releases (the second built from source on first use, cached), and the
# two-worker cluster, since every node is drained in turn.
e2e-upgrade: venv system-deps $(HELM_STAMP) ## The upgrade drill: one minor up through `kubestead apply`, under load (own cluster)
	KUBESTEAD_TESTBED_UPGRADE=1 KUBESTEAD_TESTBED_SPEC=testbed/cluster-conformance.yaml \
	  $(BIN)/pytest e2e/tests/test_upgrade.py -p no:cacheprovider -m upgrade $(PYTEST_ARGS)

hosts-up: venv system-deps ## Start the three bare test hosts of the Ansible tests and print how to ssh in (root)
	$(TESTBED) hosts-up

hosts-down: venv ## Remove the bare test hosts and everything made for them
	$(TESTBED) hosts-down

TEST_PATHS += tests/testbed
# The Ansible rendering tests validate their kubeadm configs with the real kubeadm.
TEST_PREREQS += testbed-binaries
