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
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, AnyStr, Literal, NamedTuple, Union

from ovsflow.errors import InputError, ParseError
from ovsflow.limits import MAX_LINE_LENGTH
from ovsflow.parse import parse_flow
from ovsflow.records import Flow

Source = Union[str, "os.PathLike[str]", IO[str], IO[bytes], Iterable[str]]
OnError = Literal["raise", "skip"]

#: Most pieces a line wrapped by a terminal is joined back from.  Each piece
#: re-parses the text joined so far, so this bounds the work per line; 32
#: pieces of an 80-column terminal hold a 2,500-character flow.
MAX_WRAPPED_PIECES = 32

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


class _Raw(NamedTuple):
    """One line as read: its text (cut when over-long) and what reading it found."""

    text: str
    length: int  # of the whole line, without its line end
    replaced: bool = False  # bytes that are not UTF-8 became U+FFFD


@dataclass
class DumpReader:
    """Streams the flows of one dump; keeps what was not a flow.

    Iterate it for flows.  ``on_error="raise"`` stops at the first line that
    is not a flow with a :class:`~ovsflow.ParseError`; ``"skip"`` records the
    line in ``skipped`` and goes on.  Log lines of OVS and of the tools around
    it are "not a flow" (an error in raise mode, a skip otherwise).  A line
    wrapped by a terminal is joined back when no piece parses alone and the
    joined text does; each join is listed in ``notes``, as are lines whose
    bytes were not UTF-8.  A line longer than ``MAX_LINE_LENGTH`` is not kept
    in memory: it is skipped (or raised) with its length.  After (or during)
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
           headers, comments.  They also end any wrapped line in progress.
        3. Parse; a line that fails may be the first piece of a wrapped
           line, so it waits in ``pending`` until the next line decides.
        """
        section = self.first_section
        pending: list[ParseError] = []
        lines = _lines(self.source, self.name)
        for number, raw in enumerate(lines, start=self.first_line):
            self.lines = number

            # 1.
            text = raw.text.lstrip("\ufeff") if number == 1 else raw.text
            text = text.strip()
            if "\x1b" in text:
                text = _ANSI.sub("", text).strip()  # ovs-appctl --color output

            # 2.
            problem = self._not_a_flow(number, raw, text)
            if problem is not None or not text or text.startswith(_NOT_FLOW_START):
                self._give_up(pending)
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
                self._comment(number, text)
                continue
            if raw.replaced:
                self._note(number, "bytes that are not UTF-8 were read as U+FFFD")

            # 3.
            try:
                flow = parse_flow(text, line=number, section=section)
            except ParseError as exc:
                exc.line, exc.source = number, self.name
                joined = self._join(pending, exc, section)
                if joined is not None:
                    self.flows += 1
                    yield joined
                continue
            self._give_up(pending)
            self.flows += 1
            yield flow
        self._give_up(pending)

    def _not_a_flow(self, number: int, raw: _Raw, text: str) -> ParseError | None:
        """The error for a line that cannot be (part of) a flow, else None."""
        if raw.length > MAX_LINE_LENGTH:
            return self._error(
                f"line too long: {raw.length} characters, the limit is "
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

    def _join(
        self, pending: list[ParseError], exc: ParseError, section: str | None
    ) -> Flow | None:
        """The flow of pending pieces and this failed line joined, if they make one.

        Otherwise this line waits in ``pending`` if it can start or continue a
        wrapped line (its error is at its very end, as for any beginning of a
        flow), or is given up on.
        """
        if pending:
            first = pending[0].line
            text = "".join(p.text for p in pending) + exc.text
            if len(text) <= MAX_LINE_LENGTH:
                try:
                    flow = parse_flow(text, line=first, section=section)
                except ParseError as joined_exc:
                    if _at_end(joined_exc) and len(pending) < MAX_WRAPPED_PIECES:
                        pending.append(exc)
                        return None
                else:
                    pending.clear()
                    self.joined += 1
                    self._note(
                        first,
                        f"lines {first}-{exc.line} joined into one flow "
                        "(a line wrapped by a terminal)",
                    )
                    return flow
            self._give_up(pending)
        if _at_end(exc):
            pending.append(exc)
        else:
            self._bad(exc)
        return None

    def _give_up(self, pending: list[ParseError]) -> None:
        """Report the lines waiting to be joined: they are not flows."""
        for exc in pending:
            if _at_end(exc) and "cut off" not in exc.message:
                exc.message += " (the line ends early: was it cut off?)"
            self._bad(exc)
        pending.clear()

    def _bad(self, exc: ParseError) -> None:
        if self.on_error == "raise":
            raise exc
        reason = exc.message
        if not reason.startswith("not a flow"):
            reason += f" (column {exc.column})"
        self._skip(exc.line, reason, exc.text)

    def _comment(self, number: int, text: str) -> None:
        body = text.lstrip("#").strip()
        if not body.startswith("ovsflow-meta:"):
            return  # an ordinary comment
        payload = body[len("ovsflow-meta:") :].strip()
        try:
            meta = json.loads(payload)
            if not isinstance(meta, dict):
                raise ValueError("not a JSON object")
        except ValueError as exc:
            self._skip(number, f"bad ovsflow-meta header: {exc}", text)
            return
        self.meta.append(meta)

    def _skip(self, number: int, reason: str, text: str) -> None:
        self.skipped.append(Skipped(number, reason, text[:500]))

    def _note(self, number: int, message: str) -> None:
        self.notes.append(Note(number, message))


def _at_end(exc: ParseError) -> bool:
    """True when the parser ran out of line: the line may go on elsewhere."""
    return exc.column > len(exc.text)


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
    if isinstance(source, str) and _is_text(source):
        yield from _text_lines(io.StringIO(source).readline)
        return
    if isinstance(source, (str, os.PathLike)):
        yield from _file_lines(Path(source))
        return
    if isinstance(source, (io.RawIOBase, io.BufferedIOBase)) or (
        hasattr(source, "mode") and "b" in str(getattr(source, "mode", ""))
    ):
        stream = source
        peek = getattr(source, "peek", None)
        if peek is not None and peek(2)[:2] == b"\x1f\x8b":
            stream = gzip.GzipFile(fileobj=source)  # type: ignore[arg-type,assignment]
        yield from _decode(stream, name)  # type: ignore[arg-type]
        return
    readline = getattr(source, "readline", None)
    if readline is not None:
        yield from _text_lines(readline)
        return
    for line in source:
        if not isinstance(line, str):
            raise InputError(f"{name}: expected lines of text, got {type(line)}")
        yield _Raw(line, len(line.rstrip("\r\n")))


def _file_lines(path: Path) -> Iterator[_Raw]:
    try:
        if path.is_dir():
            raise InputError(f"{path}: is a directory, not a dump file")
        raw = path.open("rb")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot open: {exc.strerror or exc}") from None
    with raw:
        try:
            head = raw.peek(2)[:2]
        except OSError as exc:
            raise InputError(f"{path}: read error: {exc.strerror or exc}") from None
        stream: IO[bytes] = raw
        if head == b"\x1f\x8b":
            stream = gzip.GzipFile(fileobj=raw)  # type: ignore[assignment]
        yield from _decode(stream, str(path))


def _text_lines(readline: Callable[[int], str]) -> Iterator[_Raw]:
    for text, length in _limited(readline):
        yield _Raw(text, length)


def _decode(stream: IO[bytes], name: str | None) -> Iterator[_Raw]:
    """Text lines of a byte stream; bytes that are not UTF-8 are replaced."""
    where = name or "<stream>"
    try:
        first = True
        for raw, length in _limited(stream.readline):
            if first and _looks_binary(raw):
                raise InputError(f"{where}: binary data, not a text dump")
            first = False
            try:
                yield _Raw(raw.decode("utf-8"), length)
            except UnicodeDecodeError:
                yield _Raw(raw.decode("utf-8", errors="replace"), length, True)
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


def _limited(readline: Callable[[int], AnyStr]) -> Iterator[tuple[AnyStr, int]]:
    """(line, its length without the line end), no line longer than the limit.

    Of a line longer than MAX_LINE_LENGTH only the first MAX_LINE_LENGTH + 1
    characters are kept; the rest is read in pieces and dropped, so memory
    stays bounded whatever the input.  (For bytes, the limit counts bytes: a
    flow line is ASCII.)
    """
    limit = MAX_LINE_LENGTH + 1
    while True:
        line = readline(limit)
        if not line:
            return
        last = line
        length = len(line)
        more = limit
        while len(last) >= more and last[-1:] not in ("\n", b"\n"):
            more = _REST_CHUNK
            last = readline(more)  # the rest of an over-long line, dropped
            length += len(last)
        if last[-1:] in ("\n", b"\n"):
            length -= 2 if last[-2:] in ("\r\n", b"\r\n") else 1
        yield line, length


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
                when = when.replace(tzinfo=timezone.utc)
            return when.astimezone(timezone.utc), CAPTURE_TIME
    if path is not None:
        stamp = path.stat().st_mtime
        return datetime.fromtimestamp(stamp, timezone.utc), FILE_TIME
    return None, NO_TIME
