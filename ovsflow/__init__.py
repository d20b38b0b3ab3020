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

# The table functions need pandas and pyarrow, which take about a second to
# import; they load on first use so that commands that never touch them
# (``ovsflow summarize``) start fast.
_LAZY = {
    "DiffResult": "ovsflow.diff",
    "diff_dumps": "ovsflow.diff",
    "offload_summary": "ovsflow.analysis",
    "read_dumps": "ovsflow.table",
    "to_arrow": "ovsflow.table",
    "to_dataframe": "ovsflow.table",
    "top_not_hardware": "ovsflow.analysis",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ovsflow' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "Action",
    "CollectError",
    "CtState",
    "DiffResult",
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
    "diff_dumps",
    "offload_class",
    "offload_summary",
    "parse_dump",
    "parse_flow",
    "read_dumps",
    "to_arrow",
    "to_dataframe",
    "top_not_hardware",
]
