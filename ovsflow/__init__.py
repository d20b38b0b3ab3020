"""ovsflow: Open vSwitch datapath flow dumps as typed records and offload data."""

from ovsflow.actions import Action
from ovsflow.errors import InputError, OvsflowError, ParseError
from ovsflow.parse import parse_flow
from ovsflow.records import Field, Flow, GeneveOption, Key, Match, Node, Stats
from ovsflow.values import CtState, EthAddr, FlagsMatch, Masked, TcpFlags, TunnelFlags

__all__ = [
    "Action",
    "CtState",
    "EthAddr",
    "Field",
    "FlagsMatch",
    "Flow",
    "GeneveOption",
    "InputError",
    "Key",
    "Masked",
    "Match",
    "Node",
    "OvsflowError",
    "ParseError",
    "Stats",
    "TcpFlags",
    "TunnelFlags",
    "parse_flow",
]
