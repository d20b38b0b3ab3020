"""What a flow's context puts in a row: why it is not in hardware, OVN's
logical ports, and the interfaces and pods behind its ports.

:mod:`ovsflow.table` asks a :class:`RowContext` for the :data:`COLUMNS` of
every flow.  The values depend only on a few parts of the flow, which the
parser shares among flows with the same text: the offload class, whether it
was ever used, what the action list means to them (which rules' action
conditions hold, OVN's metadata, output pods: :meth:`RowContext.action_facts`),
and the match keys the rules, OVN's option and the port table read
(``in_port``, ``tunnel``, ``dp_hash``...).  So they are worked out once per
distinct combination of those parts and copied after.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ovsflow._row_values import walk_actions
from ovsflow.actions import Action, Output
from ovsflow.explain import Rule, default_rules, reasons
from ovsflow.ovn import decode
from ovsflow.ports import PortTable
from ovsflow.records import Flow, Match, Stats, new_flow

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
# One action's facts (see RowContext.action_facts), the action kept.
_ActionFacts = tuple[Action, tuple[bool, ...], tuple[Any, ...] | None, tuple[str, ...]]


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
        self.names = frozenset(names)
        self._action_rules = [r for r in self.rules if r.enabled and r.actions]
        self._kinds = frozenset(k for r in self._action_rules for k in r.actions)
        self._none_fire = (False,) * len(self._action_rules)
        self._cache: dict[tuple[Any, ...], tuple[object, tuple[Any, ...]]] = {}
        self._facts: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        self._actions: dict[int, _ActionFacts] = {}

    def action_facts(self, actions: tuple[Action, ...]) -> tuple[Any, ...]:
        """All that the values read from an action list, as one shared tuple.

        Which rules' action conditions hold, what OVN's metadata would be
        from the actions alone, and the output pods: action lists that agree
        on these get the same tuple, so that flows differing only in, say,
        a tunnel header's addresses share their values.
        """
        found = [self._single(action) for action in actions]
        if len(found) == 1:
            fires = found[0][1]
        else:  # each rule fires when it fires on one of the actions
            fires = tuple(map(any, zip(*[item[1] for item in found], strict=True)))
        # decode takes the first action that names OVN's metadata.
        logical = next((item[2] for item in found if item[2] is not None), None)
        pods = None
        if self.ports is not None:
            pods = tuple(dict.fromkeys(pod for item in found for pod in item[3]))
        facts = (fires, logical, pods)
        interned = self._facts.get(facts)
        if interned is None:
            if len(self._facts) >= self.limit:
                self._facts.clear()
            self._facts[facts] = interned = facts
        return interned

    def _single(self, action: Action) -> _ActionFacts:
        """action_facts of one action (and those nested in it), cached."""
        found = self._actions.get(id(action))
        if found is not None:
            return found
        walked = list(walk_actions((action,)))
        kinds = {a.kind for a in walked}
        fires = self._none_fire
        if kinds & self._kinds:
            fires = tuple(
                bool(kinds & rule.actions) and any(rule.fires_on(a) for a in walked)
                for rule in self._action_rules
            )
        # decode reads the match only for its tunnel key, and takes the
        # first action that names OVN's metadata: a flow without keys and
        # with this action alone gives what this action says.
        ovn = decode(
            new_flow(_NO_KEYS, (action,), _NO_STATS, *_NO_ATTRS)  # Flow(), faster
        )
        logical = None
        if ovn is not None:
            logical = (ovn.direction, ovn.datapath, ovn.ingress_port, ovn.egress_port)
        pods: tuple[str, ...] = ()
        if self.ports is not None:
            pods = tuple(_output_pods(self.ports, (action,)))
        found = (action, fires, logical, pods)
        if len(self._actions) >= self.limit:
            self._actions.clear()
        self._actions[id(action)] = found  # the action is kept: its id stays its own
        return found

    def clear(self) -> None:
        """Empty the caches."""
        self._cache.clear()
        self._facts.clear()
        self._actions.clear()

    def values(
        self,
        flow: Flow,
        cls: str,
        keys: list[object] | None = None,
        facts: tuple[Any, ...] | None = None,
    ) -> tuple[Any, ...]:
        """The values of :data:`COLUMNS` for ``flow`` of offload class ``cls``.

        ``keys`` (the flow's keys whose names are in :attr:`names`, in order)
        and ``facts`` (:meth:`action_facts` of its actions) may be given
        when already known.
        """
        if keys is None:
            names = self.names
            keys = [key for key in flow.match.keys if key.name in names]
        if facts is None:
            facts = self.action_facts(flow.actions)
        # ids: the records are kept with their values, so that an id is not
        # reused while its entry lives.
        ids: list[object] = [id(key) for key in keys]
        ids += (id(facts), flow.stats.used is None, cls)
        signature = tuple(ids)
        found = self._cache.get(signature)
        if found is None:
            if len(self._cache) >= self.limit:
                self._cache.clear()
            found = ((facts, keys), self._compute(flow, cls))
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


_NO_KEYS = Match(())
_NO_STATS = Stats()
_NO_ATTRS = (None, None, None, None, (), 0, None, None)


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
