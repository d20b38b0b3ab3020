"""ovsflow: Open vSwitch datapath flow dumps as typed records and offload data.

>>> import ovsflow
>>> flow = ovsflow.parse_flow(
...     "in_port(1),eth_type(0x0800), packets:3, bytes:180, used:0.5s, "
...     "offloaded:yes, dp:tc, actions:2")
>>> ovsflow.offload_class(flow), flow.stats.packets
('hardware', 3)
"""

from ovsflow.actions import Action
from ovsflow.collect import collect_dump
from ovsflow.dump import DumpReader, Skipped, parse_dump
from ovsflow.errors import (
    CollectError,
    InputError,
    ManifestError,
    OvsflowError,
    ParseError,
    SriovError,
)
from ovsflow.parse import parse_flow
from ovsflow.records import Field, Flow, GeneveOption, Key, Match, Node, Stats
from ovsflow.summary import Summary, offload_class
from ovsflow.values import CtState, EthAddr, FlagsMatch, Masked, TcpFlags, TunnelFlags

__all__ = [
    "Action",
    "CollectError",
    "CtState",
    "DumpReader",
    "EthAddr",
    "Field",
    "FlagsMatch",
    "Flow",
    "GeneveOption",
    "InputError",
    "Key",
    "ManifestError",
    "Masked",
    "Match",
    "Node",
    "OvsflowError",
    "ParseError",
    "Skipped",
    "SriovError",
    "Stats",
    "Summary",
    "TcpFlags",
    "TunnelFlags",
    "collect_dump",
    "offload_class",
    "parse_dump",
    "parse_flow",
]
