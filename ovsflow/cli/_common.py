"""Pieces shared by the subcommands: reading inputs, reporting skipped lines."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

from ovsflow import samples
from ovsflow.dump import DumpReader, Note, OnError
from ovsflow.errors import InputError
from ovsflow.records import Flow

#: How many skipped lines are listed on stderr before the rest are counted.
SKIPPED_SHOWN = 20


def add_input_arguments(parser: argparse.ArgumentParser) -> None:
    """FILE..., --sample and --strict, as every reading subcommand takes them."""
    parser.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="dump files (plain or .gz); '-' or none reads standard input",
    )
    parser.add_argument(
        "--sample",
        action="append",
        default=[],
        metavar="NAME",
        help=f"read a bundled sample dump ({', '.join(samples.names())})",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="stop with an error (exit status 2) at the first line that is not a flow",
    )


def input_names(args: argparse.Namespace, stdin_if_none: bool = True) -> list[str]:
    """The inputs named on the command line, samples resolved to paths.

    With none named, standard input ("-"), unless ``stdin_if_none`` is false.
    """
    names = list(args.files)
    for sample in args.sample:
        try:
            names.append(str(samples.path(sample)))
        except ValueError as exc:
            raise InputError(str(exc)) from None
    return names or (["-"] if stdin_if_none else [])


def on_error(strict: bool) -> OnError:
    """What a reader does with a bad line: ``--strict`` stops, else it skips."""
    return "raise" if strict else "skip"


class CliReader(DumpReader):
    """A DumpReader for the command line.

    Read to its end, it lists its notes (joined lines, replaced bytes) on
    stderr, and it refuses an input with no lines at all: an empty file is
    far more often a failed copy or a dump that never ran than an idle
    datapath.
    """

    def __iter__(self) -> Iterator[Flow]:
        yield from super().__iter__()
        report_notes(str(self.name), self.notes, self.joined, sys.stderr)
        if self.lines == 0:
            raise InputError(
                f"{self.name}: empty, not a single line to read "
                "(did the dump command print nothing?)"
            )


def readers(names: list[str], strict: bool) -> Iterator[tuple[str, DumpReader]]:
    """(name, reader) for each input name, '-' being standard input."""
    for name in names:
        if name == "-":
            yield "<stdin>", CliReader(sys.stdin.buffer, on_error(strict), "<stdin>")
        else:
            yield name, CliReader(Path(name), on_error(strict), name)


def report_notes(
    source: str, notes: Sequence[Note], joined: int, stream: IO[str]
) -> None:
    """List what the reader did to lines that gave flows, capped, with counts."""
    for note in notes[:SKIPPED_SHOWN]:
        print(f"ovsflow: note {source}: {note}", file=stream)
    more = len(notes) - SKIPPED_SHOWN
    if more > 0:
        print(f"ovsflow: ... and {more} more notes", file=stream)
    if joined:
        print(f"ovsflow: {joined} wrapped lines joined back in {source}", file=stream)


def report_skipped(skipped: Sequence[tuple[str, object]], stream: IO[str]) -> None:
    """List skipped lines on stderr, capped, with their count."""
    if not skipped:
        return
    for source, item in skipped[:SKIPPED_SHOWN]:
        print(f"ovsflow: skipped {source}: {item}", file=stream)
    more = len(skipped) - SKIPPED_SHOWN
    if more > 0:
        print(f"ovsflow: ... and {more} more skipped lines", file=stream)
    print(f"ovsflow: {len(skipped)} lines skipped in all", file=stream)
