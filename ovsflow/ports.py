"""The port table: datapath port numbers and names to interfaces and pods.

A dump names ports by datapath port number (``in_port(3)``, ``actions:5``) or,
with ``--names``, by datapath port name.  Datapath numbers are not OpenFlow
port numbers: OVS gives each port of a datapath its own number, and tunnel
ports of all bridges share one datapath port (``vxlan_sys_4789``).  So the
table is built from three outputs that ``ovsflow collect`` saves together:

- ``ovs-vsctl --format=json list Interface``: names, ``type``, ``ofport``,
  ``external_ids`` (pods), ``status`` (``driver_name``);
- ``ovs-appctl dpctl/show``: ``port N: NAME (TYPE)``, datapath numbers and
  names, tunnel vports included;
- ``ovs-appctl dpif/show``: ``NAME OFPORT/DPPORT: (TYPE)`` for each bridge,
  which ties an interface to its datapath number.

Pods come from ``external_ids`` as the CNIs set them:

- Kube-OVN (``pkg/daemon/ovs_linux.go``): ``pod_name``, ``pod_namespace``
  and ``iface-id`` = ``POD.NAMESPACE`` (``POD.NAMESPACE.PROVIDER`` on
  attachment networks);
- OVN-Kubernetes (``pkg/cni/helper_linux.go``, ``util.GetIfaceId``):
  ``iface-id`` = ``NAMESPACE_POD`` (a network prefix in front on secondary
  networks), next to ``iface-id-ver``, ``sandbox`` and ``attached_mac``.
  Kubernetes names never contain ``_``, so the last two ``_`` fields are the
  namespace and the pod.

Lookups are dictionary reads, cheap enough for every flow of a large dump.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ovsflow._jsonfile import read_json_file
from ovsflow.errors import InputError

__all__ = [
    "PORTS_FORMAT",
    "REPRESENTOR_DRIVERS",
    "Interface",
    "PortTable",
    "load",
    "parse_dpctl_show",
    "parse_dpif_show",
    "parse_interfaces",
]

#: The ``format`` value of a port file that ``ovsflow collect`` writes.
PORTS_FORMAT = "ovsflow-ports/1"

#: Kernel drivers whose netdevs are switchdev representors (``ethtool -i``,
#: reported by OVS in ``Interface:status:driver_name``).  mlx5e_rep: NVIDIA
#: ConnectX (drivers/net/ethernet/mellanox/mlx5/core/en_rep.c); nfp: Netronome
#: (nfp_net_repr.c reports the nfp driver).  Extend with ``PortTable(...,
#: representor_drivers=...)`` for other NICs.
REPRESENTOR_DRIVERS = frozenset({"mlx5e_rep", "nfp"})

# Interface types of tunnel ports; TC offloads decapsulation on these.
_TUNNEL_TYPES = frozenset(
    {"geneve", "vxlan", "gre", "erspan", "ip6gre", "ip6erspan", "gtpu", "bareudp",
     "stt", "lisp", "srv6"}
)  # fmt: skip
# Interface types and drivers that no NIC offloads a flow from.
_SOFTWARE_TYPES = frozenset(
    {"internal", "patch", "dummy", "dummy-internal", "tap", "dummy-pmd"}
)
_SOFTWARE_DRIVERS = frozenset({"veth", "tun", "openvswitch", "bridge"})


@dataclass(frozen=True, slots=True)
class Interface:
    """One OVS interface (or a datapath port that has no Interface row).

    ``type`` is the Interface ``type`` (``""`` for a system netdev) or, for a
    datapath-only port, the type ``dpctl/show`` prints (``vxlan``).
    ``dp_port`` is its datapath port number, when known.
    """

    name: str
    type: str = ""
    ofport: int | None = None
    dp_port: int | None = None
    bridge: str | None = None
    external_ids: tuple[tuple[str, str], ...] = ()
    status: tuple[tuple[str, str], ...] = ()

    @property
    def ids(self) -> dict[str, str]:
        """``external_ids`` as a dict."""
        return dict(self.external_ids)

    @property
    def driver(self) -> str | None:
        """The kernel driver OVS reports in ``status:driver_name``."""
        return dict(self.status).get("driver_name")

    @property
    def iface_id(self) -> str | None:
        return self.ids.get("iface-id")

    @property
    def cni(self) -> str | None:
        """``kube-ovn`` or ``ovn-kubernetes`` when its ids say so."""
        ids = self.ids
        if "pod_name" in ids and "pod_namespace" in ids:
            return "kube-ovn"
        iface_id = ids.get("iface-id", "")
        ovnk = {"iface-id-ver", "sandbox", "attached_mac"} & ids.keys()
        if ovnk and "_" in iface_id:
            return "ovn-kubernetes"
        return None

    @property
    def namespace_pod(self) -> tuple[str, str] | None:
        """(namespace, pod) of the pod behind this interface, if any."""
        ids = self.ids
        cni = self.cni
        if cni == "kube-ovn":
            return ids["pod_namespace"], ids["pod_name"]
        if cni == "ovn-kubernetes":
            *_, namespace, pod = ids["iface-id"].split("_")
            return namespace, pod
        return None

    @property
    def pod(self) -> str | None:
        """``namespace/pod``, or None."""
        found = self.namespace_pod
        return f"{found[0]}/{found[1]}" if found else None

    def kind(self, representor_drivers: Iterable[str] = REPRESENTOR_DRIVERS) -> str:
        """``representor``, ``tunnel``, ``software`` or ``unknown``.

        ``software``: an internal, patch, dummy, veth or tap port, from which
        no NIC offloads a flow.  ``unknown``: a system netdev whose driver the
        table does not know (an uplink, a DPDK port, a NIC not listed).
        """
        kind = self.type.split(":")[0]
        if kind in _TUNNEL_TYPES:
            return "tunnel"
        driver = self.driver
        if driver in set(representor_drivers) or "vf-netdev-name" in self.ids:
            return "representor"
        if kind in _SOFTWARE_TYPES or driver in _SOFTWARE_DRIVERS:
            return "software"
        return "unknown"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "ofport": self.ofport,
            "dp_port": self.dp_port,
            "bridge": self.bridge,
            "pod": self.pod,
            "cni": self.cni,
            "iface_id": self.iface_id,
        }


@dataclass
class PortTable:
    """Interfaces by name and by datapath port number and name.

    >>> table = PortTable([Interface("p1", "dummy", 1, 7, "br1",
    ...     (("pod_name", "web"), ("pod_namespace", "shop")))])
    >>> table.lookup(7).name, table.pod(7), table.pod("p1")
    ('p1', 'shop/web', 'shop/web')
    """

    interfaces: list[Interface] = field(default_factory=list)
    dp_ports: dict[int, tuple[str, str]] = field(default_factory=dict)
    representor_drivers: frozenset[str] = REPRESENTOR_DRIVERS
    _by_name: dict[str, Interface] = field(default_factory=dict, repr=False)
    _by_dp: dict[int, list[Interface]] = field(default_factory=dict, repr=False)
    _dp_by_name: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for iface in self.interfaces:
            self._by_name.setdefault(iface.name, iface)
            if iface.dp_port is not None:
                self._by_dp.setdefault(iface.dp_port, []).append(iface)
        self._dp_by_name = {name: n for n, (name, _) in self.dp_ports.items()}

    def lookup(self, port: int | str | object) -> Interface | None:
        """The interface behind a datapath port number or name, or None.

        A datapath port shared by several interfaces (the tunnel vport of
        every VXLAN interface) gives that datapath port itself.
        """
        if isinstance(port, str) and not port.isdigit():
            iface = self._by_name.get(port)
            if iface is not None:
                return iface
            number = self._dp_by_name.get(port)
            return None if number is None else self._by_number(number)
        if isinstance(port, (int, str)):
            return self._by_number(int(port))
        return None

    def _by_number(self, number: int) -> Interface | None:
        found = self._by_dp.get(number, [])
        if len(found) == 1:
            return found[0]
        dp = self.dp_ports.get(number)
        if dp is not None:
            name, kind = dp
            named = self._by_name.get(name)
            return named if named is not None else Interface(name, kind, None, number)
        return None

    def pod(self, port: int | str | object) -> str | None:
        """``namespace/pod`` behind a datapath port, or None."""
        iface = self.lookup(port)
        return iface.pod if iface else None

    def kind(self, port: int | str | object) -> str | None:
        """:meth:`Interface.kind` of a datapath port, None when it is unknown."""
        iface = self.lookup(port)
        return iface.kind(self.representor_drivers) if iface else None

    @classmethod
    def from_outputs(
        cls,
        interfaces: Mapping[str, Any] | str,
        dpctl_show: str = "",
        dpif_show: str = "",
    ) -> PortTable:
        """The table from the three outputs (the JSON may be text or parsed)."""
        rows = parse_interfaces(interfaces)
        dp_ports = parse_dpctl_show(dpctl_show)
        placed = parse_dpif_show(dpif_show)
        merged = []
        for iface in rows:
            bridge, ofport, dp_port = placed.get(iface.name, (None, None, None))
            merged.append(
                Interface(
                    iface.name,
                    iface.type,
                    iface.ofport if iface.ofport is not None else ofport,
                    dp_port,
                    bridge,
                    iface.external_ids,
                    iface.status,
                )
            )
        return cls(merged, dp_ports)


def load(path: str | Path) -> PortTable:
    """Read a port file written by ``ovsflow collect`` (or a bare
    ``ovs-vsctl --format=json list Interface``, which maps names only).

    Raises :class:`~ovsflow.errors.InputError` naming the file and the problem.
    """
    name = str(path)
    document = read_json_file(path, "port file")
    try:
        if isinstance(document, dict) and document.get("format") == PORTS_FORMAT:
            return PortTable.from_outputs(
                document["interfaces"],
                document.get("dpctl_show", ""),
                document.get("dpif_show", ""),
            )
        return PortTable.from_outputs(document)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"port file {name!r}: {exc}") from exc


def parse_interfaces(document: Mapping[str, Any] | str) -> list[Interface]:
    """Interfaces from ``ovs-vsctl --format=json list Interface``.

    The JSON has ``headings`` and ``data`` rows of OVSDB values: atoms,
    ``["set", [...]]`` (empty: no value) and ``["map", [[k, v], ...]]``.
    """
    if isinstance(document, str):
        document = json.loads(document)
    if not isinstance(document, Mapping) or "headings" not in document:
        raise ValueError(
            "expected the JSON of 'ovs-vsctl --format=json list Interface' "
            "(an object with 'headings' and 'data')"
        )
    headings = list(document["headings"])
    if "name" not in headings:
        raise ValueError("the Interface table has no 'name' column")
    out = []
    for row in document["data"]:
        cells = dict(zip(headings, (_ovsdb(v) for v in row), strict=False))
        ofport = cells.get("ofport")
        out.append(
            Interface(
                name=str(cells["name"]),
                type=str(cells.get("type") or ""),
                ofport=ofport if isinstance(ofport, int) and ofport >= 0 else None,
                external_ids=_pairs(cells.get("external_ids")),
                status=_pairs(cells.get("status")),
            )
        )
    return out


def _ovsdb(value: Any) -> Any:
    """An OVSDB JSON value as Python: a set of one is its element."""
    if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str):
        tag, body = value
        if tag == "map":
            return {str(k): str(_ovsdb(v)) for k, v in body}
        if tag == "set":
            items = [_ovsdb(v) for v in body]
            return None if not items else items[0] if len(items) == 1 else items
        if tag in ("uuid", "named-uuid"):
            return body
    return value


def _pairs(value: Any) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(value.items())) if isinstance(value, dict) else ()


# "  port 4: vxlan_sys_4789 (vxlan: packet_type=ptap)" (lib/dpctl.c, show_dpif)
_DPCTL_PORT = re.compile(r"^\s+port (\d+): (\S+)(?: \(([^)]*)\))?\s*$")
# "    p1 1/1: (dummy)" under "  br1:" (ofproto/ofproto-dpif.c, dpif_show_backer)
_DPIF_BRIDGE = re.compile(r"^  (\S+):\s*$")
_DPIF_PORT = re.compile(r"^    (\S+) (\d+|none)/(\d+|none):")


def parse_dpctl_show(text: str) -> dict[int, tuple[str, str]]:
    """{datapath port number: (name, type)} from ``dpctl/show``.

    With several datapaths in one output their numbers can clash; the first
    datapath wins.  TODO(ports): key by datapath when a dump says which one.
    """
    ports: dict[int, tuple[str, str]] = {}
    for line in text.splitlines():
        found = _DPCTL_PORT.match(line)
        if found:
            kind = (found.group(3) or "").split(":")[0].strip()
            ports.setdefault(int(found.group(1)), (found.group(2), kind))
    return ports


def parse_dpif_show(text: str) -> dict[str, tuple[str, int | None, int | None]]:
    """{interface: (bridge, ofport, datapath port)} from ``dpif/show``."""
    placed: dict[str, tuple[str, int | None, int | None]] = {}
    bridge = ""
    for line in text.splitlines():
        head = _DPIF_BRIDGE.match(line)
        if head:
            bridge = head.group(1)
            continue
        found = _DPIF_PORT.match(line)
        if found and bridge:
            name, ofport, dp_port = found.groups()
            placed[name] = (bridge, _number(ofport), _number(dp_port))
    return placed


def _number(text: str) -> int | None:
    return None if text == "none" else int(text)
