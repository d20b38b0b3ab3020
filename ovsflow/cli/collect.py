"""``ovsflow collect``: save the datapath flows of a running OVS, with metadata."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import replace
from pathlib import Path

from ovsflow.collect import (
    DEFAULT_NAMESPACE,
    DUMP_TYPES,
    Snapshot,
    Source,
    collect_ports,
    collect_series,
    collect_tc,
    dump_devices,
    snapshot_path,
)
from ovsflow.errors import CollectError

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``collect`` subcommand."""
    parser = subparsers.add_parser(
        "collect",
        help="dump the datapath flows of a running OVS, with a metadata header",
        description=(
            "Run 'ovs-appctl dpctl/dump-flows -m' on the local OVS, on a given "
            "control socket, or in a Kubernetes pod, and write what it printed "
            "after a '# ovsflow-meta:' header line."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_source_arguments(parser)
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write here instead of stdout; for a series, a directory or a name "
        "with {n} or {time}",
    )
    parser.add_argument(
        "--every",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="interval between the snapshots of a series",
    )
    parser.add_argument(
        "--count", type=int, default=1, metavar="N", help="how many snapshots"
    )
    parser.add_argument(
        "--ports",
        metavar="FILE",
        help="also save the port table (ovs-vsctl list Interface, dpctl/show, "
        "dpif/show) as JSON here, for 'ovsflow explain --ports'",
    )
    parser.add_argument(
        "--tc",
        metavar="FILE",
        help="also save 'tc -s filter show dev DEV ingress' of every input port "
        "of the dump here",
    )
    parser.add_argument(
        "--db",
        metavar="REMOTE",
        help="OVSDB remote for ovs-vsctl (--ports), e.g. unix:/run/openvswitch/db.sock",
    )
    parser.set_defaults(func=run)


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that say where OVS is (shared with ``summarize --live``)."""
    parser.add_argument(
        "--target",
        metavar="PATH",
        help="ovs-vswitchd control socket (or daemon name), as 'ovs-appctl -t' "
        "takes it",
    )
    parser.add_argument("--pod", help="run inside this pod through 'kubectl exec'")
    parser.add_argument(
        "-n",
        "--namespace",
        default=DEFAULT_NAMESPACE,
        help="namespace of --pod (Kube-OVN runs its ovs-ovn pods here)",
    )
    parser.add_argument("-c", "--container", help="container of --pod")
    parser.add_argument("--context", help="kubeconfig context for kubectl")
    parser.add_argument(
        "--type",
        dest="types",
        metavar="TYPES",
        help="dump only these flow types, comma-separated: " + ", ".join(DUMP_TYPES),
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="give up on a command after this long",
    )


def source_from_args(args: argparse.Namespace) -> Source:
    """The :class:`~ovsflow.collect.Source` the parsed options describe."""
    for option in ("namespace", "container", "context"):
        given = getattr(args, option) not in (None, DEFAULT_NAMESPACE)
        if given and not args.pod:
            raise CollectError(f"--{option} only applies together with --pod")
    return Source(
        target=args.target,
        pod=args.pod,
        namespace=args.namespace,
        container=args.container,
        context=args.context,
    )


def run(args: argparse.Namespace) -> int:
    """Collect one snapshot or a series and write it out."""
    source = source_from_args(args)
    if getattr(args, "db", None):
        source = replace(source, db=args.db)
    extras = args.ports or args.tc
    if extras and args.count > 1:
        raise CollectError("--ports and --tc go with a single snapshot, not --count")
    if args.count > 1 and args.output is None:
        raise CollectError(
            "a series (--count above 1) needs -o with {n} or {time}, or a directory"
        )
    if args.count > 1:
        # Check the pattern before waiting for the first snapshot.
        snapshot_path(args.output, 1, Snapshot(text="").time)
    series = collect_series(
        source,
        count=args.count,
        every=args.every,
        types=args.types,
        timeout=args.timeout,
    )
    for n, snapshot in enumerate(series, start=1):
        _write(snapshot, args.output, n, single=args.count == 1)
        if args.ports:
            document = collect_ports(source, timeout=args.timeout)
            _save(Path(args.ports), json.dumps(document, indent=1) + "\n")
        if args.tc:
            devices = dump_devices(snapshot.text, source, timeout=args.timeout)
            _save(Path(args.tc), collect_tc(devices, source, timeout=args.timeout))
    return 0


def _save(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CollectError(f"cannot write {str(path)!r}: {exc.strerror}") from exc
    logger.info("wrote %s", path)


def _write(snapshot: Snapshot, output: str | None, n: int, *, single: bool) -> None:
    if output is None:
        sys.stdout.write(snapshot.text)
        return
    pattern = "{n" in output or "{time" in output or Path(output).is_dir()
    if single and not pattern:
        path = Path(output)
    else:
        path = snapshot_path(output, n, snapshot.time)
    try:
        path.write_text(snapshot.text)
    except OSError as exc:
        raise CollectError(f"cannot write {str(path)!r}: {exc.strerror}") from exc
    logger.info("wrote %s", path)
