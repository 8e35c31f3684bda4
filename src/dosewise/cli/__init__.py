"""The command-line interface (argparse): thin commands, Rich tables, errors mapped to exit codes.

``cli.app`` is the composition root; ``cli.plans``, ``cli.safety``, ``cli.diary`` and
``cli.simulate`` each add their own subcommands; none of them imports ``cli.app``.
"""
