"""Dumps as a Dask DataFrame: many dumps, big dumps, on a cluster.

:func:`read_dumps` gives the table of :mod:`ovsflow.table` (the columns and
types of :data:`~ovsflow.table.SCHEMA`, as :func:`~ovsflow.table.to_dataframe`
gives them) for dumps on any filesystem fsspec opens: local paths and globs,
``file://``, ``s3://``, ``memory://``...  There is one partition per dump,
or per block of lines of a dump larger than ``block_bytes``.  The functions
of :mod:`ovsflow.analysis` accept the result.

A big dump is cut into blocks so that each reads exactly as in one pass:

1. The file is cut every ``block_bytes`` bytes; a block owns the lines that
   start in it.
2. One task per block counts its line ends and notes the last section header
   (``flow-dump from ...``) it holds.  It also moves the block's start to
   just after its first line that is complete on its own (a flow that parses
   alone, a blank line, a header or comment): the reader keeps nothing from
   one line to the next across such a line, so a line wrapped by a terminal
   is never split between two partitions.
3. From the counts of the blocks before it, each partition learns the number
   of its first line and its section, and reads its lines with an ordinary
   :class:`~ovsflow.dump.DumpReader`.

A gzip dump cannot be cut: it is one partition.  Step 2 reads every byte
once more than the parse does; counting line ends costs about a hundredth of
parsing, but on remote storage it doubles the bytes fetched.

Dask is an optional extra: ``pip install 'ovsflow[dask]'``.
"""

from __future__ import annotations

import glob
import io
import os
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

try:
    import dask.dataframe as dd
    import fsspec
    from dask.delayed import delayed
    from fsspec.implementations.local import LocalFileSystem
except ImportError as exc:  # pragma: no cover - tested in a subprocess
    raise ImportError(
        f"ovsflow.dask needs Dask ({exc}): pip install 'ovsflow[dask]'"
    ) from exc

from ovsflow.dump import GZIP_MAGIC, DumpReader, Note, OnError, Skipped, opening
from ovsflow.errors import InputError, OvsflowError
from ovsflow.limits import MAX_LINE_LENGTH
from ovsflow.summary import Summary

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    from distributed import Client, Future

    from ovsflow.explain import Rule
    from ovsflow.ports import PortTable

#: Bytes of a dump per partition; a bigger dump is cut into blocks.
BLOCK_BYTES = 64 << 20

_STR = "string[pyarrow]"
_INT = "int64"
_HEADER = b"flow-dump from "


@dataclass(frozen=True, slots=True)
class _File:
    """A dump to read: its filesystem, its path there and its ``source`` name."""

    fs: Any  # fsspec.AbstractFileSystem
    path: str
    name: str
    size: int
    splittable: bool


@dataclass(frozen=True, slots=True)
class _Scan:
    """What step 2 found in one block."""

    newlines: int  # line ends in the block
    start: int | None  # where a fresh reader may start; None: nowhere in it
    newlines_before: int  # line ends between the block's start and ``start``
    section_before: str | None  # the last header before ``start``
    section: str | None  # the last header in the block


@dataclass(frozen=True, slots=True)
class _Piece:
    """The lines of one partition: bytes [start, end) of a file (None: to its end)."""

    file: _File
    start: int
    end: int | None
    first_line: int
    section: str | None


@dataclass
class Report:
    """What reading a partition kept besides flows, as a DumpReader keeps it."""

    source: str
    skipped: list[Skipped]
    notes: list[Note]
    meta: list[dict[str, object]]
    lines: int
    joined: int


# --- finding the dumps -------------------------------------------------------


