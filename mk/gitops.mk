# The platform add-ons as a GitOps tree (gitops/, issue 14): lint and offline validation.
# Nothing here talks to a cluster: manifests and Applications are validated against the
# Kubernetes 1.30 and CRD schemas (the chart tools' kubeconform and schemas), the backend's
# alerts with promtool, the admission policies with conftest (docs/adr/0019), dashboards against
# the backend's real /metrics. Tools are pinned and hang off a stamp, as in mk/chart.mk.

# promtool: v0.54.x does not `go install` here; the v0.316.0 module does (the Prometheus 3.x
# line, whose rule-test format is the one kube-prometheus-stack's Prometheus reads).
PROMTOOL_VERSION := v0.316.0
CONFTEST_VERSION := v0.55.0
GITOPS_DIR := gitops
GITOPS_TESTS := tests/gitops
PROMTOOL_STAMP := $(CHART_STAMPS)/promtool-$(PROMTOOL_VERSION)
CONFTEST_STAMP := $(CHART_STAMPS)/conftest-$(CONFTEST_VERSION)
GITOPS_TOOLS := $(HELM_STAMP) $(KUBECONFORM_STAMP) $(K8S_SCHEMAS_STAMP) $(PROMTOOL_STAMP) $(CONFTEST_STAMP)

.PHONY: gitops-tools lint-gitops lint-gitops-yaml test-gitops

$(PROMTOOL_STAMP): scripts/tools/install-go-tool.sh
	scripts/tools/install-go-tool.sh github.com/prometheus/prometheus/cmd/promtool $(PROMTOOL_VERSION) $(TOOLS)
	@mkdir -p $(@D) && touch $@

$(CONFTEST_STAMP): scripts/tools/install-go-tool.sh
	scripts/tools/install-go-tool.sh github.com/open-policy-agent/conftest $(CONFTEST_VERSION) $(TOOLS)
	@mkdir -p $(@D) && touch $@

gitops-tools: $(GITOPS_TOOLS) ## Install the pinned gitops tools (helm, kubeconform, schemas, promtool, conftest) into .tools

# The offline validation is the lint of gitops/: CI's gitops job runs this one target.
lint-gitops: venv $(GITOPS_TOOLS) ## yamllint gitops/, then its offline validation (schemas, projects, pins, values keys, alerts, policies, dashboards)
	$(BIN)/yamllint -c $(GITOPS_DIR)/.yamllint --strict $(GITOPS_DIR)
	$(BIN)/pytest $(GITOPS_TESTS) $(PYTEST_ARGS)

# `make lint` runs only yamllint: `make test` runs the validation once, not twice per CI run.
lint-gitops-yaml: venv ## yamllint gitops/ (strict)
	$(BIN)/yamllint -c $(GITOPS_DIR)/.yamllint --strict $(GITOPS_DIR)

test-gitops: venv $(GITOPS_TOOLS) ## Run the gitops tests only (no yamllint)
	$(BIN)/pytest $(GITOPS_TESTS) $(PYTEST_ARGS)

LINT_TARGETS += lint-gitops-yaml
TEST_PREREQS += $(GITOPS_TOOLS)
TEST_PATHS += $(GITOPS_TESTS)
