"""A real single-node Kubernetes cluster on this machine, built from source, for e2e tests.

`python -m e2e.localcluster up|down|status|build` — see e2e/README.md.
"""