def _files(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    storage_options: dict[str, Any] | None,
    block_bytes: int,
) -> list[_File]:
    """Every dump named, globs expanded, in the order given (a glob's sorted)."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    files = []
    for given in [os.fspath(p) for p in paths]:
        fs, path = fsspec.core.url_to_fs(given, **(storage_options or {}))
        if not glob.has_magic(given):
            files.append(_file(fs, path, given, block_bytes))
            continue
        if "://" in given or "::" in given:
            found = [(p, fs.unstrip_protocol(p)) for p in sorted(fs.glob(path))]
        else:  # a local glob: names keep the form given, relative or not
            found = [(os.path.abspath(n), n) for n in sorted(glob.glob(given))]
        if not found:
            raise InputError(f"{given}: no file matches")
        files.extend(_file(fs, p, name, block_bytes) for p, name in found)
    if not files:
        raise InputError("no dumps given")
    return files


def _file(fs: Any, path: str, name: str, block_bytes: int) -> _File:
    with opening(name):
        if fs.isdir(path):
            raise InputError(f"{name}: is a directory, not a dump file")
        size = int(fs.size(path))
        splittable = False
        if size > block_bytes:
            with fs.open(path, "rb") as stream:
                # (read, not peeked: some fsspec streams cannot seek back)
                splittable = stream.read(2) != GZIP_MAGIC
    return _File(fs, path, name, size, splittable)


def _block_size(block_bytes: int | None) -> int:
    """``block_bytes``, or :data:`BLOCK_BYTES` as it is now for None."""
    if block_bytes is None:
        return BLOCK_BYTES
    if block_bytes < 1:
        raise ValueError(f"block_bytes must be at least 1, not {block_bytes!r}")
    return block_bytes


def _blocks(file: _File, block_bytes: int) -> list[tuple[int, int]]:
    if not file.splittable:
        return [(0, file.size)]
    return [
        (s, min(s + block_bytes, file.size)) for s in range(0, file.size, block_bytes)
    ]


# --- step 2: scanning a block ------------------------------------------------


def _read_alone(line: bytes, first: bool) -> tuple[bool, str | None]:
    """Whether a line leaves a reader with nothing pending, and its section.

    It does when it is a flow alone, blank, a header or a comment: the
    reader then skipped nothing.  A line it refuses (a log line) would do
    too, but is counted out, which only moves a block's start further.
    """
    reader = DumpReader(
        io.BytesIO(line), "skip", "<scan>", first_line=1 if first else 2
    )
    try:
        for _ in reader:
            pass
    except InputError:  # binary data, for a reader that starts at this line
        return False, None
    return not reader.skipped, reader.sections[-1] if reader.sections else None


def _scan(file: _File, start: int, end: int) -> _Scan:
    """Step 2 for the block [start, end) of a file."""
    begin = max(start - 1, 0)
    with file.fs.open(file.path, "rb") as stream:
        stream.seek(begin)
        data = stream.read(end - begin)
        newlines = data.count(b"\n", start - begin)
        first = 0 if start == 0 else data.find(b"\n") + 1
        if start > 0 and first == 0:
            return _Scan(newlines, None, 0, None, None)  # one line spans it
        data += _rest_of_line(stream, data)

    # The first line after which a reader may start afresh.
    fresh, section_before = None, None
    before = 1 if first > 1 else 0  # the end of a line begun in an earlier block
    at = begin + first
    for line in io.BytesIO(data[first:]):
        if at >= end:
            break
        resets, header = _classify(line, at, file.size)
        if header is not None:
            section_before = header
        before += line.endswith(b"\n")
        at += len(line)
        if resets:
            fresh = at
            break
    if fresh is None:
        before, section_before = 0, None

    # The last header of the block, searched for from its end.
    section, found = None, len(data)
    while section is None:
        found = data.rfind(_HEADER, first, found)
        if found < 0:
            break
        found = data.rfind(b"\n", 0, found) + 1  # where its line starts
        if begin + found < end:
            stop = data.find(b"\n", found) + 1 or len(data)
            section = _classify(data[found:stop], begin + found, file.size)[1]
    return _Scan(newlines, fresh, before, section_before, section)


def _classify(line: bytes, at: int, size: int) -> tuple[bool, str | None]:
    """_read_alone for a line at offset ``at``; a line cut at the limit is not
    read (it is too long to be a flow or a header)."""
    if not line.endswith(b"\n") and at + len(line) != size:
        return False, None
    return _read_alone(line, at == 0)


def _rest_of_line(stream: Any, data: bytes) -> bytes:
    """The rest of the line ``data`` ends in, up to the line limit."""
    rest = b""
    while not (data + rest).endswith(b"\n") and len(rest) <= MAX_LINE_LENGTH + 2:
        more = stream.read(1 << 16)
        if not more:
            break
        cut = more.find(b"\n")
        rest += more if cut < 0 else more[: cut + 1]
        if cut >= 0:
            break
    return rest


def _pieces(file: _File, scans: list[_Scan]) -> list[_Piece | None]:
    """Step 3: one piece per block, None for a block that starts nowhere."""
    starts: list[tuple[int, int, str | None] | None] = [(0, 1, None)]
    newlines, section = 0, None
    for k, scan in enumerate(scans):
        if k > 0:
            if scan.start is None:
                starts.append(None)
            else:
                line = 1 + newlines + scan.newlines_before
                here = section if scan.section_before is None else scan.section_before
                starts.append((scan.start, line, here))
        newlines += scan.newlines
        if scan.section is not None:
            section = scan.section
    pieces: list[_Piece | None] = []
    end: int | None = None
    for start in reversed(starts):
        if start is None:
            pieces.append(None)
            continue
        pieces.append(_Piece(file, start[0], end, start[1], start[2]))
        end = start[0]
    return pieces[::-1]


# --- reading a piece ---------------------------------------------------------


def _reader(piece: _Piece, on_error: OnError) -> DumpReader:
    file = piece.file
    if piece.start == 0 and piece.end is None:  # a whole file: may be gzip
        if isinstance(file.fs, LocalFileSystem):
            source: Any = Path(file.path)
        else:
            source = io.BufferedReader(io.BytesIO(file.fs.cat_file(file.path)))
        return DumpReader(source, on_error, file.name)
    data = file.fs.cat_file(file.path, piece.start, piece.end)
    # A blank line first: the reader checks only its first line for binary
    # data, as it does for line 1 of a whole file, not of a block.
    return DumpReader(
        io.BytesIO(b"\n" + data),
        on_error,
        file.name,
        first_line=piece.first_line - 1,
        first_section=piece.section,
    )


def _report(reader: DumpReader) -> Report:
    return Report(
        str(reader.name),
        reader.skipped,
        reader.notes,
        reader.meta,
        reader.lines,
        reader.joined,
    )


@dataclass(frozen=True)
class _Columns:
    """What fills the columns beyond the dump's own: as for iter_batches."""

    batch_size: int = 65536
    ports: PortTable | None = None
    rules: Sequence[Rule] | None = None


