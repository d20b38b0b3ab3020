"""``ovsflow vf list|show|set``: SR-IOV physical functions and their VFs."""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Iterable

from ovsflow import sriov
from ovsflow.cli._help import DefaultsFormatter

_FORMATTER = DefaultsFormatter


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``vf`` and its subcommands to the top-level parser."""
    common = argparse.ArgumentParser(add_help=False, formatter_class=_FORMATTER)
    common.add_argument(
        "--sysfs-root",
        default=str(sriov.DEFAULT_SYSFS_ROOT),
        metavar="PATH",
        help="where sysfs is mounted (a copy for tests and dry runs)",
    )
    common.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="output format",
    )

    parser = subparsers.add_parser(
        "vf",
        help="list SR-IOV NICs and set their number of VFs",
        description="List SR-IOV physical functions and set their number of VFs.",
    )
    vf_sub = parser.add_subparsers(dest="vf_command", metavar="ACTION", required=True)

    listing = vf_sub.add_parser(
        "list",
        parents=[common],
        formatter_class=_FORMATTER,
        help="every SR-IOV capable NIC and its VFs",
        description="List every SR-IOV capable PCI device and its VFs.",
    )
    listing.add_argument("--vendor", help="only this vendor ID, e.g. 1f47")
    listing.add_argument("--device", help="only this PF device ID, e.g. 1001")
    listing.set_defaults(func=_run_list)

    show = vf_sub.add_parser(
        "show",
        parents=[common],
        formatter_class=_FORMATTER,
        help="one NIC and its VFs",
        description="Show one SR-IOV physical function and its VFs.",
    )
    show.add_argument("pf", metavar="PF", help="PCI address (0000:00:0a.0) or ifname")
    show.set_defaults(func=_run_show)

    setter = vf_sub.add_parser(
        "set",
        parents=[common],
        formatter_class=_FORMATTER,
        help="set the number of VFs of one NIC",
        description=(
            "Write sriov_numvfs of one physical function, then read it back and"
            " check the count and the virtfn links."
        ),
    )
    setter.add_argument("pf", metavar="PF", help="PCI address (0000:00:0a.0) or ifname")
    setter.add_argument("numvfs", metavar="N", type=int, help="number of VFs wanted")
    setter.add_argument(
        "--no-reset",
        dest="reset",
        action="store_false",
        help="do not write 0 first when changing a non-zero count (the kernel"
        " refuses that change)",
    )
    setter.add_argument(
        "--dry-run",
        action="store_true",
        help="print the writes that would be done and do none",
    )
    setter.set_defaults(func=_run_set)


def _run_list(args: argparse.Namespace) -> int:
    pfs = sriov.list_pfs(args.sysfs_root, vendor=args.vendor, device=args.device)
    if args.format == "json":
        _print_json([dataclasses.asdict(pf) for pf in pfs])
    elif not pfs:
        print("no SR-IOV capable devices found")
    else:
        print(_pf_table(pfs, with_vfs=True))
    return 0


def _run_show(args: argparse.Namespace) -> int:
    pf = sriov.find_pf(args.pf, args.sysfs_root)
    if args.format == "json":
        _print_json(dataclasses.asdict(pf))
    else:
        print(_pf_table([pf], with_vfs=True))
    return 0


def _run_set(args: argparse.Namespace) -> int:
    if args.dry_run:
        pf = sriov.find_pf(args.pf, args.sysfs_root)
        writes = sriov.plan_numvfs(pf, args.numvfs, args.sysfs_root, reset=args.reset)
        if args.format == "json":
            _print_json([{"path": str(w.path), "value": w.value} for w in writes])
        else:
            for write in writes:
                print(write)
        return 0

    pf = sriov.set_numvfs(args.pf, args.numvfs, args.sysfs_root, reset=args.reset)
    if args.format == "json":
        _print_json(dataclasses.asdict(pf))
    else:
        print(_pf_table([pf], with_vfs=True))
    return 0


def _pf_table(pfs: Iterable[sriov.PhysicalFunction], *, with_vfs: bool) -> str:
    rows: list[tuple[str, ...]] = [
        ("PCI", "ID", "DRIVER", "NETDEV", "VFS", "VF PCI", "VF NETDEV")
    ]
    for pf in pfs:
        vfs = f"{pf.sriov_numvfs}/{pf.sriov_totalvfs}"
        ident = f"{pf.vendor}:{pf.device}"
        driver, netdev = _or_dash(pf.driver), _or_dash(pf.netdev)
        rows.append((pf.pci_address, ident, driver, netdev, vfs, "", ""))
        for vf in pf.vfs if with_vfs else ():
            vf_ident = f"{pf.vendor}:{vf.device}"
            vf_driver, vf_netdev = _or_dash(vf.driver), _or_dash(vf.netdev)
            index = f"#{vf.index}"
            rows.append(("", vf_ident, vf_driver, "", index, vf.pci_address, vf_netdev))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows
    ]
    return "\n".join(line.rstrip() for line in lines)


def _or_dash(value: str | None) -> str:
    return value if value else "-"


def _print_json(value: object) -> None:
    print(json.dumps(value, indent=2))
