"""``python -m dosewise``."""

from dosewise.cli.app import main

main()
