"""What a flow's context puts in a row: why it is not in hardware, OVN's
logical ports, and the interfaces and pods behind its ports.

:mod:`ovsflow.table` asks a :class:`RowContext` for the :data:`COLUMNS` of
every flow.  The values depend only on a few parts of the flow, which the
parser shares among flows with the same text: the offload class, whether it
was ever used, the action list, and the match keys the rules, OVN's option and
the port table read (``in_port``, ``tunnel``, ``dp_hash``...).  So they are
worked out once per distinct combination of those parts and copied after.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ovsflow._row_values import walk_actions
from ovsflow.actions import Action, Output
from ovsflow.explain import Rule, default_rules, reasons
from ovsflow.ovn import decode
from ovsflow.ports import PortTable
from ovsflow.records import Flow

#: The columns a :class:`RowContext` fills, in the order of its values.
COLUMNS = (
    "reasons",
    "ovn_datapath",
    "ovn_ingress_port",
    "ovn_egress_port",
    "ovn_direction",
    "in_port_interface",
    "in_port_pod",
    "in_port_namespace",
    "output_pods",
)

_NO_PORTS = (None, None, None)


class RowContext:
    """The values of :data:`COLUMNS` for each flow, cached by shared parts.

    ``rules`` defaults to the built-in rules of :mod:`ovsflow.explain`;
    without ``ports`` the port columns are null and rules on ``in_port``
    stay silent, as in :func:`ovsflow.explain.reasons`.
    """

    limit = 1 << 16

    def __init__(
        self, rules: Sequence[Rule] | None = None, ports: PortTable | None = None
    ) -> None:
        self.rules = default_rules() if rules is None else list(rules)
        self.ports = ports
        # The match keys the values depend on.  Rule.check reads the flow's
        # class, stats.used, actions and the keys of its "match" and "in_port"
        # conditions; a new kind of condition must add its keys here.
        names = {name for rule in self.rules if rule.enabled for name in rule.match}
        names.add("tunnel")  # OVN's option, when received
        if ports is not None:
            names.add("in_port")
        self._names = frozenset(names)
        self._cache: dict[tuple[Any, ...], tuple[object, tuple[Any, ...]]] = {}

    def values(self, flow: Flow, cls: str) -> tuple[Any, ...]:
        """The values of :data:`COLUMNS` for ``flow`` of offload class ``cls``."""
        names = self._names
        # A list comprehension and one tuple: half the cost of the clearer
        # generator forms, and this runs for every row.
        ids: list[object] = [id(key) for key in flow.match.keys if key.name in names]
        ids += (id(flow.actions), flow.stats.used is None, cls)
        signature = tuple(ids)
        found = self._cache.get(signature)
        if found is None:
            if len(self._cache) >= self.limit:
                self._cache.clear()
            # The records are kept with their values: an id is only reused
            # after its object is freed, which holding it prevents.
            keys = [key for key in flow.match.keys if key.name in names]
            found = ((flow.actions, keys), self._compute(flow, cls))
            self._cache[signature] = found
        return found[1]

    def _compute(self, flow: Flow, cls: str) -> tuple[Any, ...]:
        blockers: list[str] = []
        if cls != "hardware":
            blockers = [r.rule for r in reasons(flow, self.rules, self.ports)]
        ovn = decode(flow)
        logical: tuple[Any, ...] = (None, None, None, None)
        if ovn is not None:
            logical = (ovn.datapath, ovn.ingress_port, ovn.egress_port, ovn.direction)
        ports = self.ports
        if ports is None:
            return (blockers, *logical, *_NO_PORTS, None)
        return (
            blockers,
            *logical,
            *_in_port(ports, flow.match.in_port),
            _output_pods(ports, flow.actions),
        )


def _in_port(ports: PortTable, port: object) -> tuple[str | None, ...]:
    """(interface, namespace/pod, namespace) of the input port."""
    iface = ports.lookup(port) if port is not None else None
    if iface is None:
        return _NO_PORTS
    pod = iface.namespace_pod
    if pod is None:
        return (iface.name, None, None)
    return (iface.name, f"{pod[0]}/{pod[1]}", pod[0])


def _output_pods(ports: PortTable, actions: Iterable[Action]) -> list[str]:
    """The pods behind the flow's output ports, each once, in action order."""
    pods: dict[str, None] = {}
    for action in walk_actions(actions):
        if isinstance(action, Output):
            pod = ports.pod(action.name)
            if pod is not None:
                pods[pod] = None
    return list(pods)


__all__ = ["COLUMNS", "RowContext"]
