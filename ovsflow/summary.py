"""How much of a datapath is in hardware: offload classes and their totals.

Each flow falls in one offload class, decided from the attributes OVS prints
with ``dpctl/dump-flows -m`` (lib/dpctl.c, format_dpif_flow):

==============  ===========================================================
``hardware``    ``offloaded:yes``: the NIC (or TC in hardware) runs it
``partial``     ``offloaded:partial``: DPDK partial offload, the NIC only
                classifies and the actions run in software
``tc_software`` ``dp:tc`` without ``offloaded``: a TC rule running in
                software (the NIC refused it, or tc-policy keeps it there)
``software``    any other ``dp:`` (``ovs``, ``dpdk``, ``dummy``) without
                ``offloaded``
``unknown``     no ``-m`` attributes at all: the offload state is not in
                the dump
==============  ===========================================================

Packets and bytes of a ``hardware`` flow count as in hardware, except where
a vendor build reports ``offload_packets``/``offload_bytes``: those are the
flow's packets and bytes in hardware, and the rest ran in software.

The summary streams: it keeps counters and the top flows, never the flows.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ovsflow.dump import Skipped
from ovsflow.ports import PortTable
from ovsflow.records import Flow

CLASSES = ("hardware", "partial", "tc_software", "software", "unknown")

#: Bytes TC leaves out of each packet (the Ethernet header); ``l2_bytes``
#: adds them back so that dp:tc and dp:ovs byte counts compare.
ETH_HEADER_BYTES = 14


def offload_class(flow: Flow) -> str:
    """The offload class of a flow (see the module docstring)."""
    if flow.offloaded == "yes":
        return "hardware"
    if flow.offloaded == "partial":
        return "partial"
    if flow.offloaded is not None:
        return "unknown"  # an offloaded: value no OVS version prints
    if flow.dp == "tc":
        return "tc_software"
    if flow.dp is not None:
        return "software"
    return "unknown"


def hardware_counts(flow: Flow, cls: str | None = None) -> tuple[int, int]:
    """(packets, bytes) of a flow that the hardware handled.

    Vendor ``offload_packets``/``offload_bytes`` above the flow's own totals
    (two counters read at different moments) are capped at the totals, so
    that no share passes 100 %; :func:`overcounted` tells such flows.
    """
    stats = flow.stats
    hw_packets, hw_bytes = stats.offload_packets, stats.offload_bytes
    if hw_packets is not None or hw_bytes is not None:
        return min(hw_packets or 0, stats.packets), min(hw_bytes or 0, stats.bytes)
    if (cls or offload_class(flow)) == "hardware":
        return stats.packets, stats.bytes
    return 0, 0


def overcounted(flow: Flow) -> bool:
    """Whether a flow reports more packets or bytes in hardware than in all."""
    stats = flow.stats
    hw_packets, hw_bytes = stats.offload_packets, stats.offload_bytes
    return (hw_packets is not None and hw_packets > stats.packets) or (
        hw_bytes is not None and hw_bytes > stats.bytes
    )


@dataclass
class Counts:
    """Flows, packets and bytes."""

    flows: int = 0
    packets: int = 0
    bytes: int = 0

    def add(self, flows: int, packets: int, nbytes: int) -> None:
        self.flows += flows
        self.packets += packets
        self.bytes += nbytes

    def merge(self, other: Counts) -> None:
        self.add(other.flows, other.packets, other.bytes)

    def as_dict(self) -> dict[str, int]:
        return {"flows": self.flows, "packets": self.packets, "bytes": self.bytes}


def ratio(part: int, whole: int) -> float | None:
    """part/whole, or None when there is nothing to divide."""
    return part / whole if whole else None


@dataclass
class Totals:
    """The figures of the summary for one set of flows."""

    total: Counts = field(default_factory=Counts)
    classes: dict[str, Counts] = field(
        default_factory=lambda: {c: Counts() for c in CLASSES}
    )
    offloaded: Counts = field(default_factory=Counts)
    by_dp: dict[str, Counts] = field(default_factory=dict)
    #: Flows whose vendor hardware counters passed their totals (capped).
    capped: int = 0

    def add(self, flow: Flow, cls: str, l2_bytes: bool = False) -> None:
        stats = flow.stats
        packets, nbytes = stats.packets, stats.bytes
        if stats.extra:  # vendor counters may say what the hardware did
            hw_packets, hw_bytes = hardware_counts(flow, cls)
            if overcounted(flow):
                self.capped += 1
        elif cls == "hardware":  # what hardware_counts() gives, in short
            hw_packets, hw_bytes = packets, nbytes
        else:
            hw_packets = hw_bytes = 0
        if l2_bytes and flow.dp == "tc":
            nbytes += ETH_HEADER_BYTES * packets
            hw_bytes += ETH_HEADER_BYTES * hw_packets
        dp = flow.dp or "unknown"
        by_dp = self.by_dp.get(dp)
        if by_dp is None:
            by_dp = self.by_dp[dp] = Counts()
        # Counts.add, written out: this runs four times for every flow.
        for counts in (self.total, self.classes[cls], by_dp):
            counts.flows += 1
            counts.packets += packets
            counts.bytes += nbytes
        offloaded = self.offloaded
        offloaded.flows += cls == "hardware"
        offloaded.packets += hw_packets
        offloaded.bytes += hw_bytes

    def merge(self, other: Totals) -> None:
        """Add ``other``'s counts, as if its flows had been added here."""
        self.total.merge(other.total)
        for cls, counts in other.classes.items():
            self.classes[cls].merge(counts)
        self.offloaded.merge(other.offloaded)
        self.capped += other.capped
        for dp, counts in other.by_dp.items():
            self.by_dp.setdefault(dp, Counts()).merge(counts)

    @property
    def ratio(self) -> dict[str, float | None]:
        """Hardware share of flows, packets and bytes, as fractions of 1."""
        return {
            "flows": ratio(self.offloaded.flows, self.total.flows),
            "packets": ratio(self.offloaded.packets, self.total.packets),
            "bytes": ratio(self.offloaded.bytes, self.total.bytes),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.total.as_dict(),
            "classes": {c: n.as_dict() for c, n in self.classes.items()},
            "offloaded": self.offloaded.as_dict(),
            "ratio": self.ratio,
            "by_dp": {dp: n.as_dict() for dp, n in sorted(self.by_dp.items())},
        }


