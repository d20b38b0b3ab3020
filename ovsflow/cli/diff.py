"""``ovsflow diff``: rates and offload between two dumps of one datapath."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ovsflow.cli._common import (
    add_l2_bytes_argument,
    readers,
    report_skipped,
    whole_number,
)

if TYPE_CHECKING:
    from ovsflow.diff import DiffResult

# pandas and the modules built on it are imported where used: they take
# about a second to load, which every other subcommand would pay at start-up.


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "diff",
        help="packets/s, bytes/s and offload ratio between two dumps",
        description=(
            "Match the flows of two dumps of one datapath (by ufid, else by "
            "match) and report what ran in between: packets/s and bytes/s per "
            "flow and in total, the share in hardware, flows that appeared or "
            "disappeared, and flows deleted and added again (counters that "
            "went backwards)."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("before", metavar="BEFORE", help="the first dump ('-': stdin)")
    parser.add_argument("after", metavar="AFTER", help="the second dump")
    parser.add_argument(
        "--interval",
        type=float,
        default=None,
        metavar="SECONDS",
        help="time between the dumps; by default from the capture times in their "
        "headers (ovsflow collect), else the files' modification times",
    )
    parser.add_argument(
        "--top",
        type=whole_number(0),
        default=10,
        metavar="N",
        help="list at most N flows of each kind in the table output",
    )
    parser.add_argument(
        "--format", choices=("table", "json", "csv"), default="table", help="output"
    )
    add_l2_bytes_argument(parser)
    parser.add_argument(
        "--strict",
        action="store_true",
        help="stop with an error (exit status 2) at the first line that is not a flow",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ovsflow.diff import diff_dumps
    from ovsflow.table import to_dataframe

    frames = []
    skipped: list[tuple[str, object]] = []
    for name, reader in readers([args.before, args.after], args.strict):
        df = to_dataframe(reader, source=name)
        df.attrs["meta"] = reader.meta
        if name != "<stdin>":
            df.attrs["mtime"] = Path(name).stat().st_mtime
        frames.append(df)
        skipped.extend((name, s) for s in reader.skipped)
    report_skipped(skipped, sys.stderr)
    result = diff_dumps(
        frames[0], frames[1], interval=args.interval, l2_bytes=args.l2_bytes
    )
    if args.format == "json":
        json.dump(result.as_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif args.format == "csv":
        write_csv(result, sys.stdout)
    else:
        write_table(result, sys.stdout, max(args.top, 0))
    return 0


_CSV_COLUMNS = (
    "status",
    "section",
    "ufid",
    "offload_class",
    "dp",
    "in_port",
    "packets",
    "bytes",
    "hardware_packets",
    "hardware_bytes",
    "packets_per_s",
    "bytes_per_s",
    "match_text",
)


def write_csv(result: DiffResult, out: IO[str]) -> None:
    """A ``total`` row, then one row per flow."""
    import pandas as pd

    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_CSV_COLUMNS)
    total = {**result.totals, "status": "total"}
    writer.writerow([total.get(n, "") for n in _CSV_COLUMNS])
    flows = result.flows[list(_CSV_COLUMNS)]
    for row in flows.itertuples(index=False):
        writer.writerow(["" if pd.isna(v) else v for v in row])


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.3f}%"


def write_table(result: DiffResult, out: IO[str], top: int) -> None:
    """The diff for a terminal."""
    import pandas as pd

    t = result.totals
    out.write(f"interval: {result.interval:g} s ({result.interval_from})\n")
    out.write(
        f"flows: {t['flows_before']} before, {t['flows_after']} after: "
        f"{t['kept']} kept, {t['readded']} re-added, {t['appeared']} appeared, "
        f"{t['disappeared']} disappeared\n\n"
    )
    out.write(f"{'':<16} {'packets':>14} {'bytes':>16} {'packets/s':>12} ")
    out.write(f"{'bytes/s':>14}\n")
    for name, prefix in (("in interval", ""), ("in hardware", "hardware_")):
        out.write(
            f"{name:<16} {t[prefix + 'packets']:>14} {t[prefix + 'bytes']:>16} "
            f"{t[prefix + 'packets_per_s']:>12.3f} {t[prefix + 'bytes_per_s']:>14.3f}\n"
        )
    out.write(
        f"{'hardware ratio':<16} {_pct(t['hardware_packet_ratio']):>14} "
        f"{_pct(t['hardware_byte_ratio']):>16}\n"
    )
    if result.l2_bytes:
        out.write("bytes of dp:tc flows include the 14-byte Ethernet header\n")
    for note in result.notes:
        out.write(f"note: {note}\n")

    flows = result.flows
    status = flows["status"].astype(str)
    ran = status != "disappeared"
    sections = [
        ("busiest flows in the interval", ran),
        (
            "re-added (counters went backwards: counted since re-added)",
            status == "readded",
        ),
        ("appeared", status == "appeared"),
        ("disappeared (no rate: what they ran is unknown)", ~ran),
    ]
    for title, chosen in sections:
        rows = flows[chosen].sort_values(
            "packets_per_s", ascending=False, kind="stable", na_position="last"
        )
        rows = rows.head(top)
        if rows.empty or top == 0:
            continue
        out.write(f"\n{title}:\n")
        for row in rows.itertuples(index=False):
            rate = "-" if pd.isna(row.packets_per_s) else f"{row.packets_per_s:.3f}"
            out.write(f"  {rate:>12} pkts/s  {row.offload_class!s:<11} {row.status}\n")
            out.write(f"      {row.match_text}, actions:{row.actions_text}\n")


__all__ = ["register", "run", "write_csv", "write_table"]
