"""Pieces shared by the subcommands: reading inputs, reporting skipped lines."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator, Sequence
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


def add_l2_bytes_argument(parser: argparse.ArgumentParser) -> None:
    """``--l2-bytes``, as every subcommand that counts bytes takes it."""
    parser.add_argument(
        "--l2-bytes",
        action="store_true",
        help="add the 14-byte Ethernet header TC leaves out to each packet of "
        "dp:tc flows, so that bytes compare across datapaths",
    )


def whole_number(minimum: int) -> Callable[[str], int]:
    """An argparse type: a whole number at least ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(
                f"expected a whole number >= {minimum}, got {text!r}"
            )
        return value

    return parse


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


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and the noun, singular for one: "1 line", "2 lines".

    >>> count(1, "line"), count(3, "flow"), count(2, "entry", "entries")
    ('1 line', '3 flows', '2 entries')
    """
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


class _Output:
    """What the top-level options say about messages on stderr."""

    #: ``-q``: no list of skipped lines or notes, only the count skipped.
    quiet = False


def set_quiet(quiet: bool) -> None:
    """Follow ``-q`` (``ovsflow.cli.main`` calls this for every command line)."""
    _Output.quiet = quiet


class _Inputs:
    """The inputs of one command line, to tell an empty one from all empty.

    An empty dump is what OVS prints when there is nothing to dump (``type=
    offloaded`` with nothing offloaded), so one empty input among others is
    a note.  When every input is empty it is an error: then it is far more
    often a failed copy or a dump that never ran than an idle datapath.
    """

    def __init__(self, total: int) -> None:
        self.total = total
        self.read = 0
        self.empty: list[str] = []
        self.any_lines = False

    def done(self, name: str, lines: int) -> None:
        """One input was read to its end: note or refuse it when empty."""
        self.read += 1
        if lines:
            self.any_lines = True
            report_empty(self.empty, sys.stderr)  # those held back until now
            self.empty = []
            return
        self.empty.append(name)
        if self.any_lines:
            report_empty(self.empty, sys.stderr)
            self.empty = []
        elif self.read >= self.total:
            raise all_empty(self.empty)


def all_empty(names: Sequence[str]) -> InputError:
    """The error for inputs that are all empty."""
    if len(names) == 1:
        return InputError(
            f"{names[0]}: empty, not a single line to read "
            "(did the dump command print nothing?)"
        )
    return InputError(
        f"{', '.join(names)}: every input is empty, not a single line to read "
        "(did the dump commands print nothing?)"
    )


def report_empty(names: Sequence[str], stream: IO[str]) -> None:
    """Say which inputs were empty (there were others): they gave no flows."""
    if not _Output.quiet:
        for name in names:
            print(f"ovsflow: note {name}: empty, no flows", file=stream)


class CliReader(DumpReader):
    """A DumpReader for the command line.

    Read to its end, it lists its notes (joined lines, replaced bytes) on
    stderr, and it reports an input with no lines at all: a note when other
    inputs of the command have lines, an error when none has (see
    :class:`_Inputs`).  Made alone, it is the only input.
    """

    inputs: _Inputs | None = None

    def __iter__(self) -> Iterator[Flow]:
        yield from super().__iter__()
        report_notes(str(self.name), self.notes, self.joined, sys.stderr)
        inputs = self.inputs if self.inputs is not None else _Inputs(1)
        inputs.done(str(self.name), self.lines)


def readers(names: list[str], strict: bool) -> Iterator[tuple[str, DumpReader]]:
    """(name, reader) for each input name, '-' being standard input."""
    inputs = _Inputs(len(names))
    for name in names:
        if name == "-":
            reader = CliReader(sys.stdin.buffer, on_error(strict), "<stdin>")
            name = "<stdin>"
        else:
            reader = CliReader(Path(name), on_error(strict), name)
        reader.inputs = inputs
        yield name, reader


def report_notes(
    source: str, notes: Sequence[Note], joined: int, stream: IO[str]
) -> None:
    """List what the reader did to lines that gave flows, capped, with counts."""
    if _Output.quiet:
        return
    for note in notes[:SKIPPED_SHOWN]:
        print(f"ovsflow: note {source}: {note}", file=stream)
    more = len(notes) - SKIPPED_SHOWN
    if more > 0:
        print(f"ovsflow: ... and {count(more, 'more note')}", file=stream)
    if joined:
        print(
            f"ovsflow: {count(joined, 'wrapped line')} joined back in {source}",
            file=stream,
        )


def report_skipped(skipped: Sequence[tuple[str, object]], stream: IO[str]) -> None:
    """List skipped lines on stderr, capped, with their count (only the count
    with ``-q``)."""
    if not skipped:
        return
    if not _Output.quiet:
        for source, item in skipped[:SKIPPED_SHOWN]:
            print(f"ovsflow: skipped {source}: {item}", file=stream)
        more = len(skipped) - SKIPPED_SHOWN
        if more > 0:
            print(f"ovsflow: ... and {count(more, 'more skipped line')}", file=stream)
    print(f"ovsflow: {count(len(skipped), 'line')} skipped in all", file=stream)
