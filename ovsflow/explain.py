"""Why a flow is not in hardware: named rules read from the flow itself.

Each rule is data: a name, a one-line title, where the knowledge comes from,
and a ``when`` object whose conditions must all hold.  The built-in rules are
in ``ovsflow/data/explain_rules.json`` and documented in ``docs/explain.md``.
JSON, because Python's standard library reads and writes it (``tomllib``
only reads TOML) and a user can write one without learning a Python API.

Conditions of ``when``:

=============  ================================================================
``class``      the flow's offload class is one of these (``tc_software``...)
``action``     an action of one of these kinds, nested ones included
               (``clone``, ``sample``, ``check_pkt_len``, ``dec_ttl``)
``with``       ... and that action has an argument with one of these names
               (``slow_path`` in ``userspace(pid=1,slow_path(...))``)
``without``    ... and none with these names
``match``      the flow matches these keys on at least one bit (``dp_hash``)
``used``       ``"never"``: ``used:never``
``in_port``    the input port is of one of these kinds in the port table
               (see :meth:`ovsflow.ports.Interface.kind`); without a port
               table the rule is inactive
=============  ================================================================

Rules only look at flows whose offload class is not ``hardware``.
:func:`reasons` is cheap: the rules are compiled once, and each flow's
actions are walked once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ovsflow._jsonfile import read_json_file
from ovsflow.actions import Action, CheckPktLen, Clone, DecTtl, Sample
from ovsflow.errors import InputError
from ovsflow.ports import PortTable
from ovsflow.records import Field, Flow, Key, Node
from ovsflow.summary import CLASSES, offload_class
from ovsflow.values import FlagsMatch, Masked

__all__ = [
    "DEFAULT_RULES",
    "NO_RULE",
    "RULES_FORMAT",
    "ExplainedFlow",
    "Group",
    "Reason",
    "Report",
    "Rule",
    "default_rules",
    "disable",
    "load_rules",
    "reasons",
    "rules_from_document",
]

#: The ``format`` value every rule file carries.
RULES_FORMAT = "ovsflow-explain-rules/1"
#: Where the built-in rules are.
DEFAULT_RULES = Path(__file__).parent / "data" / "explain_rules.json"

_CONDITIONS = ("class", "action", "with", "without", "match", "used", "in_port")
_LIST_CONDITIONS = frozenset(_CONDITIONS) - {"used"}


@dataclass(frozen=True, slots=True)
class Reason:
    """One rule that fired on a flow, with the text that made it fire."""

    rule: str
    title: str
    evidence: str


@dataclass(frozen=True, slots=True)
class Rule:
    """A named condition on a flow; see the module docstring for ``when``."""

    name: str
    title: str
    source: str = ""
    classes: frozenset[str] = frozenset()
    actions: frozenset[str] = frozenset()
    with_args: frozenset[str] = frozenset()
    without_args: frozenset[str] = frozenset()
    match: tuple[str, ...] = ()
    never_used: bool = False
    in_port: frozenset[str] = frozenset()
    enabled: bool = True

    @property
    def needs_ports(self) -> bool:
        return bool(self.in_port)

    def check(self, facts: _Facts, ports: PortTable | None) -> str | None:
        """The evidence when the rule fires on the flow of ``facts``, else None."""
        evidence: list[str] = []
        if self.classes:
            if facts.cls not in self.classes:
                return None
            evidence.append(_CLASS_EVIDENCE.get(facts.cls, f"class {facts.cls}"))
        if self.actions:
            hits = [a for a in facts.actions if self._action_fires(a)]
            if not hits:
                return None
            evidence.extend(_short(str(a)) for a in hits)
        for name in self.match:
            key = facts.flow.match.get(name)
            if key is None or not _key_matched(key):
                return None
            evidence.append(str(key))
        if self.never_used:
            if facts.flow.stats.used is not None:
                return None
            evidence.append("used:never")
        if self.in_port:
            found = self._in_port(facts.flow, ports)
            if found is None:
                return None
            evidence.append(found)
        return ", ".join(evidence)

    def fires_on(self, action: Action) -> bool:
        """Whether ``action`` meets the rule's ``action``, ``with`` and
        ``without`` conditions (one action; :meth:`check` tries each)."""
        return self._action_fires(action)

    def _action_fires(self, action: Action) -> bool:
        if action.kind not in self.actions:
            return False
        names = _arg_names(action)
        if self.with_args and not (names & self.with_args):
            return False
        return not (names & self.without_args)

    def _in_port(self, flow: Flow, ports: PortTable | None) -> str | None:
        port = flow.match.in_port
        iface = ports.lookup(port) if ports is not None and port is not None else None
        if iface is None or ports is None:
            return None
        kind = iface.kind(ports.representor_drivers)
        if kind not in self.in_port:
            return None
        described = iface.type or iface.driver or "system"
        return f"in_port {port} is {iface.name} ({described}, {kind})"


_CLASS_EVIDENCE = {
    "tc_software": "dp:tc without offloaded:",
    "software": "in the OVS datapath",
    "partial": "offloaded:partial",
    "unknown": "no -m attributes",
}


@dataclass
class _Facts:
    """What the rules read from one flow, worked out once."""

    flow: Flow
    cls: str
    actions: list[Action] = field(default_factory=list)


def reasons(
    flow: Flow,
    rules: Sequence[Rule] | None = None,
    ports: PortTable | None = None,
) -> list[Reason]:
    """The reasons ``flow`` is not in hardware, in rule order.

    Empty for a flow in class ``hardware`` and for a flow no rule explains.
    ``rules`` defaults to the built-in rules; rules with ``in_port`` need
    ``ports`` and stay silent without it.

    >>> from ovsflow.parse import parse_flow
    >>> flow = parse_flow("in_port(1), packets:9, bytes:900, used:0.1s, dp:tc, "
    ...                   "actions:hash(l4(0)),recirc(0x7)")
    >>> [r.rule for r in reasons(flow)]
    ['hash', 'tc_software']
    """
    if rules is None:
        rules = default_rules()
    cls = offload_class(flow)
    if cls == "hardware":
        return []
    facts = _Facts(flow, cls, list(_walk(flow.actions)))
    out = []
    for rule in rules:
        if not rule.enabled:
            continue
        evidence = rule.check(facts, ports)
        if evidence is not None:
            out.append(Reason(rule.name, rule.title, evidence))
    return out


def _walk(actions: Iterable[Action]) -> Iterator[Action]:
    """Every action, and the actions nested inside it, depth first."""
    for action in actions:
        yield action
        if isinstance(action, (Clone, Sample)):
            yield from _walk(action.actions)
        elif isinstance(action, CheckPktLen):
            yield from _walk(action.gt)
            yield from _walk(action.le)
        elif isinstance(action, DecTtl):
            yield from _walk(action.le_1)


def _arg_names(node: Node) -> frozenset[str]:
    """Names of a node's arguments: fields, nested nodes and bare words."""
    names = set()
    for arg in node.args or ():
        if isinstance(arg, (Field, Node)):
            names.add(arg.name)
        elif isinstance(arg, Masked) and isinstance(arg.value, str):
            names.add(arg.value)
    return frozenset(names)


