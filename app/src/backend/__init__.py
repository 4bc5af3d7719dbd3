"""kubestead's sample backend service: a notes API with the endpoints of a good workload."""
