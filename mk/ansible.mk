# Ansible (ansible/): lint, syntax and the tests of the roles and playbooks (issue 6).
# Every Ansible command runs from ansible/ so ansible.cfg, roles_path and .ansible-lint apply.

ANSIBLE_DIR := ansible
ANSIBLE_PLAYBOOKS := $(sort $(wildcard $(ANSIBLE_DIR)/playbooks/*.yml))
# Syntax checks need an inventory shaped like the contract; the tests' own is always present.
ANSIBLE_SYNTAX_INVENTORY := tests/ansible/inventory/hosts.yml
ANSIBLE_ENV := ANSIBLE_CONFIG=$(abspath $(ANSIBLE_DIR))/ansible.cfg
ANSIBLE_TESTS := tests/ansible

.PHONY: lint-ansible test-ansible role-docs

role-docs: venv ## Regenerate each role README's variable table from its meta/argument_specs.yml
	$(BIN)/python scripts/role_docs.py

lint-ansible: venv ## ansible-lint (production), yamllint, --syntax-check of every playbook, argument-spec drift
	cd $(ANSIBLE_DIR) && $(abspath $(BIN))/ansible-lint --nocolor -q
	cd $(ANSIBLE_DIR) && $(abspath $(BIN))/yamllint -c .yamllint --strict .
	@for playbook in $(ANSIBLE_PLAYBOOKS); do \
	  $(ANSIBLE_ENV) $(BIN)/ansible-playbook -i $(ANSIBLE_SYNTAX_INVENTORY) --syntax-check $$playbook >/dev/null \
	    || { echo "syntax-check failed: $$playbook" >&2; exit 1; }; \
	done
	$(BIN)/pytest -q $(ANSIBLE_TESTS)/test_ansible_argument_specs.py $(PYTEST_ARGS)

test-ansible: venv system-deps testbed-binaries ## Ansible tests: rendering, inventory checks, argument specs, and the real-host play (root)
	$(BIN)/pytest $(ANSIBLE_TESTS) $(PYTEST_ARGS)

LINT_TARGETS += lint-ansible
TEST_PATHS += $(ANSIBLE_TESTS)
