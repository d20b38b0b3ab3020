"""``--scheduler ADDRESS``: read the dumps on an existing Dask cluster.

Shared by ``summarize`` and ``parse``.  Dask is an optional extra; without it
``--scheduler`` fails with one line naming the extra.
"""

from __future__ import annotations

import argparse
import sys
from types import ModuleType
from typing import TYPE_CHECKING

from ovsflow.cli._common import all_empty, report_empty, report_notes
from ovsflow.dump import Skipped
from ovsflow.errors import InputError, OvsflowError

if TYPE_CHECKING:
    from ovsflow.dask import Report


def add_scheduler_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="read the dumps on the Dask cluster whose scheduler is at ADDRESS "
        "(tcp://host:8786); FILEs are paths or fsspec URLs the workers can open "
        "(needs pip install 'ovsflow[dask]')",
    )


def cluster_module(names: list[str], live: bool = False) -> ModuleType:
    """:mod:`ovsflow.dask`, once the inputs are known to suit a cluster."""
    if live or "-" in names:
        raise InputError(
            "--scheduler reads dump files the workers can open, "
            "not standard input or --live"
        )
    try:
        import ovsflow.dask
    except ImportError as exc:
        raise OvsflowError(str(exc)) from None
    return ovsflow.dask


def finish(reports: list[Report], skipped: list[tuple[str, Skipped]]) -> None:
    """What the CLI's reader does at the end of each dump: list its notes,
    note empty ones (refuse them when all are), and keep its skipped lines."""
    empty = [r.source for r in reports if r.lines == 0]
    if reports and len(empty) == len(reports):
        raise all_empty(empty)
    report_empty(empty, sys.stderr)
    for report in reports:
        report_notes(report.source, report.notes, report.joined, sys.stderr)
        skipped.extend((report.source, s) for s in report.skipped)


__all__ = ["add_scheduler_argument", "cluster_module", "finish"]
