"""Put flows of every kind into a sandbox OVS's dummy datapath, and dump them.

:func:`build` creates three bridges on the one ``ovs-dummy`` datapath, installs
OpenFlow rules, and :func:`inject` sends the frames of :data:`INJECTIONS`, so
that the datapath holds flows with IPv4/IPv6 TCP, UDP and ICMP, ARP and
neighbour discovery, VLAN push/pop, MPLS, conntrack with NAT and recirculation,
VXLAN and Geneve (with a TLV option) push and pop, a meter, ``clone``,
``sample`` (sFlow and IPFIX, exported to listeners on 127.0.0.1), ``check_pkt_len``,
a ``hash`` select group, a controller action and ``drop``.

Topology (ODP port numbers follow the digits in the names, see
``choose_port()`` in OVS's ``lib/dpif-netdev.c``)::

    br0 (underlay, 192.0.2.1/24) -- phy30 ...... "remote" 192.0.2.2
    br1 (overlay)  -- p1..p24, vxlan40 and geneve41 towards 192.0.2.2
    br2 (sFlow)    -- p17 -> p18

Expected counters come from the frames alone: the first frame of each
megaflow reaches ``ovs-vswitchd`` as an upcall, and ``dpif-netdev`` does not
add an upcalled packet to the flow it installs (``handle_packet_upcall()``),
so a megaflow that saw ``n`` frames shows ``n - 1`` of them.
"""

from __future__ import annotations

import json
import re
import shlex
import socket
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import packets as pk
from helpers import DATA
from ovs import ALLOWED_PORT_TYPES, OvsSandbox

from ovsflow.collect import DUMP_TYPES


def expected() -> dict[str, Any]:
    """What tests/capture_ovs_dumps.py wrote: counters from the frames sent."""
    return json.loads((DATA / "ovs-dummy-expected.json").read_text())  # type: ignore[no-any-return]


LOCAL_IP = "192.0.2.1"
REMOTE_IP = "192.0.2.2"
BR0_MAC = "02:00:00:00:00:01"
REMOTE_MAC = "02:00:00:00:00:02"
HOST_A = "02:00:00:00:0a:01"
HOST_B = "02:00:00:00:0b:01"
A4, B4 = "198.51.100.10", "198.51.100.20"
VXLAN_VNI = 100
GENEVE_VNI = 200
GENEVE_OPTION = pk.geneve_option(0xFFFF, 0x80, (0xA).to_bytes(4, "big"))

#: Dummy ports per bridge; the number in each name is its OpenFlow port too.
BRIDGE_PORTS = {
    "br0": ("phy30",),
    "br1": tuple(f"p{n}" for n in [*range(1, 17), 19, 21, 22, 23, 24]),
    "br2": ("p17", "p18"),
}

BR1_RULES = (
    # IPv4 and IPv6, TCP, UDP and ICMP; ARP; neighbour discovery.
    "in_port=1,tcp,tp_dst=80,actions=output:2",
    "in_port=1,udp,tp_dst=53,actions=output:2",
    "in_port=1,icmp,icmp_type=8,actions=output:2",
    "in_port=3,tcp6,tp_dst=443,actions=output:2",
    "in_port=3,udp6,tp_dst=53,actions=output:2",
    "in_port=3,icmp6,icmp_type=128,actions=output:2",
    "in_port=3,icmp6,icmp_type=135,nd_target=2001:db8::1,actions=output:2",
    "in_port=3,icmp6,icmp_type=136,nd_target=2001:db8::2,actions=output:2",
    "in_port=4,arp,arp_op=1,arp_tpa=198.51.100.1,actions=output:2",
    "in_port=4,arp,arp_op=2,arp_spa=198.51.100.1,actions=output:2",
    # VLAN push on the way in, pop on the way back; MPLS push and pop.
    "in_port=5,actions=mod_vlan_vid:10,output:6",
    "in_port=6,dl_vlan=10,actions=strip_vlan,output:5",
    "in_port=7,ip,actions=push_mpls:0x8847,set_field:100->mpls_label,output:2",
    "in_port=8,mpls,mpls_label=200,actions=pop_mpls:0x0800,output:2",
    # Conntrack: zone 5, source NAT on commit, established replies back.
    "table=0,in_port=9,ip,ct_state=-trk,actions=ct(table=1,zone=5)",
    "table=1,in_port=9,ip,ct_state=+trk+new,"
    "actions=ct(commit,zone=5,nat(src=203.0.113.99)),output:10",
    "table=1,in_port=9,ip,ct_state=+trk+est,actions=output:10",
    "table=0,in_port=10,ip,ct_state=-trk,actions=ct(table=1,zone=5,nat)",
    "table=1,in_port=10,ip,ct_state=+trk+est,actions=output:9",
    # Tunnels out (push) and in (pop); Geneve carries tun_metadata0.
    "in_port=11,actions=output:40",
    "in_port=12,actions=set_field:0xa->tun_metadata0,output:41",
    "in_port=40,actions=output:2",
    "in_port=41,tun_metadata0=0xa,actions=output:2",
    # Meter, clone, IPFIX sample, packet length, select group, controller, drop.
    "in_port=13,actions=meter:1,output:2",
    "in_port=14,ip,actions=clone(ct(commit,zone=7),output:15),output:2",
    "in_port=16,actions=sample(probability=32767,collector_set_id=1,"
    "obs_domain_id=7,obs_point_id=8),output:2",
    "in_port=19,actions=check_pkt_larger(200)->NXM_NX_REG0[0],resubmit(,2)",
    "table=2,in_port=19,reg0=0x1,actions=output:2",
    "table=2,in_port=19,reg0=0x0,actions=output:22",
    "in_port=21,actions=group:1",
    "in_port=23,actions=controller",
    "in_port=24,actions=drop",
    "priority=0,actions=drop",
)


