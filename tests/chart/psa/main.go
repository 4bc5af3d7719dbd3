// Command psa-check evaluates every pod template in rendered manifests with the
// Pod Security Admission library of Kubernetes 1.30 at the "restricted" level:
// the same checks the API server runs in a namespace labelled
// pod-security.kubernetes.io/enforce: restricted.
//
// Usage: psa-check FILE...   (multi-document YAML, e.g. `helm template` output)
// Prints one JSON line per pod-bearing object; exits 1 if any would be refused.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
	"sigs.k8s.io/yaml"
)

type result struct {
	Object  string   `json:"object"`
	Allowed bool     `json:"allowed"`
	Reasons []string `json:"reasons,omitempty"`
	Details []string `json:"details,omitempty"`
}

var separator = regexp.MustCompile(`(?m)^---\s*$`)

// podOf returns the pod metadata and spec of the kinds the chart renders.
func podOf(kind string, doc []byte) (string, *metav1.ObjectMeta, *corev1.PodSpec, error) {
	switch kind {
	case "Pod":
		var o corev1.Pod
		err := yaml.Unmarshal(doc, &o)
		return o.Name, &o.ObjectMeta, &o.Spec, err
	case "Deployment":
		var o appsv1.Deployment
		err := yaml.Unmarshal(doc, &o)
		return o.Name, &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec, err
	case "StatefulSet":
		var o appsv1.StatefulSet
		err := yaml.Unmarshal(doc, &o)
		return o.Name, &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec, err
	case "DaemonSet":
		var o appsv1.DaemonSet
		err := yaml.Unmarshal(doc, &o)
		return o.Name, &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec, err
	case "Job":
		var o batchv1.Job
		err := yaml.Unmarshal(doc, &o)
		return o.Name, &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec, err
	case "CronJob":
		var o batchv1.CronJob
		err := yaml.Unmarshal(doc, &o)
		t := &o.Spec.JobTemplate.Spec.Template
		return o.Name, &t.ObjectMeta, &t.Spec, err
	}
	return "", nil, nil, nil
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: psa-check FILE...")
		os.Exit(2)
	}
	evaluator, err := policy.NewEvaluator(policy.DefaultChecks())
	if err != nil {
		fmt.Fprintln(os.Stderr, "psa-check:", err)
		os.Exit(2)
	}
	level := api.LevelVersion{Level: api.LevelRestricted, Version: api.MajorMinorVersion(1, 30)}
	refused := false
	out := json.NewEncoder(os.Stdout)
	for _, file := range os.Args[1:] {
		data, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintln(os.Stderr, "psa-check:", err)
			os.Exit(2)
		}
		for _, doc := range separator.Split(string(data), -1) {
			raw := []byte(doc)
			if len(bytes.TrimSpace(raw)) == 0 {
				continue
			}
			var head metav1.TypeMeta
			if err := yaml.Unmarshal(raw, &head); err != nil {
				fmt.Fprintf(os.Stderr, "psa-check: %s: %v\n", file, err)
				os.Exit(2)
			}
			name, meta, spec, err := podOf(head.Kind, raw)
			if err != nil {
				fmt.Fprintf(os.Stderr, "psa-check: %s: %s %s: %v\n", file, head.Kind, name, err)
				os.Exit(2)
			}
			if spec == nil {
				continue
			}
			agg := policy.AggregateCheckResults(evaluator.EvaluatePod(level, meta, spec))
			refused = refused || !agg.Allowed
			_ = out.Encode(result{
				Object:  head.Kind + "/" + name,
				Allowed: agg.Allowed,
				Reasons: agg.ForbiddenReasons,
				Details: agg.ForbiddenDetails,
			})
		}
	}
	if refused {
		os.Exit(1)
	}
}
