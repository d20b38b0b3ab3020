"""``--ports``, as summarize, parse and report take it."""

from __future__ import annotations

import argparse

from ovsflow.ports import PortTable, load


def add_ports_argument(parser: argparse.ArgumentParser, what: str) -> None:
    """``--ports PORTS.json``; ``what`` says what the table adds."""
    parser.add_argument(
        "--ports",
        metavar="PORTS.json",
        default=None,
        help=f"port table saved by 'ovsflow collect --ports': {what}",
    )


def ports_from_args(args: argparse.Namespace) -> PortTable | None:
    """The port table of ``--ports``, or None.

    Raises :class:`~ovsflow.errors.InputError` naming the file and the problem.
    """
    return load(args.ports) if args.ports else None


__all__ = ["add_ports_argument", "ports_from_args"]
