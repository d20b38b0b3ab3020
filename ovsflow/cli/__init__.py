"""The ``ovsflow`` command line: one subcommand per task, library calls only.

Each subcommand lives in its own module with a ``register(subparsers)``
function that adds its parser and sets ``func`` to a callable taking the parsed
arguments and returning the exit status.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from ovsflow._version import package_version
from ovsflow.errors import OvsflowError

# Modules that provide subcommands, in the order ``--help`` lists them.
_SUBCOMMANDS = (
    "ovsflow.cli.summarize",
    "ovsflow.cli.explain",
    "ovsflow.cli.parse",
    "ovsflow.cli.diff",
    "ovsflow.cli.report",
    "ovsflow.cli.collect",
    "ovsflow.cli.vf",
    "ovsflow.cli.manifest",
)


def build_parser() -> argparse.ArgumentParser:
    """The top-level argument parser with every subcommand registered."""
    import importlib

    parser = argparse.ArgumentParser(
        prog="ovsflow",
        description="Read Open vSwitch datapath flow dumps and measure offload.",
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="only errors")
    from ovsflow.parse import is_compiled

    kind = "compiled fast path" if is_compiled() else "pure Python"
    version = f"ovsflow {package_version()} ({kind})"
    parser.add_argument("--version", action="version", version=version)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in _SUBCOMMANDS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # a subcommand not built yet
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from ovsflow.cli._common import set_quiet  # loaded with the subcommands

    set_quiet(args.quiet)
    level = logging.ERROR if args.quiet else logging.WARNING - 10 * args.verbose
    logging.basicConfig(level=level, format="ovsflow: %(levelname)s: %(message)s")
    try:
        status: int = args.func(args)
    except OvsflowError as exc:
        print(f"ovsflow: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (``ovsflow parse ... | head -1``): exit quietly.
        _silence_stdout()
        return 0
    except KeyboardInterrupt:
        return 130
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
    return status


def _silence_stdout() -> None:
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
