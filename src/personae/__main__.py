"""`python -m personae` runs the CLI."""

from personae.cli import main

main()
