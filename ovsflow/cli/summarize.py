"""``ovsflow summarize``: how much of the datapath is in hardware."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import IO, Any

from ovsflow.cli._cluster import add_scheduler_argument, cluster_module, finish
from ovsflow.cli._common import (
    add_input_arguments,
    add_l2_bytes_argument,
    count,
    input_names,
    on_error,
    readers,
    report_skipped,
    whole_number,
)
from ovsflow.cli._ports import add_ports_argument, ports_from_args
from ovsflow.cli.collect import add_source_arguments, source_from_args
from ovsflow.collect import collect_dump
from ovsflow.dump import DumpReader
from ovsflow.errors import InputError
from ovsflow.parallel import default_jobs, summarize_file
from ovsflow.summary import GROUPINGS, PORT_GROUPINGS, Summary, Totals


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "summarize",
        help="offload figures of one or more dumps",
        description=(
            "Count flows, packets and bytes of datapath flow dumps by offload "
            "class (hardware, partial, tc_software, software, unknown). Several "
            "files are summed, e.g. a type=offloaded and a type=non-offloaded dump."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_input_arguments(parser)
    parser.add_argument(
        "--top",
        type=whole_number(0),
        default=10,
        metavar="N",
        help="list the N busiest flows not in hardware (0: none)",
    )
    parser.add_argument(
        "--by",
        choices=sorted(GROUPINGS),
        default=None,
        help="also give every figure for each value of this field (pod and "
        "namespace: of the input port, from --ports)",
    )
    add_ports_argument(parser, "needed by --by pod and --by namespace")
    parser.add_argument(
        "--format",
        choices=("table", "json", "csv"),
        default="table",
        help="output format",
    )
    add_l2_bytes_argument(parser)
    parser.add_argument(
        "--jobs",
        type=whole_number(1),
        default=default_jobs(),
        metavar="N",
        help="parse each dump file in N processes (standard input: one)",
    )
    live = parser.add_argument_group(
        "live collection", "with --live, where to collect from (as 'ovsflow collect')"
    )
    live.add_argument(
        "--live",
        action="store_true",
        help="collect 'dpctl/dump-flows -m' from OVS now and summarize it too",
    )
    add_source_arguments(live)
    add_scheduler_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    ports = ports_from_args(args)
    if args.by in PORT_GROUPINGS and ports is None:
        raise InputError(f"--by {args.by} needs --ports PORTS.json")
    summary = Summary(
        by=args.by, top_n=max(args.top, 0), l2_bytes=args.l2_bytes, ports=ports
    )
    if args.scheduler is not None:
        _summarize_on_cluster(summary, args)
        sources = []
    else:
        sources = list(readers(input_names(args, not args.live), args.strict))
    if args.live:
        source = source_from_args(args)
        text = collect_dump(source, types=args.types, timeout=args.timeout)
        sources.append(("<live>", DumpReader(text, on_error(args.strict), "<live>")))
    for name, reader in sources:
        if isinstance(reader.source, Path) and args.jobs > 1:
            summarize_file(summary, reader, args.jobs)
        else:
            summary.add_all(reader, name)
        summary.skipped.extend((name, s) for s in reader.skipped)
        summary.meta.extend(reader.meta)
    report_skipped(summary.skipped, sys.stderr)
    out = sys.stdout
    if args.format == "json":
        json.dump(summary.as_dict(), out, indent=2)
        out.write("\n")
    elif args.format == "csv":
        write_csv(summary, out)
    else:
        write_table(summary, out)
    return 0


def _summarize_on_cluster(summary: Summary, args: argparse.Namespace) -> None:
    names = input_names(args, not args.live)
    cluster = cluster_module(names, args.live)
    with cluster.connect(args.scheduler) as client:
        reports = cluster.summarize(
            summary, names, client, on_error=on_error(args.strict)
        )
    finish(reports, summary.skipped)
    summary.meta.extend(m for report in reports for m in report.meta)


def write_csv(summary: Summary, out: IO[str]) -> None:
    """One row per figure: scope, name, flows, packets, bytes."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["group", "scope", "name", "flows", "packets", "bytes"])
    scopes = [("", summary.totals)]
    scopes += [(f"{summary.by}={k}", summary.groups[k]) for k in summary.group_names()]
    for group, totals in scopes:
        writer.writerow([group, "total", "all", *totals.total.as_dict().values()])
        for cls, counts in totals.classes.items():
            writer.writerow([group, "class", cls, *counts.as_dict().values()])
        writer.writerow(
            [group, "offloaded", "hardware", *totals.offloaded.as_dict().values()]
        )
        for dp, counts in sorted(totals.by_dp.items()):
            writer.writerow([group, "dp", dp, *counts.as_dict().values()])


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.3f}%"


def _table(totals: Totals, out: IO[str], indent: str = "") -> None:
    t = totals.total
    r = totals.ratio
    rows = [("total", t.flows, t.packets, t.bytes)]
    rows += [(c, n.flows, n.packets, n.bytes) for c, n in totals.classes.items()]
    o = totals.offloaded
    rows.append(("in hardware", o.flows, o.packets, o.bytes))
    out.write(f"{indent}{'':<14} {'flows':>10} {'packets':>16} {'bytes':>20}\n")
    for name, flows, packets, nbytes in rows:
        out.write(f"{indent}{name:<14} {flows:>10} {packets:>16} {nbytes:>20}\n")
    out.write(
        f"{indent}{'hardware ratio':<14} {_pct(r['flows']):>10} "
        f"{_pct(r['packets']):>16} {_pct(r['bytes']):>20}\n"
    )
    if totals.by_dp:
        out.write(f"{indent}by datapath layer (dp):\n")
        for dp, n in sorted(totals.by_dp.items()):
            out.write(
                f"{indent}  {dp:<12} {n.flows:>10} {n.packets:>16} {n.bytes:>20}\n"
            )


def write_table(summary: Summary, out: IO[str]) -> None:
    """The summary for a terminal."""
    _table(summary.totals, out)
    if summary.by is not None:
        for key in summary.group_names():
            totals = summary.groups[key]
            out.write(f"\n{summary.by} = {key}\n")
            _table(totals, out, "  ")
    top = summary.top
    if top:
        out.write(f"\ntop {count(len(top), 'flow')} not in hardware, by packets:\n")
        for t in top:
            out.write(
                f"  {t.packets:>12} pkts  {t.offload_class:<11} {t.source}:{t.line}\n"
            )
            out.write(f"      {t.text}\n")
    for note in summary.notes():
        out.write(f"\nnote: {note}\n")


__all__ = ["register", "run", "write_csv", "write_table"]
