"""The `tandem` command line: one module per command group, composed in cli/main.py."""
