"""The `intake` command line: one module per command group (cli/main.py puts them together)."""
