"""`python -m cli`: the same as the `intake` command."""

from cli.main import main

main()
