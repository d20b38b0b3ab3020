"""Summarizing one big dump on several cores (``ovsflow summarize --jobs N``).

The parent process reads the file in blocks of about :data:`CHUNK_BYTES`,
cut at line ends, and hands each block to a worker process with the number
of its first line and the section (``flow-dump from ...``) it starts in.  A
worker reads its block with an ordinary :class:`~ovsflow.dump.DumpReader`
and returns a partial :class:`~ovsflow.summary.Summary`; the parent adds the
parts up in file order.  Only counters, the top flows and the skipped lines
cross between processes, never flow records.

The result is the one a single process gives.  A few things could make a
block read differently from the same lines in one pass: a line wrapped by a
terminal across two blocks, a NUL byte (the reader refuses a binary first
line), a line longer than a block.  When any of them may have happened (a
line skipped at a block's edge, a NUL byte, no line end within
:data:`MAX_BLOCK_BYTES`), the file is read again in one process.
"""

from __future__ import annotations

import gzip
import io
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ovsflow.dump import DumpReader, Note, OnError, Skipped, starts_gzip
from ovsflow.errors import InputError, ParseError
from ovsflow.ports import PortTable
from ovsflow.summary import Summary

#: Bytes of dump text per block given to a worker.
CHUNK_BYTES = 4 << 20
#: A block grows to find a line end up to this size, then the file is read
#: in one process instead.
MAX_BLOCK_BYTES = 64 << 20
_HEADER = b"flow-dump from "


def default_jobs() -> int:
    """All cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@dataclass
class _Block:
    """One piece of a dump: its bytes, first line number and section header."""

    data: bytes
    first_line: int
    header: bytes | None  # the last "flow-dump from" line before the block


@dataclass
class _Part:
    """What a worker found in one block."""

    summary: Summary
    skipped: list[Skipped]
    meta: list[dict[str, object]]
    sections: list[str]
    notes: list[Note]
    joined: int
    flows: int
    lines: int
    edge_trouble: bool


class _Sequential(Exception):
    """The file must be read in one process to give the one-process result."""


def summarize_file(summary: Summary, reader: DumpReader, jobs: int) -> None:
    """Add the flows of a reader of a dump file to ``summary``, on ``jobs`` cores.

    ``reader.source`` must be a path.  Afterwards the reader's ``skipped``,
    ``meta``, ``sections``, ``notes`` and counters are what reading it in one
    process leaves there; the reader is then run over nothing, so that a
    subclass's end-of-input handling (the CLI lists notes and refuses an
    empty file) runs as after a one-process read.  Raises what reading the
    file raises (``InputError``, and ``ParseError`` for ``on_error="raise"``).
    """
    path = reader.source
    if jobs > 1 and isinstance(path, Path) and reader.flows == reader.lines == 0:
        parts: list[_Part] = []
        try:
            for part in _parts(summary, path, str(reader.name), jobs, reader.on_error):
                if part.edge_trouble:
                    raise _Sequential
                parts.append(part)
        except _Sequential:
            pass
        else:
            for part in parts:
                summary.merge(part.summary)
                reader.skipped.extend(part.skipped)
                reader.meta.extend(part.meta)
                reader.sections.extend(part.sections)
                reader.notes.extend(part.notes)
                reader.joined += part.joined
                reader.flows += part.flows
            reader.lines = sum(p.lines for p in parts)
            reader.source = ()
    summary.add_all(reader, str(reader.name))


def _parts(
    summary: Summary, path: Path, name: str, jobs: int, on_error: OnError
) -> Iterator[_Part]:
    """The workers' parts, in file order; at most 2 x jobs blocks in flight."""
    settings = (summary.by, summary.top_n, summary.l2_bytes, summary.ports)
    with ProcessPoolExecutor(jobs) as pool:
        pending: deque[Future[_Part]] = deque()
        try:
            for block in _blocks(path):
                pending.append(pool.submit(_work, block, name, settings, on_error))
                if len(pending) >= 2 * jobs:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def _open(path: Path) -> IO[bytes]:
    try:
        raw = path.open("rb")
    except OSError:
        raise _Sequential from None  # the one-process reader names the error
    try:
        zipped = starts_gzip(raw)
    except OSError:
        raw.close()
        raise _Sequential from None
    if zipped:
        return gzip.GzipFile(fileobj=raw)  # type: ignore[return-value]
    return raw


def _blocks(path: Path) -> Iterator[_Block]:
    """The file in blocks that end at a line end."""
    line, header, rest = 1, None, b""
    with _open(path) as stream:
        while True:
            try:
                data = rest + stream.read(CHUNK_BYTES)
            except (OSError, EOFError, gzip.BadGzipFile) as exc:
                raise _Sequential from exc
            end = data.rfind(b"\n") + 1
            at_eof = len(data) == len(rest)
            if at_eof:
                end = len(data)
            elif end == 0:
                if len(data) > MAX_BLOCK_BYTES:
                    raise _Sequential
                rest = data
                continue
            block, rest = data[:end], data[end:]
            if not block:
                return
            if b"\x00" in block:
                raise _Sequential
            yield _Block(block, line, header)
            line += block.count(b"\n")
            found = block.rfind(_HEADER)
            if found >= 0:
                start = block.rfind(b"\n", 0, found) + 1
                if block[start:found].strip():
                    raise _Sequential  # not at the start of its line: unsure
                header = block[start : block.find(b"\n", found) % (len(block) + 1)]
            if at_eof:
                return


def _work(
    block: _Block,
    name: str,
    settings: tuple[str | None, int, bool, PortTable | None],
    on_error: OnError,
) -> _Part:
    """Summarize one block (in a worker process)."""
    section = None
    if block.header is not None:
        head = DumpReader(io.BytesIO(block.header + b"\n"), "skip")
        list(head)
        section = head.sections[-1] if head.sections else None
    last = block.first_line + block.data.count(b"\n") - 1
    if not block.data.endswith(b"\n"):
        last += 1
    edges = {block.first_line, last}
    reader = DumpReader(
        io.BytesIO(block.data),
        on_error,
        name,
        first_line=block.first_line,
        first_section=section,
    )
    by, top_n, l2_bytes, ports = settings
    part = Summary(by=by, top_n=top_n, l2_bytes=l2_bytes, ports=ports)
    try:
        part.add_all(reader, name)
    except ParseError as exc:
        if exc.line in edges:
            return _Part(Summary(), [], [], [], [], 0, 0, 0, True)
        # Only the error itself goes back to the parent: its Lark cause holds
        # the parser, which cannot be pickled (tblib, which Dask installs,
        # pickles causes and tracebacks too).
        exc.__cause__ = exc.__context__ = None
        raise exc.with_traceback(None) from None
    except InputError:
        return _Part(Summary(), [], [], [], [], 0, 0, 0, True)
    return _Part(
        part,
        reader.skipped,
        reader.meta,
        reader.sections,
        reader.notes,
        reader.joined,
        reader.flows,
        reader.lines - block.first_line + 1 if reader.lines else 0,
        any(s.line in edges for s in reader.skipped),
    )