def _table(
    pieces: list[_Piece | None], k: int, on_error: OnError, columns: _Columns
) -> tuple[pa.Table, Report | None]:
    """The flows of one piece as an Arrow table of SCHEMA, and its report."""
    import pyarrow as pa

    from ovsflow.table import SCHEMA, iter_batches

    piece = pieces[k]
    if piece is None:
        return SCHEMA.empty_table(), None
    reader = _reader(piece, on_error)
    batches = iter_batches(
        reader,
        source=piece.file.name,
        batch_size=columns.batch_size,
        ports=columns.ports,
        rules=columns.rules,
    )
    table = pa.Table.from_batches(batches, schema=SCHEMA).unify_dictionaries()
    return table, _report(reader)


def _frame(result: tuple[pa.Table, Report | None]) -> pd.DataFrame:
    from ovsflow.table import arrow_to_dataframe

    return arrow_to_dataframe(result[0])


def _skipped(result: tuple[pa.Table, Report | None]) -> pd.DataFrame:
    import pandas as pd

    report = result[1]
    rows = [] if report is None else report.skipped
    return pd.DataFrame(
        {
            "source": pd.Series(
                [report.source] * len(rows) if report else [], dtype=_STR
            ),
            "line": pd.Series([s.line for s in rows], dtype=_INT),
            "reason": pd.Series([s.reason for s in rows], dtype=_STR),
        }
    )


# --- the DataFrame -----------------------------------------------------------


@dataclass(frozen=True)
class DaskDumps:
    """The flows of dumps as a Dask DataFrame, and the lines that were not flows.

    ``skipped`` is a Dask DataFrame with columns ``source``, ``line`` and
    ``reason`` (what ``df.attrs["skipped"]`` of :func:`ovsflow.table.read_dumps`
    lists).  Compute both in one call, ``dask.compute(flows.packets.sum(),
    skipped)``, to read each dump once.
    """

    flows: dd.DataFrame
    skipped: dd.DataFrame


def open_dumps(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    on_error: OnError = "raise",
    block_bytes: int | None = None,
    storage_options: dict[str, Any] | None = None,
    ports: PortTable | None = None,
    rules: Sequence[Rule] | None = None,
) -> DaskDumps:
    """The flows of dumps (:func:`read_dumps`) and the lines that were not flows."""
    from ovsflow.table import to_dataframe

    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', not {on_error!r}")
    block_bytes = _block_size(block_bytes)
    results = []
    columns = _Columns(ports=ports, rules=rules)
    for file in _files(paths, storage_options, block_bytes):
        blocks = _blocks(file, block_bytes)
        if len(blocks) == 1:
            pieces: Any = [_Piece(file, 0, None, 1, None)]
        else:
            scans = [delayed(_scan)(file, s, e) for s, e in blocks]
            pieces = delayed(_pieces)(file, scans)
        results += [
            delayed(_table)(pieces, k, on_error, columns) for k in range(len(blocks))
        ]
    frames = [delayed(_frame)(r) for r in results]
    flows = dd.from_delayed(frames, meta=to_dataframe([]), verify_meta=True)
    skipped = [delayed(_skipped)(r) for r in results]
    return DaskDumps(flows, dd.from_delayed(skipped, meta=_skipped((None, None))))


