"""The upstream Kubernetes conformance suite (the tested release's e2e.test), built, run offline.

    python -m testbed.conformance build            # e2e.test, ginkgo, the test images (cached)
    python -m testbed.conformance run [--subset ci] [--focus RE] [--report-dir DIR]

`build` makes the suite's programs from source (build.py, through testbed/go/e2e) and the
images its [Conformance] specs pull (images.py), as the offline bundle makes its own. `run`
pushes those images to the registry of the cluster `make up` left running, under their
upstream names (on_cluster.py), runs the selection (run.py) and prints the JUnit report's
counts and every failed or skipped spec with its reason (report.py).
"""
