"""``ovsflow explain``: why flows are not in hardware, grouped by reason."""

from __future__ import annotations

import argparse
import json
import sys
from typing import IO, Any

from ovsflow.cli._common import (
    add_input_arguments,
    count,
    input_names,
    readers,
    report_skipped,
    whole_number,
)
from ovsflow.cli._ports import add_ports_argument, ports_from_args
from ovsflow.explain import Report, default_rules, disable, load_rules


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "explain",
        help="why flows are not in hardware, grouped by reason",
        description=(
            "List the flows of datapath dumps that are not in hardware under "
            "each reason the rules find (docs/explain.md), biggest blocker "
            "(most packets) first. A flow with several reasons is listed under "
            "each; flows no rule explains are listed under '(no rule)'."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_input_arguments(parser)
    parser.add_argument(
        "--rules",
        action="append",
        default=[],
        metavar="FILE",
        help="a JSON rule file added to the built-in rules (a rule with a "
        "built-in name replaces it); may be repeated",
    )
    parser.add_argument(
        "--disable",
        action="append",
        default=[],
        metavar="NAME",
        help="switch a rule off; may be repeated",
    )
    add_ports_argument(
        parser, "maps in_port to interfaces and pods; needed by in_port_not_representor"
    )
    parser.add_argument(
        "--top",
        type=whole_number(0),
        default=10,
        metavar="N",
        help="list the N busiest flows under each reason (totals count all)",
    )
    parser.add_argument(
        "--format", choices=("table", "json"), default="table", help="output format"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    rules = default_rules()
    for path in args.rules:
        rules = load_rules(path, rules)
    rules = disable(rules, args.disable)
    ports = ports_from_args(args)
    report = Report(rules=rules, ports=ports, limit=max(args.top, 0))
    skipped: list[tuple[str, object]] = []
    for name, reader in readers(input_names(args), args.strict):
        report.add_all(reader, name)
        skipped.extend((name, s) for s in reader.skipped)
    report_skipped(skipped, sys.stderr)
    if args.format == "json":
        document = report.as_dict()
        document["skipped_lines"] = len(skipped)
        json.dump(document, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        write_table(report, sys.stdout)
    return 0


def write_table(report: Report, out: IO[str]) -> None:
    """The report for a terminal: one block per reason, biggest first."""
    out.write(
        f"flows not in hardware: {report.explained} "
        f"(in hardware: {report.in_hardware})\n"
    )
    for group in report.sorted_groups():
        out.write(
            f"\n{group.rule}: {count(group.flows, 'flow')}, "
            f"{count(group.packets, 'packet')}, {count(group.bytes, 'byte')}\n"
            f"  {group.title}\n"
        )
        for item in group.items:
            evidence = next(
                (r.evidence for r in item.reasons if r.rule == group.rule), ""
            )
            out.write(
                f"  {item.packets:>12} pkts  {item.offload_class:<11} "
                f"{item.source}:{item.line}  {evidence}\n"
            )
            extra = _context(item.in_port, item.ovn)
            if extra:
                out.write(f"      {extra}\n")
            out.write(f"      {item.text}\n")
        hidden = group.flows - len(group.items)
        if hidden > 0:
            out.write(f"  ... and {count(hidden, 'more flow')} (see --top)\n")


def _context(in_port: dict[str, Any] | None, ovn: dict[str, object] | None) -> str:
    parts = []
    if in_port is not None:
        where = f"in_port {in_port['name']}"
        if in_port.get("pod"):
            where += f" = pod {in_port['pod']}"
        parts.append(where)
    if ovn is not None:
        parts.append(
            f"ovn {ovn['direction']}: datapath {ovn['datapath']}, "
            f"ingress port {ovn['ingress_port']}, egress port {ovn['egress_port']}"
        )
    return "; ".join(parts)


__all__ = ["register", "run", "write_table"]
