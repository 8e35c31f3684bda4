"""`python -m dosewise.cli`."""

from dosewise.cli.app import main

main()