@dataclass(frozen=True)
class Injection:
    """``count`` copies of ``frame`` into dummy port ``port``.

    Injections with the same ``megaflow`` label share one first-pass
    (``recirc_id(0)``) datapath flow; ``decap`` names the tunnel vport a
    tunnelled frame re-enters after ``tnl_pop`` and ``inner`` is what it
    carries there.
    """

    scenario: str
    port: str
    frame: bytes
    count: int
    megaflow: str
    decap: str = ""
    inner: bytes = b""


def _ip4(
    src: str, dst: str, l4: str, payload_len: int = 0, sport: int = 40000
) -> bytes:
    """An IPv4 packet: a TCP SYN to 80, a UDP datagram to 53 or an ICMP echo."""
    if l4 == "tcp":
        return pk.ipv4(src, dst, pk.PROTO_TCP, pk.tcp(src, dst, sport, 80))
    if l4 == "udp":
        body = pk.udp(src, dst, sport, 53, b"q" * payload_len)
        return pk.ipv4(src, dst, pk.PROTO_UDP, body)
    return pk.ipv4(src, dst, pk.PROTO_ICMP, pk.icmp_echo(payload=b"p" * 8))


def _eth4(l4: str, src: str = A4, dst: str = B4, **kwargs: int) -> bytes:
    return pk.eth(HOST_B, HOST_A, pk.ETH_IPV4, _ip4(src, dst, l4, **kwargs))


def _eth6(payload: bytes, proto: int, src: str, dst: str) -> bytes:
    return pk.eth(HOST_B, HOST_A, pk.ETH_IPV6, pk.ipv6(src, dst, proto, payload))


def _underlay(l4: bytes) -> bytes:
    outer = pk.ipv4(REMOTE_IP, LOCAL_IP, pk.PROTO_UDP, l4)
    return pk.eth(BR0_MAC, REMOTE_MAC, pk.ETH_IPV4, outer)