def read_dumps(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    on_error: OnError = "raise",
    block_bytes: int | None = None,
    storage_options: dict[str, Any] | None = None,
    ports: PortTable | None = None,
    rules: Sequence[Rule] | None = None,
) -> dd.DataFrame:
    """The flows of dumps as a Dask DataFrame of :data:`~ovsflow.table.SCHEMA`.

    ``paths`` are paths, globs or fsspec URLs (``storage_options`` go to
    fsspec); ``source`` is each path as given, or as the glob found it;
    ``ports`` and ``rules`` as in :func:`ovsflow.table.iter_batches`.
    Nothing is read until the result is computed; then a line that is not a
    flow raises :class:`~ovsflow.ParseError`, or with ``on_error="skip"`` is
    left out (:func:`open_dumps` also gives the lines left out); with several
    bad lines in several partitions, the one raised is of the partition that
    ran first, not always the first in the file.  A missing
    file or a glob that matches none raises :class:`~ovsflow.InputError` now.

    >>> import ovsflow.dask, ovsflow.samples
    >>> df = ovsflow.dask.read_dumps(ovsflow.samples.path("kube-ovn-yusur-2200e"))
    >>> int(df.packets.sum().compute()), df.npartitions
    (81967, 1)
    """
    return open_dumps(
        paths,
        on_error=on_error,
        block_bytes=block_bytes,
        storage_options=storage_options,
    ).flows


# --- the command line on a cluster -------------------------------------------


def connect(address: str) -> Client:
    """A client of the Dask scheduler at ``address`` (``tcp://host:8786``)."""
    from distributed import Client

    try:
        return Client(address, timeout="10s")  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError, ValueError) as exc:
        raise OvsflowError(
            f"cannot reach the Dask scheduler at {address!r}: {exc}"
        ) from None


def _planned(
    client: Client, names: list[str], block_bytes: int | None
) -> list[list[_Piece]]:
    """The pieces of each dump, blocks scanned on the cluster (steps 1 to 3)."""
    block_bytes = _block_size(block_bytes)
    plans = []
    for file in _files(names, None, block_bytes):
        blocks = _blocks(file, block_bytes)
        if len(blocks) == 1:
            plans.append([_Piece(file, 0, None, 1, None)])
            continue
        futures = [client.submit(_scan, file, s, e) for s, e in blocks]
        scans = client.gather(futures)  # type: ignore[no-untyped-call]
        plans.append([p for p in _pieces(file, scans) if p is not None])
    return plans


def _summary_part(
    piece: _Piece, on_error: OnError, settings: dict[str, Any]
) -> tuple[Summary, Report]:
    reader = _reader(piece, on_error)
    part = Summary(**settings)
    part.add_all(reader, piece.file.name)
    return part, _report(reader)


def summarize(
    summary: Summary,
    names: list[str],
    client: Client,
    *,
    on_error: OnError = "raise",
    block_bytes: int | None = None,
) -> list[Report]:
    """Add the flows of dumps to ``summary``, each piece summarized on the cluster.

    Workers return counters and top flows, never flows, and the parts are
    added in file order, so the summary is the one a single process makes.
    Returns each dump's report (skipped lines, notes...).
    """
    settings = {
        "by": summary.by,
        "top_n": summary.top_n,
        "l2_bytes": summary.l2_bytes,
        "ports": summary.ports,
    }
    out = []
    for pieces in _planned(client, names, block_bytes):
        futures = [client.submit(_summary_part, p, on_error, settings) for p in pieces]
        reports = []
        for future in futures:
            part, report = future.result()
            summary.merge(part)
            reports.append(report)
        out.append(_joined(reports))
    return out


def iter_tables(
    names: list[str],
    client: Client,
    reports: list[Report],
    *,
    on_error: OnError = "raise",
    batch_size: int = 65536,
    block_bytes: int | None = None,
    ports: PortTable | None = None,
) -> Iterator[pa.Table]:
    """Arrow tables of SCHEMA, in file order, each piece parsed on the cluster.

    Each dump's report is appended to ``reports`` after its last table.  At
    most two pieces per worker thread are in flight, so memory stays flat.
    """
    threads = client.nthreads()  # type: ignore[no-untyped-call]
    window = 2 * max(1, sum(threads.values()))
    columns = _Columns(batch_size, ports)
    for pieces in _planned(client, names, block_bytes):
        pending: deque[Future[tuple[pa.Table, Report | None]]] = deque()
        found: list[Report] = []
        for k, piece in enumerate(pieces):
            pending.append(client.submit(_table, [piece], 0, on_error, columns))
            while pending and (len(pending) >= window or k == len(pieces) - 1):
                table, report = pending.popleft().result()
                if report is not None:  # None only for a block with no lines
                    found.append(report)
                yield table
        reports.append(_joined(found))


def _joined(reports: list[Report]) -> Report:
    """The reports of a dump's pieces as one, as one reader leaves them."""
    return Report(
        reports[0].source,
        [s for r in reports for s in r.skipped],
        [n for r in reports for n in r.notes],
        [m for r in reports for m in r.meta],
        max(r.lines for r in reports),
        sum(r.joined for r in reports),
    )


__all__ = [
    "BLOCK_BYTES",
    "DaskDumps",
    "Report",
    "connect",
    "iter_tables",
    "open_dumps",
    "read_dumps",
    "summarize",
]