@dataclass(frozen=True, slots=True)
class TopFlow:
    """A flow not in hardware, among the busiest."""

    packets: int
    bytes: int
    offload_class: str
    source: str
    line: int
    flow: Flow

    @property
    def text(self) -> str:
        """The flow's line.  Printed only when asked for: a flow may enter
        the top and leave it again many times before the end (flows whose
        packets grow along the dump all do)."""
        return str(self.flow)


def _natural(name: str) -> tuple[tuple[int, int | str], ...]:
    """A sort key that orders the runs of digits in ``name`` by value."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part)
        for part in _DIGITS.split(name)
        if part
    )


_DIGITS = re.compile(r"([0-9]+)")


def _ip_proto(flow: Flow) -> Any:
    return flow.match.ip_proto


def _tun_dst(flow: Flow) -> Any:
    tunnel = flow.match.tunnel
    dst = tunnel.get("dst") if tunnel else None
    if dst is None and tunnel is not None:
        dst = tunnel.get("ipv6_dst")
    return getattr(dst, "value", None)


def _pod(flow: Flow, ports: PortTable | None) -> str | None:
    port = flow.match.in_port
    return None if ports is None or port is None else ports.pod(port)


def _namespace(flow: Flow, ports: PortTable | None) -> str | None:
    pod = _pod(flow, ports)
    return None if pod is None else pod.split("/", 1)[0]


#: What ``--by`` can group on: a name and how to read it from a flow and the
#: port table (None when there is none).
GROUPINGS: dict[str, Callable[[Flow, PortTable | None], Any]] = {
    "in_port": lambda f, _: f.match.in_port,
    "dp": lambda f, _: f.dp,
    "eth_type": lambda f, _: (
        f"0x{f.match.eth_type:04x}" if f.match.eth_type is not None else None
    ),
    "ip_proto": lambda f, _: _ip_proto(f),
    "tun_dst": lambda f, _: _tun_dst(f),
    "offload_class": lambda f, _: offload_class(f),
    # The pod behind the input port (the table's in_port_pod and
    # in_port_namespace): the traffic a pod sends.
    "pod": _pod,
    "namespace": _namespace,
}
#: The groupings that need a port table (``Summary(ports=...)``).
PORT_GROUPINGS = frozenset({"pod", "namespace"})


@dataclass
class Summary:
    """Offload figures of one or more dumps, built flow by flow.

    ``by`` names one of :data:`GROUPINGS`; ``pod`` and ``namespace`` read
    ``ports``, and a flow whose input port has no pod is in ``(none)``.
    """

    by: str | None = None
    top_n: int = 10
    l2_bytes: bool = False
    ports: PortTable | None = None
    totals: Totals = field(default_factory=Totals)
    groups: dict[str, Totals] = field(default_factory=dict)
    skipped: list[tuple[str, Skipped]] = field(default_factory=list)
    meta: list[dict[str, object]] = field(default_factory=list)
    _top: list[tuple[int, int, TopFlow]] = field(default_factory=list, repr=False)
    # Top flows kept so far: ties go to the one kept first.  (A plain int so
    # that a summary pickles: workers send theirs to the parent.)
    _kept: int = field(default=0, repr=False)

    def __post_init__(self) -> None:
        if self.by is not None and self.by not in GROUPINGS:
            known = ", ".join(GROUPINGS)
            raise ValueError(f"cannot group by {self.by!r}; expected one of {known}")
        if self.by in PORT_GROUPINGS and self.ports is None:
            raise ValueError(
                f"grouping by {self.by} needs a port table (ovsflow collect --ports)"
            )

    def add(self, flow: Flow, source: str = "") -> None:
        """Count one flow."""
        cls = offload_class(flow)
        self.totals.add(flow, cls, self.l2_bytes)
        if self.by is not None:
            value = GROUPINGS[self.by](flow, self.ports)
            name = "(none)" if value is None else str(value)
            self.groups.setdefault(name, Totals()).add(flow, cls, self.l2_bytes)
        if cls != "hardware" and self.top_n > 0:
            self._keep_top(flow, cls, source)

    def add_all(self, flows: Iterable[Flow], source: str = "") -> None:
        for flow in flows:
            self.add(flow, source)

    def _keep_top(self, flow: Flow, cls: str, source: str) -> None:
        packets = flow.stats.packets
        if len(self._top) >= self.top_n and packets <= self._top[0][0]:
            return
        nbytes = flow.stats.bytes
        if self.l2_bytes and flow.dp == "tc":
            nbytes += ETH_HEADER_BYTES * packets
        self._push_top(TopFlow(packets, nbytes, cls, source, flow.line, flow))

    def _push_top(self, top: TopFlow) -> None:
        self._kept += 1
        entry = (top.packets, -self._kept, top)
        if len(self._top) < self.top_n:
            heapq.heappush(self._top, entry)
        elif top.packets > self._top[0][0]:
            heapq.heapreplace(self._top, entry)

    def merge(self, other: Summary) -> None:
        """Add what ``other`` counted, as if its flows came after this one's.

        ``other`` must count alike (``by``, ``l2_bytes`` and ``top_n``); its
        top flows are taken in the order it kept them, so that ties go where
        one summary of all the flows would put them (a dump read in blocks
        by several processes and merged block by block keeps the top flows
        reading it in one process keeps).
        """
        mine = (self.by, self.l2_bytes, self.top_n)
        theirs = (other.by, other.l2_bytes, other.top_n)
        if theirs != mine:
            raise ValueError(
                "cannot merge summaries that count differently: "
                "by={!r}, l2_bytes={}, top_n={} into by={!r}, l2_bytes={}, "
                "top_n={}".format(*theirs, *mine)
            )
        self.totals.merge(other.totals)
        for key, totals in other.groups.items():
            self.groups.setdefault(key, Totals()).merge(totals)
        if self.top_n > 0:
            # Entries are (packets, -order kept, flow).
            for _, _, top in sorted(other._top, key=lambda e: -e[1]):
                self._push_top(top)
        self.skipped.extend(other.skipped)
        self.meta.extend(other.meta)

    def group_names(self) -> list[str]:
        """The groups' names in order: numbers in them by value (``p2``
        before ``p10``, port 9 before port 10), the rest as text."""
        return sorted(self.groups, key=_natural)

    @property
    def top(self) -> list[TopFlow]:
        """The busiest flows not in hardware, most packets first."""
        return [t for _, _, t in sorted(self._top, reverse=True)]

    @property
    def without_m(self) -> bool:
        """True when no flow carries -m attributes, so offload is unknown."""
        t = self.totals
        return t.total.flows > 0 and t.classes["unknown"].flows == t.total.flows

    def as_dict(self) -> dict[str, Any]:
        """The summary as the JSON object ``ovsflow summarize`` prints."""
        out = self.totals.as_dict()
        out["l2_bytes"] = self.l2_bytes
        out["top_not_hardware"] = [
            {
                "packets": t.packets,
                "bytes": t.bytes,
                "class": t.offload_class,
                "source": t.source,
                "line": t.line,
                "flow": t.text,
            }
            for t in self.top
        ]
        if self.by is not None:
            out["by"] = {
                "field": self.by,
                "groups": {k: self.groups[k].as_dict() for k in self.group_names()},
            }
        out["skipped_lines"] = [
            {"source": src, "line": s.line, "reason": s.reason}
            for src, s in self.skipped
        ]
        out["notes"] = self.notes()
        out["sources"] = self.meta
        return out

    def notes(self) -> list[str]:
        """Plain-language warnings about what the figures cannot show."""
        notes = []
        if self.totals.total.flows == 0:
            notes.append("no flows were read: is the input empty?")
        if self.totals.capped:
            n = self.totals.capped
            notes.append(
                f"{n} {'flow reports' if n == 1 else 'flows report'} more "
                "packets or bytes in hardware (offload_packets/offload_bytes) "
                "than in all, as when the two counters are read at different "
                "moments; the hardware figures are capped at the totals"
            )
        if self.without_m:
            notes.append(
                "the dump was taken without -m (no offloaded:/dp: attributes), so "
                "whether its flows are in hardware cannot be known; take it with "
                "'ovs-appctl dpctl/dump-flows -m'"
            )
        elif self.totals.classes["unknown"].flows:
            notes.append(
                f"{self.totals.classes['unknown'].flows} flows carry no -m "
                "attributes; their offload state is unknown"
            )
        if self.l2_bytes:
            notes.append(
                "bytes of dp:tc flows include the 14-byte Ethernet header "
                "(--l2-bytes), as the other datapaths count them"
            )
        elif "tc" in self.totals.by_dp and len(self.totals.by_dp) > 1:
            notes.append(
                "bytes are as dumped: TC counts them without the 14-byte Ethernet "
                "header and the other datapaths with it; --l2-bytes adds it back"
            )
        if self.skipped:
            notes.append(f"{len(self.skipped)} lines were skipped (see skipped_lines)")
        return notes
