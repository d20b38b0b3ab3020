"""``ovsflow report``: one self-contained HTML page with charts."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from ovsflow.cli._common import (
    add_input_arguments,
    add_l2_bytes_argument,
    count,
    input_names,
    readers,
    report_skipped,
    whole_number,
)
from ovsflow.cli._ports import add_ports_argument, ports_from_args


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "report",
        help="an HTML page with the summary and charts of one or more dumps",
        description=(
            "Write one HTML page that opens with no network: the offload summary, "
            "why flows are not in hardware (the rules of 'ovsflow explain'), "
            "charts of the hardware share by datapath layer, by input port, by "
            "pod (with --ports) and (several dumps) over time, and the busiest "
            "flows not in hardware. "
            "Dumps are put in time order by the capture time of their "
            "'# ovsflow-meta:' header, else by file modification time."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_input_arguments(parser)
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="FILE",
        help="where to write the page (for example report.html)",
    )
    parser.add_argument(
        "--top",
        type=whole_number(0),
        default=10,
        metavar="N",
        help="list the N busiest flows not in hardware (0: none)",
    )
    add_l2_bytes_argument(parser)
    add_ports_argument(
        parser, "adds the share by pod and namespace, and the rules on input ports"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Imported here: matplotlib takes a second to load, and the other
    # subcommands should not pay for it.
    from ovsflow.report import load_readers, save_report

    start = time.perf_counter()
    ports = ports_from_args(args)
    loaded = load_readers(
        (reader for _, reader in readers(input_names(args), args.strict)),
        ports=ports,
    )
    report_skipped([(d.source, s) for d in loaded.dumps for s in d.skipped], sys.stderr)
    size = save_report(
        loaded, args.output, top=max(args.top, 0), l2_bytes=args.l2_bytes
    )
    elapsed = time.perf_counter() - start
    print(
        f"ovsflow: wrote {args.output} ({size:,} bytes): "
        f"{count(len(loaded.df), 'flow')} from {count(len(loaded.dumps), 'dump')} "
        f"in {elapsed:.1f}s",
        file=sys.stderr,
    )
    return 0


__all__ = ["register", "run"]
