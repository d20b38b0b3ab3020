"""Reading whole dumps: files, gzip files, streams and strings.

A dump is what ``ovs-appctl dpctl/dump-flows`` printed, possibly with the
header lines ``ovsflow collect`` adds, section headers of a userspace
datapath (``flow-dump from pmd on cpu core: 3``), and the odd log line that
``ovs-appctl`` mixed in.  :class:`DumpReader` streams flows from it and keeps
what it did not turn into a flow, so that nothing is lost silently.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, AnyStr, Literal, NamedTuple, Union

from ovsflow.errors import InputError, ParseError
from ovsflow.limits import MAX_LINE_LENGTH
from ovsflow.parse import parse_flow
from ovsflow.records import Flow

Source = Union[str, "os.PathLike[str]", IO[str], IO[bytes], Iterable[str]]
OnError = Literal["raise", "skip"]

#: Most rows a line wrapped by a terminal is joined back from: a 1,000-
#: character flow on a 40-column terminal takes 25.  A line of more rows is
#: reported as cut off, its further rows as pieces without a start.
MAX_WRAPPED_PIECES = 256

# What OVS and the tools around it print that is not a flow: vlog lines
# (lib/vlog.c, "%D{...}|%05N|%c|%p|%m"), an ovs-appctl/ovs-dpctl error
# ("ovs-appctl: cannot connect to ..."), kubectl exec chatter, bare warnings.
_NOT_A_FLOW = [
    (
        re.compile(
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z?\|\d+\|[\w-]+\|"
            r"(?:EMER|ERR|WARN|INFO|DBG)\|"
        ),
        "not a flow: an OVS log line",
    ),
    (
        re.compile(r"ovs-(?:appctl|dpctl|vsctl|ofctl|vswitchd)(?:\[\d+\])?: "),
        "not a flow: a message from an OVS tool",
    ),
    (
        re.compile(r"(?:Defaulted container |command terminated with exit code )"),
        "not a flow: a message from kubectl",
    ),
    (
        re.compile(r"(?:WARN(?:ING)?|ERR(?:OR)?|Warning|Error)\b\s*[:|!]", re.ASCII),
        "not a flow: a warning or error message",
    ),
]
_OPENFLOW = re.compile(r"^\s*(?:cookie=0x[0-9a-f]+, )?duration=[0-9.]+s, table=")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_NOT_FLOW_START = ("flow-dump from ", "#")
_ELIDED = re.compile(r"\.\.\.|\u2026")  # "..." or the ellipsis character

# How a flow line starts: "ufid:" (-m), "<empty>" (no key at all), or one of
# the keys OVS can print first.  The key comes out in the order the datapath
# put its attributes in (odp_flow_key_from_flow__() in lib/odp-util.c, the
# kernel's ovs_nla_put_key() alike), and fully wildcarded ones are left out,
# so any key up to eth_type can lead.  A row that starts otherwise continues
# the line before it.
_FLOW_START = re.compile(
    r"ufid:|<empty>|(?:recirc_id|dp_hash|skb_priority|tunnel|in_port|skb_mark"
    r"|ct_state|ct_zone|ct_mark|ct_label|ct_tuple4|ct_tuple6|packet_type|eth"
    r"|eth_type)\("
)


@dataclass(frozen=True, slots=True)
class Skipped:
    """A line of a dump that gave no flow: its number, why, and its text."""

    line: int
    reason: str
    text: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Note:
    """Something the reader did to a line that gave a flow (a join, replaced bytes)."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class _Piece(NamedTuple):
    """One row of a flow line as read (maybe the whole line): kept as it is
    but for its line end and colours, since a terminal keeps every character
    of a line it wraps, spaces included."""

    line: int
    row: str
    start: bool  # it begins the way a flow line does


# One line as read: its text (cut when over-long); the length of the whole
# line without its line end when that is over MAX_LINE_LENGTH, else 0; and
# whether bytes that are not UTF-8 became U+FFFD.  A plain tuple: a
# NamedTuple costs a Python call per line.
_Raw = tuple[str, int, bool]


