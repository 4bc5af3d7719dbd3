"""kubestead: one validated cluster.yaml, applied to machines by Ansible."""

__version__ = "0.1.0"
