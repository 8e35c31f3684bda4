"""The command-line interface (Typer): thin commands, Rich tables, errors mapped to exit codes."""
