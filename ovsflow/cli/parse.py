"""``ovsflow parse``: dumps as a table, written as Parquet, JSON Lines or CSV."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ovsflow.cli._cluster import add_scheduler_argument, cluster_module, finish
from ovsflow.cli._common import (
    add_input_arguments,
    input_names,
    on_error,
    readers,
    report_skipped,
)
from ovsflow.cli._ports import add_ports_argument, ports_from_args
from ovsflow.dump import Skipped
from ovsflow.errors import InputError

if TYPE_CHECKING:
    import pyarrow as pa

    from ovsflow.dask import Report
    from ovsflow.ports import PortTable

# pyarrow and ovsflow.table are imported where used: they take about a
# second to load, which every other subcommand would pay at start-up.

FORMATS = ("parquet", "jsonl", "csv")
_EXTENSIONS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
}
# Rows per batch.  Parquet writes one row group per batch, so a big batch
# reads back faster; text formats use small ones so that the first lines
# come out at once (``ovsflow parse big.txt | head``).
_BATCH_ROWS = {"parquet": 65536, "jsonl": 2048, "csv": 2048}


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "parse",
        help="write the flows of dumps as Parquet, JSON Lines or CSV",
        description=(
            "Write one row per flow, with the columns of docs/schema.md, as "
            "Parquet, JSON Lines or CSV. Streams in batches: memory does not "
            "grow with the dump."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_input_arguments(parser)
    parser.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        default=None,
        help="file to write (.parquet, .jsonl, .csv); standard output without it",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default=None,
        help="output format; by default from the extension of OUT, else jsonl",
    )
    add_ports_argument(
        parser,
        "fills the in_port_interface, in_port_pod, in_port_namespace and "
        "output_pods columns",
    )
    add_scheduler_argument(parser)
    parser.set_defaults(func=run)


def output_format(output: str | None, chosen: str | None) -> str:
    """The format to write: ``--format``, else OUT's extension, else jsonl.

    A ``--format`` that another known extension of OUT contradicts is an
    error: ``-o x.parquet --format csv`` would write CSV under a Parquet name.
    """
    suffix = Path(output).suffix.lower() if output is not None else ""
    if chosen is not None:
        named = _EXTENSIONS.get(suffix)
        if named is not None and named != chosen:
            raise InputError(
                f"{output}: the extension says {named}, --format says {chosen}; "
                "give one that agrees, or another name"
            )
        return chosen
    if output is None:
        return "jsonl"
    try:
        return _EXTENSIONS[suffix]
    except KeyError:
        known = ", ".join(_EXTENSIONS)
        raise InputError(
            f"{output}: cannot tell the format from the extension {suffix!r} "
            f"(known: {known}); give --format"
        ) from None


def run(args: argparse.Namespace) -> int:
    from ovsflow.table import iter_batches

    fmt = output_format(args.output, args.format)
    if args.output is None and fmt == "parquet" and sys.stdout.isatty():
        raise InputError(
            "will not write Parquet (binary) to a terminal: give -o FILE or "
            "redirect standard output"
        )
    skipped: list[tuple[str, Skipped]] = []
    ports = ports_from_args(args)

    def batches() -> Iterator[pa.RecordBatch]:
        if args.scheduler is not None:
            yield from _batches_on_cluster(args, _BATCH_ROWS[fmt], ports, skipped)
            return
        for name, reader in readers(input_names(args), args.strict):
            size = _BATCH_ROWS[fmt]
            yield from iter_batches(reader, source=name, batch_size=size, ports=ports)
            skipped.extend((name, s) for s in reader.skipped)

    if args.output is None:
        stream = sys.stdout.buffer if fmt == "parquet" else sys.stdout
        write(batches(), fmt, stream)
    else:
        write_file(batches(), fmt, Path(args.output))
    report_skipped(skipped, sys.stderr)
    return 0


def _batches_on_cluster(
    args: argparse.Namespace,
    batch_size: int,
    ports: PortTable | None,
    skipped: list[tuple[str, Skipped]],
) -> Iterator[pa.RecordBatch]:
    names = input_names(args)
    cluster = cluster_module(names)
    reports: list[Report] = []
    with cluster.connect(args.scheduler) as client:
        for table in cluster.iter_tables(
            names,
            client,
            reports,
            on_error=on_error(args.strict),
            batch_size=batch_size,
            ports=ports,
        ):
            yield from table.to_batches(max_chunksize=batch_size)
    finish(reports, skipped)


def write_file(batches: Iterator[pa.RecordBatch], fmt: str, path: Path) -> None:
    """Write to a temporary file next to ``path``, renamed when complete.

    A dump that fails half-way leaves no half-written file behind.
    """
    partial = path.with_name(f".{path.name}.partial")
    try:
        mode = "wb" if fmt == "parquet" else "w"
        with open(partial, mode, **({} if fmt == "parquet" else _TEXT)) as out:
            write(batches, fmt, out)
        os.replace(partial, path)
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror or exc}") from None
    finally:
        partial.unlink(missing_ok=True)


_TEXT: dict[str, Any] = {"encoding": "utf-8", "newline": ""}


def write(batches: Iterator[pa.RecordBatch], fmt: str, out: IO[Any]) -> None:
    """Write record batches of SCHEMA to ``out`` in ``fmt``."""
    import pyarrow.parquet as pq

    from ovsflow.table import SCHEMA

    if fmt == "parquet":
        with pq.ParquetWriter(out, SCHEMA) as writer:
            for batch in batches:
                writer.write_batch(batch)
    elif fmt == "jsonl":
        for batch in batches:
            out.writelines(
                json.dumps(row, ensure_ascii=False) + "\n" for row in batch.to_pylist()
            )
    else:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(SCHEMA.names)
        for batch in batches:
            writer.writerows([_csv_cell(v) for v in row] for row in _rows(batch))


def _rows(batch: pa.RecordBatch) -> Iterator[tuple[Any, ...]]:
    columns = [column.to_pylist() for column in batch.columns]
    return zip(*columns, strict=True)


def _csv_cell(value: Any) -> Any:
    """A CSV cell: empty for null, JSON for lists and structs, true/false."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return value


__all__ = ["FORMATS", "output_format", "register", "run", "write"]