def _key_matched(key: Key) -> bool:
    """True when the key constrains at least one bit."""
    values = [a.value if isinstance(a, Field) else a for a in key.args or ()]
    for value in values:
        if isinstance(value, Masked) and not value.is_wildcard:
            return True
        if isinstance(value, FlagsMatch) and not value.is_wildcard:
            return True
    return False


def _short(text: str, limit: int = 100) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- rule files ---------------------------------------------------------------

_DEFAULT: list[Rule] | None = None


def default_rules() -> list[Rule]:
    """The built-in rules (read once)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = load_rules(DEFAULT_RULES)
    return list(_DEFAULT)


def load_rules(path: str | Path, base: Sequence[Rule] | None = None) -> list[Rule]:
    """Rules from a JSON rule file, added to ``base`` (none by default).

    A rule whose name is already in ``base`` replaces it in place; the
    others follow in file order.  ``"enabled": false`` switches a rule off.
    Raises :class:`~ovsflow.errors.InputError` naming the file, the rule and
    what was expected.
    """
    name = str(path)
    document = read_json_file(path, "rule file")
    return rules_from_document(document, base, where=name)


def rules_from_document(
    document: Any, base: Sequence[Rule] | None = None, where: str = "<rules>"
) -> list[Rule]:
    """Rules from a parsed rule document (see :func:`load_rules`)."""
    if not isinstance(document, dict) or document.get("format") != RULES_FORMAT:
        raise InputError(
            f"rule file {where!r}: expected an object with "
            f'"format": "{RULES_FORMAT}" and "rules"'
        )
    entries = document.get("rules")
    if not isinstance(entries, list):
        raise InputError(f'rule file {where!r}: expected "rules" to be a list')
    out = list(base or ())
    position = {rule.name: i for i, rule in enumerate(out)}
    for index, entry in enumerate(entries, start=1):
        rule = _rule(entry, f"rule file {where!r}, rule {index}")
        if rule.name in position:
            out[position[rule.name]] = rule
        else:
            position[rule.name] = len(out)
            out.append(rule)
    return out


def _rule(entry: Any, where: str) -> Rule:
    if not isinstance(entry, dict):
        raise InputError(f"{where}: expected an object, got {entry!r}")
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise InputError(f'{where}: expected a "name" string')
    where = f"{where} ({name!r})"
    enabled = entry.get("enabled", True)
    if not isinstance(enabled, bool):
        raise InputError(f'{where}: expected "enabled" to be true or false')
    when = entry.get("when", {})
    if not isinstance(when, dict) or (enabled and not when):
        raise InputError(f'{where}: expected a non-empty "when" object')
    unknown = sorted(set(when) - set(_CONDITIONS))
    if unknown:
        raise InputError(
            f"{where}: unknown condition {unknown[0]!r}; "
            f"expected one of {', '.join(_CONDITIONS)}"
        )
    for key in _LIST_CONDITIONS & when.keys():
        value = when[key]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InputError(f"{where}: expected {key!r} to be a list of strings")
    if "used" in when and when["used"] != "never":
        raise InputError(f'{where}: expected "used" to be "never"')
    bad = sorted(set(when.get("class", ())) - set(CLASSES))
    if bad:
        raise InputError(
            f"{where}: unknown class {bad[0]!r}; expected one of {', '.join(CLASSES)}"
        )
    if ("with" in when or "without" in when) and "action" not in when:
        raise InputError(f'{where}: "with" and "without" need "action"')
    return Rule(
        name=name,
        title=str(entry.get("title", name)),
        source=str(entry.get("source", "")),
        classes=frozenset(when.get("class", ())),
        actions=frozenset(when.get("action", ())),
        with_args=frozenset(when.get("with", ())),
        without_args=frozenset(when.get("without", ())),
        match=tuple(when.get("match", ())),
        never_used="used" in when,
        in_port=frozenset(when.get("in_port", ())),
        enabled=enabled,
    )


def disable(rules: Sequence[Rule], names: Iterable[str]) -> list[Rule]:
    """``rules`` with the named ones switched off.

    Raises :class:`~ovsflow.errors.InputError` for a name no rule has.
    """
    known = {rule.name for rule in rules}
    off = set(names)
    unknown = sorted(off - known)
    if unknown:
        raise InputError(
            f"no rule is called {unknown[0]!r}; the rules are "
            f"{', '.join(rule.name for rule in rules)}"
        )
    return [replace(r, enabled=False) if r.name in off else r for r in rules]


# -- flows grouped by reason ---------------------------------------------------

#: The group of flows not in hardware that no rule explains.
NO_RULE = "(no rule)"


@dataclass(frozen=True, slots=True)
class ExplainedFlow:
    """A flow not in hardware, with its reasons and where it came from."""

    source: str
    line: int
    packets: int
    bytes: int
    offload_class: str
    reasons: tuple[Reason, ...]
    text: str
    in_port: dict[str, Any] | None = None
    ovn: dict[str, object] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "line": self.line,
            "packets": self.packets,
            "bytes": self.bytes,
            "class": self.offload_class,
            "reasons": [{"rule": r.rule, "evidence": r.evidence} for r in self.reasons],
            "in_port": self.in_port,
            "ovn": self.ovn,
            "flow": self.text,
        }


@dataclass
class Group:
    """The flows one rule fired on, with their totals."""

    rule: str
    title: str
    source: str = ""
    flows: int = 0
    packets: int = 0
    bytes: int = 0
    items: list[ExplainedFlow] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "title": self.title,
            "source": self.source,
            "flows": self.flows,
            "packets": self.packets,
            "bytes": self.bytes,
            "items": [item.as_dict() for item in self.items],
        }


@dataclass
class Report:
    """Flows not in hardware, grouped by reason, built flow by flow.

    A flow with several reasons counts in each of their groups; a flow with
    none goes to :data:`NO_RULE`, so none is lost.  ``limit`` caps the flows
    kept per group (the busiest stay); the totals always count every flow.
    """

    rules: list[Rule] = field(default_factory=default_rules)
    ports: PortTable | None = None
    limit: int | None = None
    in_hardware: int = 0
    explained: int = 0
    groups: dict[str, Group] = field(default_factory=dict)

    def add(self, flow: Flow, source: str = "") -> None:
        """Explain one flow and file it under each of its reasons."""
        found = reasons(flow, self.rules, self.ports)
        cls = offload_class(flow)
        if cls == "hardware":
            self.in_hardware += 1
            return
        self.explained += 1
        item = ExplainedFlow(
            source,
            flow.line,
            flow.stats.packets,
            flow.stats.bytes,
            cls,
            tuple(found),
            str(flow),
            self._in_port(flow),
            _ovn(flow),
        )
        for name in [r.rule for r in found] or [NO_RULE]:
            group = self.groups.get(name) or self._new_group(name)
            group.flows += 1
            group.packets += item.packets
            group.bytes += item.bytes
            group.items.append(item)
            if self.limit is not None and len(group.items) > 2 * self.limit:
                self._trim(group)

    def add_all(self, flows: Iterable[Flow], source: str = "") -> None:
        for flow in flows:
            self.add(flow, source)

    def sorted_groups(self) -> list[Group]:
        """Groups by packets, then flows, biggest first, and the flows no rule
        explains last: they name no blocker.  Each group's flows by packets."""
        for group in self.groups.values():
            self._trim(group)
        return sorted(
            self.groups.values(),
            key=lambda g: (g.rule == NO_RULE, -g.packets, -g.flows, g.rule),
        )

    def as_dict(self) -> dict[str, Any]:
        """The report as the JSON object ``ovsflow explain`` prints."""
        return {
            "flows_not_in_hardware": self.explained,
            "flows_in_hardware": self.in_hardware,
            "ports": self.ports is not None,
            "reasons": [g.as_dict() for g in self.sorted_groups()],
        }

    def _new_group(self, name: str) -> Group:
        rule = next((r for r in self.rules if r.name == name), None)
        title = rule.title if rule else "no rule explains these flows"
        group = Group(name, title, rule.source if rule else "")
        self.groups[name] = group
        return group

    def _trim(self, group: Group) -> None:
        group.items.sort(key=lambda i: (-i.packets, i.source, i.line))
        if self.limit is not None:
            del group.items[self.limit :]

    def _in_port(self, flow: Flow) -> dict[str, Any] | None:
        port = flow.match.in_port
        if self.ports is None or port is None:
            return None
        iface = self.ports.lookup(port)
        return iface.as_dict() if iface is not None else None


def _ovn(flow: Flow) -> dict[str, object] | None:
    from ovsflow.ovn import decode

    found = decode(flow)
    return found.as_dict() if found is not None else None
