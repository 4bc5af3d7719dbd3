"""`python -m kubestead` is the same as the `kubestead` command."""

from kubestead.cli import main

main()