@dataclass
class DumpReader:
    """Streams the flows of one dump; keeps what was not a flow.

    Iterate it for flows.  ``on_error="raise"`` stops at the first line that
    is not a flow with a :class:`~ovsflow.ParseError`; ``"skip"`` records the
    line in ``skipped`` and goes on.  Log lines of OVS and of the tools around
    it are "not a flow" (an error in raise mode, a skip otherwise).  A line
    wrapped by a terminal is joined back: a flow takes every following row
    that does not start a flow (``ufid:``, a first key), and rows as wide as
    a terminal are joined as they are; when that is ambiguous the rows are
    reported, never guessed.  Each join is listed in ``notes`` (``joined``
    counts them), as are lines whose bytes were not UTF-8.  A line longer
    than ``MAX_LINE_LENGTH`` is not kept in memory: it is skipped (or
    raised) with its length.  After (or during)
    iteration, ``meta`` holds the ``# ovsflow-meta:`` headers and ``sections``
    the dump headers seen.
    """

    source: Source
    on_error: OnError = "raise"
    name: str | None = None
    skipped: list[Skipped] = field(default_factory=list)
    meta: list[dict[str, object]] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    flows: int = 0
    lines: int = 0
    joined: int = 0
    #: Where this part of a dump starts (ovsflow.parallel reads a dump in
    #: pieces): the number of its first line and the section it is in.
    first_line: int = 1
    first_section: str | None = None
    # The last parse of pending rows: (first line, rows) and its outcome.
    _tried: tuple[tuple[int, int], Flow | ParseError] | None = field(
        default=None, repr=False, compare=False
    )
    # The rows of an ovsflow-meta header that is not JSON yet.
    _header: list[_Piece] = field(default_factory=list, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.on_error not in ("raise", "skip"):
            raise ValueError(
                f"on_error must be 'raise' or 'skip', not {self.on_error!r}"
            )
        if self.name is None:
            self.name = _source_name(self.source)

    def __iter__(self) -> Iterator[Flow]:
        """Flows, in order; see the class docstring for everything else.

        1. Clean the line (byte order mark, line end, colours).
        2. Lines that are not flows: too long, NUL bytes, elided, log lines,
           headers, comments.  They also end the wrapped line in progress.
           A ``# ovsflow-meta:`` header that is no JSON yet takes the rows
           after it as a flow does (:meth:`_header_goes_on`).
        3. A line that starts a flow ends the one in progress, unless it may
           be a row of it (see :meth:`_goes_on`); any other line is a row of
           the one in progress.  The rows of a flow wait in ``pending`` until
           the next start decides, then :meth:`_resolve` makes them a flow.
        """
        section = self.first_section
        pending: list[_Piece] = []
        self._tried = None
        number = self.first_line - 1
        for line, over, replaced in _lines(self.source, self.name):
            number += 1
            self.lines = number

            # 1.
            row = line.rstrip("\r\n")
            if number == 1:
                row = row.lstrip("\ufeff")
            if "\x1b" in row:
                row = _ANSI.sub("", row)  # ovs-appctl --color output
            text = row.strip()
            start = _FLOW_START.match(text) is not None

            # 2.  Fast lane: a line that starts as a flow does is neither
            # blank, nor a header, nor a comment, and no pattern of
            # _NOT_A_FLOW or _OPENFLOW matches at its start: of the checks of
            # _not_a_flow, only these can find something in it.
            if not (
                start
                and not over
                and "\x00" not in text
                and "..." not in text
                and "\u2026" not in text
            ):
                problem = self._not_a_flow(number, over, text)
                if problem is not None or not text or text.startswith(_NOT_FLOW_START):
                    yield from self._resolve(pending, section)
                    pending.clear()
                    self._end_header()
                if problem is not None:
                    self._bad(problem)
                    continue
                if not text:
                    continue
                if text.startswith("flow-dump from "):
                    section = _section(text)
                    self.sections.append(section)
                    continue
                if text.startswith("#"):
                    self._comment(number, row, text)
                    continue
            if replaced:
                self._note(number, "bytes that are not UTF-8 were read as U+FFFD")

            # 3.
            piece = _Piece(number, row, start)
            if self._header:
                if self._header_goes_on(piece):
                    continue
                self._end_header()
            if pending and not self._goes_on(pending, piece, section):
                if len(pending) == 1:
                    # Fast lane: a flow of one row, most flows; no generator.
                    flow = self._one_row(pending, section)
                    if flow is not None:
                        yield flow
                else:
                    yield from self._resolve(pending, section)
                pending.clear()
            if pending or start:
                pending.append(piece)
            else:
                self._orphan(piece, section)
        yield from self._resolve(pending, section)
        self._end_header()

    def _goes_on(
        self, pending: list[_Piece], piece: _Piece, section: str | None
    ) -> bool:
        """Whether ``piece`` is one more row of the flow in ``pending``.

        A row that does not start a flow always is.  One that does (a row of
        a wrapped line may begin with ``in_port(``) is only when the rows so
        far are all as wide as a terminal, this one is no wider, and the rows
        so far do not already make a whole flow.
        """
        one = len(pending) == 1  # most flows: no sums over the rows
        size = len(pending[0].row) if one else sum(len(p.row) for p in pending)
        if (
            len(pending) >= MAX_WRAPPED_PIECES
            or size + len(piece.row) > MAX_LINE_LENGTH
        ):
            return False
        if not piece.start:
            return True
        width = len(pending[0].row)
        if len(piece.row) > width or size > _TRY_TEXT:
            return False  # the size bounds the parses below (hostile input)
        if not one and (
            any(len(p.row) != width for p in pending)
            or sum(p.start for p in pending) > _TRY_STARTS
        ):
            return False
        tail, head = pending[-1].row[-1:], piece.row[:1]
        if _WORD.match(tail) and _WORD.match(head):
            # A word cut in two: only "push_" + "eth(" makes one OVS prints,
            # "ct_la" + "in_port(" is a line cut off and a new line.
            return pending[-1].row.endswith("push_") and piece.row.startswith("eth(")
        return not _complete(self._parse(pending, section))

    def _parse(
        self, pieces: Sequence[_Piece], section: str | None
    ) -> Flow | ParseError:
        """The flow of the pieces joined, or why not; the last answer is kept."""
        first = pieces[0]
        key = (first.line, len(pieces))
        tried = self._tried
        if tried is not None and tried[0] == key:
            return tried[1]
        # A ParseError kept below holds this frame (its traceback, and the
        # frames its cause's traceback reaches through f_back): the answer
        # before it must not be among the frame's locals, or every failed
        # line would keep the one before alive.
        del tried
        rows = first.row if len(pieces) == 1 else "".join(p.row for p in pieces)
        text = rows.strip()
        result: Flow | ParseError
        try:
            result = parse_flow(text, line=first.line, section=section)
        except ParseError as exc:
            exc.line, exc.source = first.line, self.name
            result = exc
        else:
            if result.dp_extra_info is not None:
                cut = _cut_trailer(result, text)
                if cut is not None:
                    result = cut
        self._tried = (key, result)
        return result

    def _one_row(self, pieces: list[_Piece], section: str | None) -> Flow | None:
        """The flow of one piece (``_resolve`` of one piece, not a generator)."""
        result = self._parse(pieces, section)
        if isinstance(result, ParseError):
            self._bad(_with_cut_hint(result))
            return None
        self.flows += 1
        return result

    def _resolve(self, pieces: list[_Piece], section: str | None) -> Iterator[Flow]:
        """The flow the pieces of one (maybe wrapped) line make, or its report.

        - One piece: it parses, or its error is reported.
        - Rows all as wide as the first and a last one no wider: a terminal
          wrapped the line and kept every character, so the rows are joined
          as they are and must parse.
        - Rows of uneven width: joined too when only the whole parses, with a
          note; when the first row alone is a flow as well, it is ambiguous.
        - When the joined rows fail: a row that starts a flow but was taken
          as a row of this one splits them when they fail from that row on;
          a first row that is a flow alone, or rows of uneven width, are
          read each for itself; rows as wide as a terminal are reported
          together, at the row and column where their joined text failed.
        """
        if not pieces:
            return
        if len(pieces) == 1:
            flow = self._one_row(pieces, section)
            if flow is not None:
                yield flow
            return
        result = self._parse(pieces, section)

        first, last = pieces[0].line, pieces[-1].line
        width = len(pieces[0].row)
        even = all(len(p.row) == width for p in pieces[:-1])
        even = even and len(pieces[-1].row) <= width
        starts = [i for i, p in enumerate(pieces) if p.start and i > 0]
        if isinstance(result, Flow) and starts and _repeats_a_key(result):
            # Rows of two lines, the first cut off after a ",": no flow has
            # a key twice.
            yield from self._resolve(pieces[: starts[0]], section)
            yield from self._resolve(pieces[starts[0] :], section)
            return
        if isinstance(result, Flow):
            if even:
                how = f"a line wrapped by a terminal at {width} columns"
            elif not isinstance(self._parse(pieces[:1], section), Flow):
                how = "rows of uneven width: check that they belong together"
            else:
                self._ambiguous(pieces)
                return
            self.joined += 1
            self._note(first, f"lines {first}-{last} joined into one flow ({how})")
            self.flows += 1
            yield result
            return

        if starts:
            split = starts[0]
            if result.column > len("".join(p.row for p in pieces[:split]).strip()):
                yield from self._resolve(pieces[:split], section)
                yield from self._resolve(pieces[split:], section)
                return
        if not even or isinstance(self._parse(pieces[:1], section), Flow):
            # Not rows of one terminal line, or a whole flow followed by rows
            # that do not go with it: each for itself.
            yield from self._resolve(pieces[:1], section)
            yield from self._regroup(pieces[1:], section)
            return
        self._wrapped_error(pieces, result)

    def _regroup(self, pieces: list[_Piece], section: str | None) -> Iterator[Flow]:
        """Rows that turned out not to continue the line before: a row that
        starts a flow begins a new line, the rows before any are orphans."""
        group: list[_Piece] = []
        for piece in pieces:
            if piece.start:
                yield from self._resolve(group, section)
                group = [piece]
            elif group:
                group.append(piece)
            else:
                self._orphan(piece, section)
        yield from self._resolve(group, section)

    def _orphan(self, piece: _Piece, section: str | None) -> None:
        """Report a row that neither starts a flow nor continues one."""
        hint = (
            "does not start with ufid:, <empty> or a first match key "
            "(recirc_id(, in_port(, ...): a row of a wrapped line whose start is "
            "missing?"
        )
        result = self._parse([piece], section)
        if isinstance(result, ParseError):
            result.message += f" (this line {hint})"
            self._bad(result)
        else:
            self._bad(
                self._error(f"not a flow: it {hint}", piece.row.strip(), piece.line)
            )

    def _ambiguous(self, pieces: list[_Piece]) -> None:
        first, last = pieces[0].line, pieces[-1].line
        self._bad(
            self._error(
                f"ambiguous: line {first} is a flow alone and lines {first}-{last} "
                "joined are one too, and their uneven widths do not tell which",
                pieces[0].row.strip(),
                first,
            )
        )
        for piece in pieces[1:]:
            self._bad(self._part_of(piece, first, last))

    def _wrapped_error(self, pieces: list[_Piece], exc: ParseError) -> None:
        """Report rows joined as a terminal wraps that make no flow.

        The error is put on the row and column where the joined text failed.
        """
        first, last = pieces[0].line, pieces[-1].line
        lead = len(pieces[0].row) - len(pieces[0].row.lstrip())
        offset = exc.column - 1 + lead  # in the rows as read
        at = len(pieces) - 1
        for i, piece in enumerate(pieces):
            if offset < len(piece.row):
                at = i
                break
            offset -= len(piece.row)
        where = pieces[at]
        exc = _with_cut_hint(exc)
        exc.message += (
            f" (lines {first}-{last} read as one line wrapped at "
            f"{len(pieces[0].row)} columns)"
        )
        exc.text, exc.line = where.row, where.line
        exc.column = min(offset, len(where.row)) + 1
        if self.on_error == "raise":
            raise exc
        for i, piece in enumerate(pieces):
            self._bad(exc if i == at else self._part_of(piece, first, last))

    def _part_of(self, piece: _Piece, first: int, last: int) -> ParseError:
        return self._error(
            f"not a flow: part of lines {first}-{last}, one wrapped line (see "
            "the line reported with them)",
            piece.row.strip(),
            piece.line,
        )

    def _not_a_flow(self, number: int, over: int, text: str) -> ParseError | None:
        """The error for a line that cannot be (part of) a flow, else None.

        ``over`` is the length of a line over MAX_LINE_LENGTH, else 0.
        """
        if over:
            return self._error(
                f"line too long: {over} characters, the limit is "
                f"{MAX_LINE_LENGTH}; the rest of it was not read",
                text[:500],
                number,
                column=min(len(text), MAX_LINE_LENGTH) + 1,
            )
        if "\x00" in text:
            return self._error(
                "a NUL byte: binary data in a text dump",
                text,
                number,
                column=text.index("\x00") + 1,
            )
        for pattern, reason in _NOT_A_FLOW:
            if pattern.match(text):
                return self._error(reason, text, number)
        if _OPENFLOW.match(text):
            return self._error(
                "this is OpenFlow text from 'ovs-ofctl dump-flows'; ovsflow "
                "reads datapath flows from 'ovs-appctl dpctl/dump-flows'",
                text,
                number,
            )
        elided = _ELIDED.search(text)
        if elided is not None:
            return self._error(
                f"text left out ({elided.group()!r} in place of part of the "
                "line): the whole line is needed",
                text,
                number,
                column=elided.start() + 1,
            )
        return None

    def _error(self, message: str, text: str, line: int, column: int = 1) -> ParseError:
        return ParseError(
            message, text=text, line=line, column=column, source=self.name
        )

    def _bad(self, exc: ParseError) -> None:
        if self.on_error == "raise":
            raise exc
        reason = exc.message
        if not reason.startswith("not a flow"):
            reason += f" (column {exc.column})"
        self._skip(exc.line, reason, exc.text)

    def _comment(self, number: int, row: str, text: str) -> None:
        """Keep an ``# ovsflow-meta:`` header; a bad one may be wrapped."""
        body = text.lstrip("#").strip()
        if not body.startswith("ovsflow-meta:"):
            return  # an ordinary comment
        self._header = [_Piece(number, row, False)]
        self._header_done()

    def _header_goes_on(self, piece: _Piece) -> bool:
        """Whether ``piece`` is a row of the bad header before it (taken if so)."""
        rows = self._header
        width = len(rows[0].row)
        if piece.start or len(piece.row) > width or len(rows) >= MAX_WRAPPED_PIECES:
            return False
        if any(len(p.row) != width for p in rows):
            return False
        rows.append(piece)
        self._header_done()
        return True

    def _header_done(self) -> None:
        """Read the header rows so far; keep them when they are no JSON yet."""
        rows = self._header
        text = "".join(p.row for p in rows).strip()
        try:
            meta = _meta(text)
        except ValueError:
            return
        self.meta.append(meta)
        if len(rows) > 1:
            first, last = rows[0].line, rows[-1].line
            self.joined += 1
            self._note(
                first,
                f"lines {first}-{last} joined into one ovsflow-meta header "
                f"(a line wrapped by a terminal at {len(rows[0].row)} columns)",
            )
        self._header = []

    def _end_header(self) -> None:
        """Report the rows of a header that never became JSON."""
        rows, self._header = self._header, []
        if not rows:
            return
        text = "".join(p.row for p in rows).strip()
        reason = "bad ovsflow-meta header"
        try:
            _meta(text)
        except ValueError as exc:
            reason += f": {exc}"
        first, last = rows[0].line, rows[-1].line
        if len(rows) > 1:
            reason += f" (lines {first}-{last} read as one wrapped line)"
        self._skip(first, reason, text)
        for piece in rows[1:]:
            self._skip(
                piece.line,
                f"part of the bad ovsflow-meta header of lines {first}-{last}",
                piece.row.strip(),
            )

    def _skip(self, number: int, reason: str, text: str) -> None:
        self.skipped.append(Skipped(number, reason, text[:500]))

    def _note(self, number: int, message: str) -> None:
        self.notes.append(Note(number, message))


def _meta(text: str) -> dict[str, object]:
    """The JSON object of an ``# ovsflow-meta:`` header (ValueError if none)."""
    payload = text.lstrip("#").strip()[len("ovsflow-meta:") :].strip()
    meta = json.loads(payload)
    if not isinstance(meta, dict):
        raise ValueError("not a JSON object")
    return meta


def _at_end(exc: ParseError) -> bool:
    """True when the parser ran out of line: the line may go on elsewhere."""
    return exc.column > len(exc.text)


def _with_cut_hint(exc: ParseError) -> ParseError:
    if _at_end(exc) and "cut off" not in exc.message:
        exc.message += " (the line ends early: was it cut off?)"
    return exc


def _complete(result: Flow | ParseError) -> bool:
    return isinstance(result, Flow)


def _cut_trailer(flow: Flow, text: str) -> ParseError | None:
    """The error for a ``dp-extra-info:`` trailer cut short.

    The parser takes the trailer as free text to the end of the line, so
    ``dp-extra-info:miniflow_bits(4,1`` and ``dp-extra-info:m`` parse.  OVS
    prints only ``miniflow_bits(`` counts ``)`` there (lib/dpif-netdev.c),
    so the beginning of that, or open brackets at the end, mean the line
    was cut off.
    """
    extra = flow.dp_extra_info
    if extra is None:
        return None
    if extra[-1:] == ")" and extra.count("(") == extra.count(")"):
        return None  # whole, as most are: none of the tests below can hold
    if not (
        "miniflow_bits(".startswith(extra)
        or _MINIFLOW_CUT.fullmatch(extra)
        or extra.count("(") > extra.count(")")
    ):
        return None
    return ParseError(
        "expected the rest of the dp-extra-info trailer "
        "(miniflow_bits(...)), found the end of the line (the line ends "
        "early: was it cut off?)",
        text=text,
        line=flow.line or 1,
        column=len(text) + 1,
        expected="')'",
    )


_MINIFLOW_CUT = re.compile(r"miniflow_bits\([\d,]*")
_WORD = re.compile(r"\w")
# A row that starts a flow is tried as a row of the line before only while
# that line is shorter than this and has fewer such rows: each try parses
# the rows so far.  OVS flow lines run to a few thousand characters.
_TRY_TEXT = 1 << 14
_TRY_STARTS = 16


def _repeats_a_key(flow: Flow) -> bool:
    names = [key.name for key in flow.match.keys]
    return len(set(names)) != len(names)


def parse_dump(source: Source, on_error: OnError = "raise") -> DumpReader:
    """Stream the flows of a dump.

    ``source`` is the text of a dump (a ``str`` with a newline), a path
    (``str`` or path-like; ``.gz`` is decompressed), or a text or binary
    stream.  Memory does not grow with the dump: flows are yielded one by one.
    The result is a :class:`DumpReader`; iterate it, then look at its
    ``skipped`` lines when ``on_error="skip"``.

    >>> reader = parse_dump("in_port(1), packets:1, bytes:60, used:never, "
    ...                     "actions:drop\\nnot a flow\\n", on_error="skip")
    >>> [f.stats.packets for f in reader], [s.line for s in reader.skipped]
    ([1], [2])
    """
    return DumpReader(source, on_error)


def _source_name(source: Source) -> str:
    if isinstance(source, os.PathLike):
        return os.fspath(source)
    if isinstance(source, str):
        return "<string>" if _is_text(source) else source
    return str(getattr(source, "name", "<stream>"))


def _is_text(source: str) -> bool:
    """A str is dump text if it has a line break or a "(" (every key has one).

    Anything else is a path, so that a mistyped file name gives "no such
    file" rather than a parse error on the name.
    """
    return "\n" in source or "(" in source


def _lines(source: Source, name: str | None) -> Iterator[_Raw]:
    """The lines of any source.  Not a generator itself, so that each line
    passes through as few generators as can be (the reader calls this on
    its first step, so nothing happens earlier than it did)."""
    if isinstance(source, str) and _is_text(source):
        return _limited(io.StringIO(source).readline)
    if isinstance(source, (str, os.PathLike)):
        return _file_lines(Path(source))
    if isinstance(source, (io.RawIOBase, io.BufferedIOBase)) or (
        hasattr(source, "mode") and "b" in str(getattr(source, "mode", ""))
    ):
        stream = source
        if starts_gzip(source):  # type: ignore[arg-type]
            stream = gzip.GzipFile(fileobj=source)  # type: ignore[arg-type,assignment]
        return _decode(stream, name)  # type: ignore[arg-type]
    readline = getattr(source, "readline", None)
    if readline is not None:
        return _limited(readline)
    return _str_lines(source, name)  # type: ignore[arg-type]


#: The first two bytes of gzip data.
GZIP_MAGIC = b"\x1f\x8b"


def starts_gzip(stream: IO[bytes]) -> bool:
    """Whether a byte stream starts with gzip's magic number, read without
    taking it from the stream: peeked, or read and sought back
    (``io.BytesIO`` has no peek)."""
    peek = getattr(stream, "peek", None)
    if peek is not None:
        return bool(peek(2)[:2] == GZIP_MAGIC)
    seekable = getattr(stream, "seekable", None)
    if seekable is not None and seekable():
        at = stream.tell()
        head = stream.read(2)
        stream.seek(at)
        return bool(head == GZIP_MAGIC)
    return False


def _str_lines(source: Iterable[str], name: str | None) -> Iterator[_Raw]:
    """The lines of an iterable of str, kept whole."""
    for line in source:
        if not isinstance(line, str):
            raise InputError(f"{name}: expected lines of text, got {type(line)}")
        over = 0
        if len(line) > MAX_LINE_LENGTH:
            over = len(line.rstrip("\r\n"))
            over = over if over > MAX_LINE_LENGTH else 0
        yield line, over, False


@contextmanager
def opening(name: object) -> Iterator[None]:
    """Errors opening the dump file ``name`` as one InputError each."""
    try:
        yield
    except FileNotFoundError:
        raise InputError(f"{name}: no such file") from None
    except PermissionError:
        raise InputError(f"{name}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot open: {exc.strerror or exc}") from None


def _file_lines(path: Path) -> Iterator[_Raw]:
    with opening(path):
        if path.is_dir():
            raise InputError(f"{path}: is a directory, not a dump file")
        raw = path.open("rb")
    with raw:
        try:
            zipped = starts_gzip(raw)
        except OSError as exc:
            raise InputError(f"{path}: read error: {exc.strerror or exc}") from None
        stream: IO[bytes] = raw
        if zipped:
            stream = gzip.GzipFile(fileobj=raw)  # type: ignore[assignment]
        yield from _decode(stream, str(path))


def _decode(stream: IO[bytes], name: str | None) -> Iterator[_Raw]:
    """Text lines of a byte stream; bytes that are not UTF-8 are replaced."""
    where = name or "<stream>"
    try:
        first = True
        for raw, over, _ in _limited(stream.readline):
            if first and _looks_binary(raw):
                raise InputError(f"{where}: binary data, not a text dump")
            first = False
            try:
                yield raw.decode("utf-8"), over, False
            except UnicodeDecodeError:
                yield raw.decode("utf-8", errors="replace"), over, True
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise InputError(
            f"{where}: gzip data is truncated or corrupt ({exc})"
        ) from None
    except OSError as exc:
        raise InputError(f"{where}: read error: {exc.strerror or exc}") from None


# Reading the dropped rest of an over-long line in small pieces keeps the
# peak near one line's limit.
_REST_CHUNK = 1 << 16


# Control bytes that text dumps do not contain (tab, line ends and the
# escape of colours are text).
_CONTROL = bytes(c for c in range(32) if c not in b"\t\n\r\x1b") + b"\x7f"


def _looks_binary(first_line: bytes) -> bool:
    """A NUL and more than 1 byte in 10 a control: a core file, an image...

    One stray NUL in pasted text only costs its line (a skip), not the file.
    """
    if b"\x00" not in first_line:
        return False
    control = len(first_line) - len(first_line.translate(None, _CONTROL))
    return control * 10 > len(first_line)


def _limited(
    readline: Callable[[int], AnyStr],
) -> Iterator[tuple[AnyStr, int, bool]]:
    """Lines as _Raw, no line longer than the limit.

    Of a line longer than MAX_LINE_LENGTH only the first MAX_LINE_LENGTH + 1
    characters are kept; the rest is read in pieces and dropped, so memory
    stays bounded whatever the input.  (For bytes, the limit counts bytes: a
    flow line is ASCII.)  The last item is False: :func:`_decode` tells
    replaced bytes.
    """
    limit = MAX_LINE_LENGTH + 1
    while True:
        line = readline(limit)
        if len(line) < limit:  # the whole line, short enough: most lines
            if not line:
                return
            yield line, 0, False
            continue
        last = line
        length = len(line)
        more = limit
        while len(last) >= more and last[-1:] not in ("\n", b"\n"):
            more = _REST_CHUNK
            last = readline(more)  # the rest of an over-long line, dropped
            length += len(last)
        if last[-1:] in ("\n", b"\n"):
            length -= 2 if last[-2:] in ("\r\n", b"\r\n") else 1
        yield line, length if length > MAX_LINE_LENGTH else 0, False


def _section(text: str) -> str:
    rest = text[len("flow-dump from ") :].rstrip(":")
    return rest.removeprefix("the ")


#: Where :func:`dump_time` found a dump's time.
CAPTURE_TIME = "capture time"
FILE_TIME = "file modification time"
NO_TIME = "unknown"


def dump_time(
    meta: Sequence[dict[str, Any]], path: Path | None
) -> tuple[datetime | None, str]:
    """When a dump was taken, and from what that is known.

    The ``time`` of the first ``# ovsflow-meta:`` header that has a valid one,
    else the file's modification time, else None (standard input).

    >>> dump_time([{"time": "2024-05-01T10:00:00.000Z"}], None)
    (datetime.datetime(2024, 5, 1, 10, 0, tzinfo=datetime.timezone.utc), 'capture time')
    """
    for header in meta:
        value = header.get("time")
        if isinstance(value, str):
            try:
                when = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            return when.astimezone(UTC), CAPTURE_TIME
    if path is not None:
        stamp = path.stat().st_mtime
        return datetime.fromtimestamp(stamp, UTC), FILE_TIME
    return None, NO_TIME