def _injections() -> Iterator[Injection]:
    a6, b6 = "2001:db8::10", "2001:db8::20"
    yield Injection("ipv4", "p1", _eth4("tcp"), 3, "tcp4")
    yield Injection("ipv4", "p1", _eth4("udp"), 2, "udp4")
    yield Injection("ipv4", "p1", _eth4("icmp"), 2, "icmp4")
    tcp6 = pk.tcp(a6, b6, 40000, 443)
    yield Injection("ipv6", "p3", _eth6(tcp6, pk.PROTO_TCP, a6, b6), 3, "tcp6")
    udp6 = pk.udp(a6, b6, 40000, 53, b"q6")
    yield Injection("ipv6", "p3", _eth6(udp6, pk.PROTO_UDP, a6, b6), 2, "udp6")
    echo6 = pk.icmpv6_echo(a6, b6)
    yield Injection("ipv6", "p3", _eth6(echo6, pk.PROTO_ICMPV6, a6, b6), 2, "echo6")
    ns = pk.neighbor_solicitation(a6, "ff02::1:ff00:1", "2001:db8::1", HOST_A)
    ns_frame = _eth6(ns, pk.PROTO_ICMPV6, a6, "ff02::1:ff00:1")
    yield Injection("nd", "p3", ns_frame, 2, "ns")
    na = pk.neighbor_advertisement("2001:db8::2", a6, "2001:db8::2", HOST_B)
    yield Injection("nd", "p3", _eth6(na, pk.PROTO_ICMPV6, "2001:db8::2", a6), 2, "na")
    request = pk.arp(1, HOST_A, A4, "00:00:00:00:00:00", "198.51.100.1")
    request = pk.eth("ff:ff:ff:ff:ff:ff", HOST_A, pk.ETH_ARP, request)
    yield Injection("arp", "p4", request, 2, "arp-request")
    answer = pk.arp(2, HOST_B, "198.51.100.1", HOST_A, A4)
    answer = pk.eth(HOST_A, HOST_B, pk.ETH_ARP, answer)
    yield Injection("arp", "p4", answer, 2, "arp-reply")

    yield Injection("vlan", "p5", _eth4("udp"), 3, "vlan-push")
    tagged = pk.eth(
        HOST_A, HOST_B, pk.ETH_VLAN, pk.vlan(10, pk.ETH_IPV4, _ip4(B4, A4, "udp"))
    )
    yield Injection("vlan", "p6", tagged, 3, "vlan-pop")
    yield Injection("mpls", "p7", _eth4("icmp"), 2, "mpls-push")
    labelled = pk.eth(HOST_B, HOST_A, pk.ETH_MPLS, pk.mpls(200, _ip4(A4, B4, "udp")))
    yield Injection("mpls", "p8", labelled, 2, "mpls-pop")

    out = _eth4("udp")
    nat_ip = "203.0.113.99"
    reply = pk.ipv4(B4, nat_ip, pk.PROTO_UDP, pk.udp(B4, nat_ip, 53, 40000))
    back = pk.eth(HOST_A, HOST_B, pk.ETH_IPV4, reply)
    yield Injection("conntrack", "p9", out, 3, "ct-out")
    yield Injection("conntrack", "p10", back, 2, "ct-back")

    yield Injection("vxlan", "p11", _eth4("tcp"), 3, "vxlan-push")
    yield Injection("geneve", "p12", _eth4("tcp"), 3, "geneve-push")
    inner_v = _eth4("icmp", "198.51.100.30", "198.51.100.40")
    vx = _underlay(
        pk.udp(REMOTE_IP, LOCAL_IP, 50000, 4789, pk.vxlan(VXLAN_VNI, inner_v))
    )
    yield Injection("vxlan", "phy30", vx, 3, "vxlan-pop", "vxlan_sys_4789", inner_v)
    inner_g = _eth4("icmp", "198.51.100.50", "198.51.100.60")
    tunnelled = pk.geneve(GENEVE_VNI, inner_g, GENEVE_OPTION)
    gn = _underlay(pk.udp(REMOTE_IP, LOCAL_IP, 50001, 6081, tunnelled))
    yield Injection("geneve", "phy30", gn, 3, "geneve-pop", "genev_sys_6081", inner_g)

    yield Injection("meter", "p13", _eth4("udp"), 3, "meter")
    yield Injection("clone", "p14", _eth4("udp"), 2, "clone")
    yield Injection("ipfix", "p16", _eth4("udp"), 20, "ipfix")
    yield Injection("sflow", "p17", _eth4("udp"), 20, "sflow")
    yield Injection(
        "check_pkt_len", "p19", _eth4("udp", payload_len=10), 2, "check_pkt_len"
    )
    yield Injection(
        "check_pkt_len", "p19", _eth4("udp", payload_len=300), 2, "check_pkt_len"
    )
    for sport in (1000, 2000, 3000):
        frame = _eth4("udp", sport=sport)
        yield Injection("select_group", "p21", frame, 2, "select")
    yield Injection("controller", "p23", _eth4("tcp"), 2, "controller")
    yield Injection("drop", "p24", _eth4("tcp"), 3, "drop")


INJECTIONS: tuple[Injection, ...] = tuple(_injections())


