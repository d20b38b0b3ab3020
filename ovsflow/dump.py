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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal, Union

from ovsflow.errors import InputError, ParseError
from ovsflow.parse import parse_flow
from ovsflow.records import Flow

Source = Union[str, "os.PathLike[str]", IO[str], IO[bytes], Iterable[str]]
OnError = Literal["raise", "skip"]

_LOG_LINE = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z?\|\d+\|[\w-]+\|(?:EMER|ERR|WARN|INFO|DBG)\|"
)
_OPENFLOW = re.compile(r"^\s*(?:cookie=0x[0-9a-f]+, )?duration=[0-9.]+s, table=")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass(frozen=True, slots=True)
class Skipped:
    """A line of a dump that gave no flow: its number, why, and its text."""

    line: int
    reason: str
    text: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class DumpReader:
    """Streams the flows of one dump; keeps what was not a flow.

    Iterate it for flows.  ``on_error="raise"`` stops at the first line that
    is not a flow with a :class:`~ovsflow.ParseError`; ``"skip"`` records the
    line in ``skipped`` and goes on.  OVS log lines are always skipped and
    recorded as "not a flow".  After (or during) iteration, ``meta`` holds the
    ``# ovsflow-meta:`` headers and ``sections`` the dump headers seen.
    """

    source: Source
    on_error: OnError = "raise"
    name: str | None = None
    skipped: list[Skipped] = field(default_factory=list)
    meta: list[dict[str, object]] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)
    flows: int = 0
    lines: int = 0

    def __post_init__(self) -> None:
        if self.on_error not in ("raise", "skip"):
            raise ValueError(
                f"on_error must be 'raise' or 'skip', not {self.on_error!r}"
            )
        if self.name is None:
            self.name = _source_name(self.source)

    def __iter__(self) -> Iterator[Flow]:
        section: str | None = None
        for number, raw in enumerate(_lines(self.source, self.name), start=1):
            self.lines = number
            if number == 1:
                raw = raw.lstrip("\ufeff")  # a byte order mark from Windows tools
            text = raw.strip()
            if "\x1b" in text:
                text = _ANSI.sub("", text).strip()  # ovs-appctl --color output
            if not text:
                continue
            if text.startswith("flow-dump from "):
                section = _section(text)
                self.sections.append(section)
                continue
            if text.startswith("#"):
                self._comment(number, text)
                continue
            try:
                if _LOG_LINE.match(text):
                    raise ParseError(
                        "not a flow: an OVS log line", text=text, line=number
                    )
                if _OPENFLOW.match(text):
                    raise ParseError(
                        "this is OpenFlow text from 'ovs-ofctl dump-flows'; ovsflow "
                        "reads datapath flows from 'ovs-appctl dpctl/dump-flows'",
                        text=text,
                        line=number,
                        source=self.name,
                    )
                flow = parse_flow(text, line=number, section=section)
            except ParseError as exc:
                exc.line, exc.source = number, self.name
                if self.on_error == "raise":
                    raise
                reason = exc.message
                if not reason.startswith("not a flow"):
                    reason += f" (column {exc.column})"
                self._skip(number, reason, text)
                continue
            self.flows += 1
            yield flow

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


def _lines(source: Source, name: str | None) -> Iterator[str]:
    if isinstance(source, str) and _is_text(source):
        yield from io.StringIO(source)
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
    yield from source  # type: ignore[misc]


def _file_lines(path: Path) -> Iterator[str]:
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
        head = raw.peek(2)[:2] if hasattr(raw, "peek") else b""
        stream: IO[bytes] = raw
        if head == b"\x1f\x8b":
            stream = gzip.GzipFile(fileobj=raw)  # type: ignore[assignment]
        yield from _decode(stream, str(path))


def _decode(stream: IO[bytes], name: str | None) -> Iterator[str]:
    """Text lines of a byte stream; bytes that are not UTF-8 are replaced."""
    where = name or "<stream>"
    try:
        first = True
        for raw in stream:
            if first and b"\x00" in raw:
                raise InputError(f"{where}: binary data, not a text dump")
            first = False
            yield raw.decode("utf-8", errors="replace")
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise InputError(
            f"{where}: gzip data is truncated or corrupt ({exc})"
        ) from None
    except OSError as exc:
        raise InputError(f"{where}: read error: {exc.strerror or exc}") from None


def _section(text: str) -> str:
    rest = text[len("flow-dump from ") :].rstrip(":")
    return rest.removeprefix("the ")
