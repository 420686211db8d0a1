"""`python -m sync`: the same as the `pergai-sync` command."""

from sync.cli import main

main()