class Listener:
    """A UDP socket on 127.0.0.1 that sFlow or IPFIX exports go to."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.port: int = self.sock.getsockname()[1]

    def datagrams(self) -> int:
        """How many datagrams arrived since the last call."""
        count = 0
        while True:
            try:
                self.sock.recv(65535)
            except BlockingIOError:
                return count
            count += 1

    def close(self) -> None:
        self.sock.close()


@dataclass
class LiveFlows:
    """A sandbox after :func:`build` and :func:`inject`, with its listeners."""

    ovs: OvsSandbox
    sflow: Listener
    ipfix: Listener


def build(ovs: OvsSandbox, sflow_port: int, ipfix_port: int) -> None:
    """Create the bridges, ports, tunnels, rules, meter, group and exporters."""
    # 1. Bridges on the dummy datapath, dummy ports numbered after their names.
    for bridge, ports in BRIDGE_PORTS.items():
        args = f"add-br {bridge} -- set bridge {bridge} datapath_type=dummy"
        args += " fail-mode=secure"
        for port in ports:
            number = "".join(c for c in port if c.isdigit())
            args += f" -- add-port {bridge} {port} -- set Interface {port}"
            args += f" type=dummy ofport_request={number}"
        ovs.vsctl(*args.split())
    ovs.vsctl("set", "bridge", "br0", f"other-config:hwaddr={BR0_MAC}")

    # 2. Tunnel ports on br1 and an underlay that can reach the remote end.
    for port, kind, key in (
        ("vxlan40", "vxlan", VXLAN_VNI),
        ("geneve41", "geneve", GENEVE_VNI),
    ):
        ovs.vsctl(
            *f"add-port br1 {port} -- set Interface {port} type={kind}"
            f" options:remote_ip={REMOTE_IP} options:key={key}"
            f" ofport_request={port[-2:]}".split()
        )
    ovs.appctl("netdev-dummy/ip4addr", "br0", f"{LOCAL_IP}/24")
    ovs.appctl("ovs/route/add", f"{REMOTE_IP}/24", "br0")
    ovs.appctl("tnl/neigh/set", "br0", REMOTE_IP, REMOTE_MAC)
    ovs.ofctl("add-flow", "br0", "in_port=30,actions=LOCAL")
    ovs.ofctl("add-flow", "br0", "in_port=LOCAL,actions=output:30")
    ovs.ofctl("add-tlv-map", "br1", "{class=0xffff,type=0x80,len=4}->tun_metadata0")

    # 3. Meter, select group, exporters, then br1's and br2's rules.
    meter = "meter=1,pktps,bands=type=drop,rate=100000"
    ovs.ofctl("-O", "OpenFlow13", "add-meter", "br1", meter)
    group = "group_id=1,type=select,bucket=output:2,bucket=output:22"
    ovs.ofctl("-O", "OpenFlow13", "add-group", "br1", group)
    # The inner quotes reach ovs-vsctl, which needs them around "ip:port".
    ipfix = f"targets='\"127.0.0.1:{ipfix_port}\"'"
    ovs.vsctl(
        *shlex.split(
            f"-- --id=@br get Bridge br1 -- --id=@ipfix create IPFIX {ipfix}"
            " -- create Flow_Sample_Collector_Set id=1 bridge=@br ipfix=@ipfix"
        )
    )
    sflow = f"targets='\"127.0.0.1:{sflow_port}\"' agent=127.0.0.1 header=128"
    ovs.vsctl(
        *shlex.split(
            "-- set Bridge br2 sflow=@sf -- --id=@sf create sFlow"
            f" {sflow} sampling=2 polling=1"
        )
    )
    rules = "\n".join(BR1_RULES) + "\n"
    _add_flows(ovs, "br1", rules)
    _add_flows(ovs, "br2", "in_port=17,actions=output:18\n")
    check_port_types(ovs)


def _add_flows(ovs: OvsSandbox, bridge: str, rules: str) -> None:
    path = ovs.base / f"{bridge}.flows"
    path.write_text(rules)
    ovs.ofctl("-O", "OpenFlow13", "add-flows", bridge, str(path))


def check_port_types(ovs: OvsSandbox) -> None:
    """Refuse to go on if any interface is not dummy, tunnel or bridge-local."""
    for name, kind in ovs.interface_types().items():
        if kind not in ALLOWED_PORT_TYPES:
            raise RuntimeError(f"interface {name!r} has type {kind!r}")
        if kind == "internal" and name not in BRIDGE_PORTS:
            raise RuntimeError(f"internal interface {name!r} is not a bridge")


def inject(ovs: OvsSandbox) -> None:
    """Send every frame of :data:`INJECTIONS`, then let the revalidators settle."""
    for injection in INJECTIONS:
        for _ in range(injection.count):
            ovs.receive(injection.port, injection.frame)
    ovs.appctl("revalidator/wait")


def expected_counters() -> dict[str, object]:
    """Packets and bytes the first-pass flows of each port should show.

    The result maps a port name to ``{"packets": n, "bytes": b}`` summed over
    the ``recirc_id(0)`` flows whose ``in_port`` is that port, plus ``sent``
    totals per scenario as a record of what went in.
    """
    ports: dict[str, dict[str, int]] = {}
    first_seen: set[str] = set()
    scenarios: dict[str, dict[str, int]] = {}
    for inj in INJECTIONS:
        sent = scenarios.setdefault(inj.scenario, {"packets": 0, "bytes": 0})
        sent["packets"] += inj.count
        sent["bytes"] += inj.count * len(inj.frame)
        uncounted = 0 if inj.megaflow in first_seen else 1
        first_seen.add(inj.megaflow)
        _add(ports, inj.port, inj.count - uncounted, len(inj.frame))
        if inj.decap:
            _add(ports, inj.decap, inj.count - 1, len(inj.inner))
    return {"ports": ports, "sent": scenarios}


def _add(table: dict[str, dict[str, int]], port: str, n: int, size: int) -> None:
    row = table.setdefault(port, {"packets": 0, "bytes": 0})
    row["packets"] += n
    row["bytes"] += n * size


def port_numbers(ovs: OvsSandbox) -> dict[str, int]:
    """Datapath port name to ODP number, from ``dpctl/show``."""
    numbers = {}
    for match in re.finditer(r"^\s*port (\d+): (\S+)", ovs.appctl("dpctl/show"), re.M):
        numbers[match[2]] = int(match[1])
    return numbers


#: Every form of dump the tests take: file-name part -> ovs-appctl arguments.
DUMP_FORMS: dict[str, tuple[str, ...]] = {
    "dpctl": ("dpctl/dump-flows",),
    "dpctl-m": ("dpctl/dump-flows", "-m"),
    "dpctl-names": ("dpctl/dump-flows", "--names"),
    "dpctl-m-names": ("dpctl/dump-flows", "-m", "--names"),
    "dpctl-m-no-names": ("dpctl/dump-flows", "-m", "--no-names"),
    **{
        f"dpctl-m-type-{t}": ("dpctl/dump-flows", "-m", f"type={t}") for t in DUMP_TYPES
    },
    **{f"dpif-{br}": ("dpif/dump-flows", br) for br in BRIDGE_PORTS},
    **{f"dpif-m-{br}": ("dpif/dump-flows", "-m", br) for br in BRIDGE_PORTS},
}


def dump_all(ovs: OvsSandbox) -> dict[str, str]:
    """Every form of :data:`DUMP_FORMS`, as ovs-appctl printed it."""
    return {form: ovs.appctl(*args) for form, args in DUMP_FORMS.items()}


def wait_for_datagrams(listener: Listener, seconds: float = 5.0) -> int:
    """Datagrams that reach ``listener`` within ``seconds`` (stops at the first)."""
    deadline = time.monotonic() + seconds
    count = listener.datagrams()
    while not count and time.monotonic() < deadline:
        time.sleep(0.1)
        count = listener.datagrams()
    return count


def expected_document(numbers: dict[str, int]) -> dict[str, object]:
    """What ``tests/data/ovs-dummy-expected.json`` holds."""
    return {
        "comment": "Written by tests/capture_ovs_dumps.py from the frames sent; "
        "'ports' sums the recirc_id(0) flows of each in_port (a megaflow's "
        "first frame is an upcall and not counted), 'sent' is what went in.",
        "port_numbers": numbers,
        **expected_counters(),
    }


# -- reading dumps back, without the parser --------------------------------


def flow_lines(text: str) -> list[str]:
    """The flow lines of a dump: not the 'flow-dump from ...' headers."""
    return [
        line
        for line in text.splitlines()
        if line.strip() and not line.startswith("flow-dump from")
    ]


def first_pass_totals(
    flows: Iterable[tuple[str, int, int]], numbers: dict[str, int]
) -> dict[str, dict[str, int]]:
    """Packets and bytes of the ``recirc_id(0)`` flows, per in_port name.

    ``flows`` gives each flow's text with its packet and byte counters; a port
    shown as a number is named through ``numbers`` (name to ODP number).
    """
    names = {str(n): name for name, n in numbers.items()}
    totals: dict[str, dict[str, int]] = {}
    for text, packets, nbytes in flows:
        if "recirc_id(0)," not in text:
            continue
        port = re.search(r"in_port\(([^)]*)\)", text)
        assert port, text
        row = totals.setdefault(names.get(port[1], port[1]), {"packets": 0, "bytes": 0})
        row["packets"] += packets
        row["bytes"] += nbytes
    return totals


def counters_from_text(lines: Iterable[str]) -> Iterable[tuple[str, int, int]]:
    for line in lines:
        found = re.search(r"packets:(\d+), bytes:(\d+)", line)
        assert found, line
        yield line, int(found[1]), int(found[2])
