# The GitHub Actions workflows users copy (.github/): actionlint (which runs shellcheck on every
# `run:` block) and zizmor, both offline, and the tests of the pins and permissions.
# actionlint is built at a pinned version into $(TOOLS) like the chart tools; zizmor is pinned
# in requirements/dev.txt.

ACTIONLINT_VERSION := v1.7.12
ACTIONLINT_STAMP := $(TOOLS)/stamps/actionlint-$(ACTIONLINT_VERSION)
WORKFLOW_TESTS := tests/workflows

.PHONY: lint-workflows test-workflows ci-helm

$(ACTIONLINT_STAMP): scripts/tools/install-go-tool.sh
	scripts/tools/install-go-tool.sh github.com/rhysd/actionlint/cmd/actionlint $(ACTIONLINT_VERSION) $(TOOLS)
	@mkdir -p $(@D) && touch $@

# actionlint skips shellcheck without a word when it is not on PATH, so make sure it is.
lint-workflows: venv $(ACTIONLINT_STAMP) ## actionlint (with shellcheck) and zizmor --offline over .github/
	@command -v shellcheck >/dev/null || scripts/system-deps.sh requirements/apt/workflows.txt
	$(TOOLS)/bin/actionlint
	$(BIN)/zizmor --offline --no-progress .github

test-workflows: venv ## Test the workflows: SHA pins with version comments, permissions, timeouts, checkouts
	$(BIN)/pytest $(WORKFLOW_TESTS) $(PYTEST_ARGS)

# The chart workflow's publish job needs helm alone, not every chart tool.
ci-helm: $(HELM_STAMP) ## Install only the pinned helm (and kubectl) into .tools/bin

LINT_TARGETS += lint-workflows
TEST_PATHS += $(WORKFLOW_TESTS)
