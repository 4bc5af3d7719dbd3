# Rego mirrors of the Kyverno ClusterPolicies in gitops/platform/kyverno/manifests, for conftest
# (docs/adr/0019: the kyverno CLI needs a wrapper-module build too heavy for this machine).
# Every rule reads its parameters (namespaces left out, allowed registries, signed images)
# from data.kyverno, which tests/gitops/test_gitops_policies.py extracts from the Kyverno YAML
# itself, so the two cannot drift apart silently. Each deny message starts with the Kyverno
# policy's name.
package main

import rego.v1

pod_specs contains spec if {
	input.kind == "Pod"
	spec := input.spec
}

pod_specs contains spec if {
	input.kind in {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}
	spec := input.spec.template.spec
}

pod_specs contains spec if {
	input.kind == "CronJob"
	spec := input.spec.jobTemplate.spec.template.spec
}

# Kyverno's `spec.[ephemeralContainers, initContainers, containers][]`.
all_containers contains c if {
	some spec in pod_specs
	some field in ["ephemeralContainers", "initContainers", "containers"]
	some c in object.get(spec, field, [])
}

# The containers the requests/limits pattern covers (not ephemeral ones).
workload_containers contains c if {
	some spec in pod_specs
	some field in ["initContainers", "containers"]
	some c in object.get(spec, field, [])
}

namespace := object.get(input.metadata, "namespace", "default")

applies(policy) if not namespace in data.kyverno[policy].excluded_namespaces

# Kyverno's wildcard: `*` matches any run of characters, `/` and `.` included (no delimiters:
# OPA reads an empty list as ["."]).
wildcard(pattern, value) if glob.match(pattern, null, value)

deny contains msg if {
	applies("restrict-image-registries")
	some c in all_containers
	not allowed_registry(c.image)
	msg := sprintf("restrict-image-registries: %s: image %s is from a registry not allowed", [c.name, c.image])
}

allowed_registry(image) if {
	some pattern in data.kyverno["restrict-image-registries"].images
	wildcard(pattern, image)
}

deny contains msg if {
	applies("require-digest-or-signature")
	some c in all_containers
	not signed_by_us(c.image)
	not contains(c.image, "@sha256:")
	msg := sprintf("require-digest-or-signature: %s: image %s is neither signed by us nor named by digest", [c.name, c.image])
}

signed_by_us(image) if {
	some pattern in data.kyverno["require-digest-or-signature"].signed_images
	wildcard(pattern, image)
}

deny contains msg if {
	applies("disallow-latest-tag")
	some c in all_containers
	not tagged_or_digest(c.image)
	msg := sprintf("disallow-latest-tag: %s: image %s has neither a tag nor a digest", [c.name, c.image])
}

deny contains msg if {
	applies("disallow-latest-tag")
	some c in all_containers
	wildcard("*:latest", c.image)
	msg := sprintf("disallow-latest-tag: %s: image %s uses the latest tag", [c.name, c.image])
}

tagged_or_digest(image) if wildcard("*:*", image)

tagged_or_digest(image) if wildcard("*@*", image)

deny contains msg if {
	applies("require-requests-limits")
	some c in workload_containers
	some path in [["requests", "cpu"], ["requests", "memory"], ["limits", "memory"]]
	not set_at(object.get(c, "resources", {}), path)
	msg := sprintf("require-requests-limits: %s: resources.%s.%s is not set", [c.name, path[0], path[1]])
}

set_at(resources, path) if {
	value := object.get(resources, path, "")
	value != ""
}

deny contains msg if {
	applies("disallow-privileged-containers")
	some c in all_containers
	object.get(c, ["securityContext", "privileged"], false) == true
	msg := sprintf("disallow-privileged-containers: %s: privileged in namespace %s", [c.name, namespace])
}
