"""Make the large benchmark input from a real Open vSwitch: thousands of flows.

Starts the test suite's private OVS (``tests/ovs.py``: Debian's
``openvswitch-switch`` with the dummy datapath, in a temporary directory,
nothing touching a real interface), builds the scenarios of
``tests/ovs_scenarios.py`` and sends their frames, then adds one bridge port
per kind of flow below and sends ``--per-kind`` distinct packets to each.
``max-idle`` is raised (the sandbox's default, an hour) so every flow stays.

Each added rule starts with a ``multipath`` hash over the 5-tuple, which
makes OVS un-wildcard addresses and ports, so every distinct packet gets a
megaflow of its own:

- ``plain``: IPv4 TCP/UDP out to a port;
- ``conntrack``: the same through ``ct(commit,zone=9)``;
- ``vxlan``/``geneve``: pushed into a tunnel (``tnl_push``, Geneve with an
  option).

Flows with ``tunnel(...)`` keys come from the scenarios (VXLAN and Geneve
pop), a few of them.

The dump is written in several forms one after the other (``-m``, plain,
``-m --names``, ``dpif/dump-flows -m br1``), gzipped::

    python benchmarks/make_ovs_input.py [--per-kind 1000] [--out FILE]
"""

from __future__ import annotations

import argparse
import gzip
import ipaddress
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "tests"), str(HERE.parent)]

import ovs_scenarios as sc  # noqa: E402
import packets as pk  # noqa: E402
from ovs import OvsSandbox  # noqa: E402

DEFAULT_OUT = HERE / "data" / "ovs-dummy-large.txt.gz"

#: Frames per netdev-dummy/receive call: it takes any number, but the dummy
#: port queues at most 100 (NETDEV_DUMMY_MAX_QUEUE) and drops the rest.
BATCH = 40

HASH = "multipath(symmetric_l4,0,modulo_n,2,0,NXM_NX_REG0[])"

#: Added br1 port -> the actions of its rule (after the 5-tuple hash).
KINDS = {
    "plain": ("p25", "output:2"),
    "conntrack": ("p26", "ct(commit,zone=9),output:2"),
    "vxlan": ("p27", "output:40"),
    "geneve": ("p28", "set_field:0xa->tun_metadata0,output:41"),
}

FORMS = (
    ("dpctl/dump-flows", "-m"),
    ("dpctl/dump-flows",),
    ("dpctl/dump-flows", "-m", "--names"),
    ("dpif/dump-flows", "-m", "br1"),
)


def addresses(n: int, seed: int) -> Iterator[tuple[str, str, int]]:
    """``n`` distinct (source, destination, source port) triples."""
    base = ipaddress.IPv4Address("10.0.0.0") + (seed << 16)
    for i in range(n):
        src = str(base + 1 + i % 251 + (i // 251) * 256)
        dst = str(ipaddress.IPv4Address("172.16.0.0") + 1 + (i * 7919) % 60000)
        yield src, dst, 1024 + (i * 37) % 60000


def frame(src: str, dst: str, sport: int, tcp: bool) -> bytes:
    if tcp:
        l4 = pk.tcp(src, dst, sport, 80)
        ip = pk.ipv4(src, dst, pk.PROTO_TCP, l4)
    else:
        ip = pk.ipv4(src, dst, pk.PROTO_UDP, pk.udp(src, dst, sport, 53, b"q"))
    return pk.eth(sc.HOST_B, sc.HOST_A, pk.ETH_IPV4, ip)


def send(ovs: OvsSandbox, port: str, frames: list[bytes]) -> None:
    """Each frame twice: the first is an upcall, the second is counted."""
    frames = [f for f in frames for _ in range(2)]
    for i in range(0, len(frames), BATCH):
        ovs.appctl(
            "netdev-dummy/receive", port, *(f.hex() for f in frames[i : i + BATCH])
        )


def generate(per_kind: int) -> str:
    """The dump text, every form one after the other."""
    sflow, ipfix = sc.Listener(), sc.Listener()
    with (
        tempfile.TemporaryDirectory(prefix="ovsflow-bench-") as tmp,
        OvsSandbox(Path(tmp), timeout=120) as ovs,
    ):
        # 1. The test suite's scenarios: every kind of action once.
        sc.build(ovs, sflow.port, ipfix.port)
        sc.inject(ovs)

        # 2. One more dummy port and rule per kind.
        for port, actions in KINDS.values():
            number = port[1:]
            ovs.vsctl(
                "add-port",
                "br1",
                port,
                "--",
                "set",
                "Interface",
                port,
                "type=dummy",
                f"ofport_request={number}",
            )
            rule = f"priority=200,in_port={number},ip,actions={HASH},{actions}"
            ovs.ofctl("add-flow", "br1", rule)
        sc.check_port_types(ovs)

        # 3. Distinct packets for each kind.
        for seed, (port, _) in enumerate(KINDS.values()):
            frames = [
                frame(s, d, p, tcp=i % 2 == 0)
                for i, (s, d, p) in enumerate(addresses(per_kind, seed))
            ]
            send(ovs, port, frames)
        ovs.appctl("revalidator/wait")
        text = "".join(ovs.appctl(*form) for form in FORMS)
    sflow.close()
    ipfix.close()
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--per-kind", type=int, default=1000, help="distinct packets per kind"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="gzip file")
    args = parser.parse_args()
    text = generate(args.per_kind)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(gzip.compress(text.encode(), 9, mtime=0))
    flows = sum(1 for line in text.splitlines() if "actions:" in line)
    print(f"{args.out}: {flows} flow lines, {args.out.stat().st_size} bytes gzipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
