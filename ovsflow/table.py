"""Flows as a table: one row per flow, in Arrow and pandas.

:data:`SCHEMA` is the one description of the columns (``docs/schema.md``
explains each).  :func:`iter_batches` turns flows into Arrow record batches
without holding more than one batch; :func:`to_arrow`, :func:`to_dataframe`
and :func:`read_dumps` build whole tables on top of it.

Columns are filled from per-column Python lists, one pass over the flows,
and turned into Arrow arrays once per batch.  What a match key, an action or
an action list puts in a row is worked out once per record (the parser
shares records among flows) and copied; the action and context columns are
converted once per distinct value and copied with ``take``.  Two rules hold
throughout:

- a match field is null when the flow does not match on it: the key is
  absent, or OVS printed it with an all-zero mask (``src=40000/0``);
- a value that does not fit its numeric column (``tcp(src=http)`` in a flow
  built in Python; the parser refuses it) is null there and listed, as
  ``name=value``, in ``unfit_values``; string columns (ports, addresses) hold
  every form as printed.
"""

from __future__ import annotations

import gc
import itertools
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pandas as pd
import pyarrow as pa

from ovsflow._build import usual_uuid_int
from ovsflow._row_context import COLUMNS as CONTEXT_COLUMNS
from ovsflow._row_context import RowContext
from ovsflow._row_values import (
    ActionItems,
    Row,
    actions_values,
    clear_caches,
    key_values,
    record_text,
    walk_actions,
)
from ovsflow.actions import Action
from ovsflow.dump import DumpReader, OnError
from ovsflow.explain import Rule
from ovsflow.ports import PortTable
from ovsflow.records import Flow, Key, Unformattable
from ovsflow.summary import hardware_counts, offload_class

_DICT = pa.dictionary(pa.int32(), pa.string())
_NAME_VALUE = pa.list_(pa.struct([("name", pa.string()), ("value", pa.string())]))

GENEVE_TYPE = pa.struct(
    [
        ("class", pa.uint16()),
        ("class_mask", pa.uint16()),
        ("type", pa.uint8()),
        ("type_mask", pa.uint8()),
        ("len", pa.uint8()),
        ("len_mask", pa.uint8()),
        ("data", pa.string()),
        ("mask", pa.string()),
    ]
)

ACTION_TYPE = pa.struct(
    [
        ("kind", pa.string()),
        ("text", pa.string()),
        ("port", pa.string()),
        ("recirc_id", pa.uint32()),
        ("ct_zone", pa.uint16()),
        ("commit", pa.bool_()),
        ("tunnel_dst", pa.string()),
    ]
)


def _address_columns(prefix: str) -> list[tuple[str, pa.DataType]]:
    return [
        (f"{prefix}", pa.string()),
        (f"{prefix}_mask", pa.string()),
        (f"{prefix}_prefix", pa.uint8()),
    ]


def _port_columns(prefix: str) -> list[tuple[str, pa.DataType]]:
    return [(f"{prefix}", pa.uint16()), (f"{prefix}_mask", pa.uint16())]


_COLUMNS: list[tuple[str, pa.DataType]] = [
    # Where the row came from.
    ("source", _DICT),
    ("section", _DICT),
    ("line", pa.int64()),
    ("ufid", pa.string()),
    # Offload attributes and statistics.
    ("dp", _DICT),
    ("offloaded", _DICT),
    ("offload_class", _DICT),
    ("packets", pa.uint64()),
    ("bytes", pa.uint64()),
    ("used", pa.float64()),
    ("flags", _DICT),
    ("offload_packets", pa.uint64()),
    ("offload_bytes", pa.uint64()),
    ("hardware_packets", pa.uint64()),
    ("hardware_bytes", pa.uint64()),
    ("stats_extra", _NAME_VALUE),
    ("extra_attrs", _NAME_VALUE),
    ("dp_extra_info", pa.string()),
    # Match fields.
    ("recirc_id", pa.uint32()),
    ("in_port", _DICT),
    ("in_port_number", pa.uint32()),
    ("eth_src", pa.string()),
    ("eth_src_mask", pa.string()),
    ("eth_dst", pa.string()),
    ("eth_dst_mask", pa.string()),
    ("eth_type", pa.uint16()),
    ("vlan_vid", pa.uint16()),
    ("ip_proto", pa.uint8()),
    ("ip_frag", _DICT),
    *_address_columns("ipv4_src"),
    *_address_columns("ipv4_dst"),
    *_address_columns("ipv6_src"),
    *_address_columns("ipv6_dst"),
    *_port_columns("tcp_src"),
    *_port_columns("tcp_dst"),
    *_port_columns("udp_src"),
    *_port_columns("udp_dst"),
    ("icmp_type", pa.uint8()),
    ("icmp_code", pa.uint8()),
    ("ct_state_set", _DICT),
    ("ct_state_clear", _DICT),
    ("ct_zone", pa.uint16()),
    ("ct_mark", pa.uint32()),
    ("tun_id", pa.uint64()),
    ("tun_src", _DICT),
    ("tun_dst", _DICT),
    ("tun_tp_dst", pa.uint16()),
    ("geneve", pa.list_(GENEVE_TYPE)),
    # Actions, typed and derived.
    ("actions", pa.list_(ACTION_TYPE)),
    ("action_kinds", pa.list_(pa.string())),
    ("output_ports", pa.list_(pa.string())),
    ("ct_commit", pa.bool_()),
    ("tnl_push_dst", _DICT),
    ("set_tunnel_dst", _DICT),
    ("recirc", pa.uint32()),
    # The text as printed, and what did not fit.
    ("match_text", pa.string()),
    ("actions_text", pa.string()),
    ("unfit_values", pa.list_(pa.string())),
    # Why not in hardware, OVN's logical ports, and pods (from the port table).
    ("reasons", pa.list_(pa.string())),
    ("ovn_datapath", pa.uint32()),
    ("ovn_ingress_port", pa.uint16()),
    ("ovn_egress_port", pa.uint16()),
    ("ovn_direction", _DICT),
    ("in_port_interface", _DICT),
    ("in_port_pod", _DICT),
    ("in_port_namespace", _DICT),
    ("output_pods", pa.list_(pa.string())),
]

#: One row per flow; ``docs/schema.md`` describes every column.
SCHEMA = pa.schema(_COLUMNS)


_INDEX = {name: i for i, name in enumerate(SCHEMA.names)}
# The columns every flow fills directly, in schema order from the first one.
_HEAD = (
    "source",
    "section",
    "line",
    "ufid",
    "dp",
    "offloaded",
    "offload_class",
    "packets",
    "bytes",
    "used",
    "flags",
    "offload_packets",
    "offload_bytes",
    "hardware_packets",
    "hardware_bytes",
    "stats_extra",
    "extra_attrs",
    "dp_extra_info",
)
assert SCHEMA.names[: len(_HEAD)] == list(_HEAD)
# The columns match keys fill, next in schema order.
_MATCH = SCHEMA.names[len(_HEAD) : _INDEX["geneve"] + 1]
_MATCH_INDEX = {name: i for i, name in enumerate(_MATCH)}
# The columns an action list fills, in the order of an _ActionPart's values.
_ACTIONS = (
    "actions",
    "action_kinds",
    "output_ports",
    "ct_commit",
    "tnl_push_dst",
    "set_tunnel_dst",
    "recirc",
    "actions_text",
)
assert SCHEMA.names[_INDEX["geneve"] + 1 : _INDEX["match_text"]] == list(_ACTIONS[:-1])
assert SCHEMA.names[_INDEX["match_text"] :] == [
    "match_text",
    "actions_text",
    "unfit_values",
    *CONTEXT_COLUMNS,
]

# What one match key puts in a row, ready to copy: the key itself, its text,
# and, for the few keys that have any, its (match column index, value)
# cells, unfit values, and whether RowContext reads it.
_KeyExtra = tuple[tuple[tuple[int, Any], ...], tuple[str, ...], bool]
_KeyPart = tuple[object, str, _KeyExtra | None]
# What one action list puts in a row: the list itself, the values of
# _ACTIONS, unfit values, and RowContext.action_facts of the list.
_ActionPart = tuple[object, tuple[Any, ...], tuple[str, ...], tuple[Any, ...]]


class _Parts:
    """Key and action parts by the identity of their records.

    The parser shares one record among all flows with the same key or action
    text, so most lookups hit.  Each part keeps its record: an id is only
    reused after its object is freed, which holding it prevents, so a hit
    needs no check that it is the same record.
    """

    limit = 1 << 16

    def __init__(self, context: RowContext) -> None:
        self.context = context
        self.keys: dict[int, _KeyPart] = {}
        self.actions: dict[int, _ActionPart] = {}
        self.items: ActionItems = {}

    def clear(self) -> None:
        """Empty the caches."""
        self.keys.clear()
        self.actions.clear()
        self.items.clear()
        self.context.clear()
        clear_caches()

    def key(self, key: Key | Unformattable) -> _KeyPart:
        row = key_values(key) if isinstance(key, Key) else Row()
        cells = tuple(
            [(_MATCH_INDEX[name], value) for name, value in row.values.items()]
        )
        text = record_text(key) if isinstance(key, Key) else str(key)
        extra = (cells, tuple(row.unfit), key.name in self.context.names)
        part = (key, text, extra if any(extra) else None)
        if len(self.keys) >= self.limit:
            self.keys.clear()
        self.keys[id(key)] = part
        return part

    def action_list(self, actions: tuple[Action, ...]) -> _ActionPart:
        row = actions_values(actions, self.items)
        values = tuple([row.values.get(name) for name in _ACTIONS])
        facts = self.context.action_facts(actions)
        part = (actions, values, tuple(row.unfit), facts)
        if len(self.actions) >= self.limit:
            self.actions.clear()
        self.actions[id(actions)] = part
        return part


class _Filled:
    """The values of a run of flows, column by column, not yet Arrow.

    Head, match and text columns hold one value per row; the action and
    context columns are the distinct parts and values of the run, and each
    row's index among them.
    """

    def __init__(self, flows: list[Flow], source: str | None, parts: _Parts) -> None:
        n = len(flows)
        self.rows = n
        context = parts.context
        key_get, new_key = parts.keys.get, parts.key
        actions_get, new_actions = parts.actions.get, parts.action_list
        self.matched: list[list[Any]] = [[None] * n for _ in _MATCH]
        matched = self.matched
        classes: list[str] = []
        match_texts: list[str] = []
        unfits: list[list[str]] = []
        self.action_rows: list[int] = []
        self.action_parts: list[_ActionPart] = []
        self.context_rows: list[int] = []
        self.context_values: list[tuple[Any, ...]] = []
        # Batch-local indexes by id: the lists above keep each object alive.
        action_index: dict[int, int] = {}
        context_index: dict[int, int] = {}
        for row, flow in enumerate(flows):
            cls = offload_class(flow)
            classes.append(cls)
            keys = flow.match.keys
            found = [key_get(id(key)) or new_key(key) for key in keys]
            match_texts.append(",".join([part[1] for part in found]))
            unfit: list[str] = []
            read: list[object] = []  # the keys RowContext reads
            for part in found:
                extra = part[2]
                if extra is None:
                    continue
                for index, value in extra[0]:
                    column = matched[index]
                    if column[row] is None:
                        column[row] = value  # the first key of a name wins
                if extra[1]:
                    unfit.extend(extra[1])
                if extra[2]:
                    read.append(part[0])
            actions = flow.actions
            action = actions_get(id(actions)) or new_actions(actions)
            unfits.append([*unfit, *action[2]] if action[2] else unfit)
            slot = action_index.get(id(action))
            if slot is None:
                slot = action_index[id(action)] = len(self.action_parts)
                self.action_parts.append(action)
            self.action_rows.append(slot)
            values = context.values(flow, cls, read, action[3])
            slot = context_index.get(id(values))
            if slot is None:
                slot = context_index[id(values)] = len(self.context_values)
                self.context_values.append(values)
            self.context_rows.append(slot)
        self.match_texts = match_texts
        self.unfits = unfits
        self.head = _head(flows, source, classes)

    def columns(self) -> list[list[Any]]:
        """Every column's values in schema order, one per row (flow_row)."""
        actions = [
            [self.action_parts[i][1][k] for i in self.action_rows]
            for k in range(len(_ACTIONS))
        ]
        context = [
            [self.context_values[i][k] for i in self.context_rows]
            for k in range(len(CONTEXT_COLUMNS))
        ]
        return [
            *self.head,
            *self.matched,
            *actions[:-1],
            self.match_texts,
            actions[-1],
            self.unfits,
            *context,
        ]

    def batch(self) -> pa.RecordBatch:
        arrays = [_array(v, SCHEMA.field(i).type) for i, v in enumerate(self.head)]
        offset = len(_HEAD)
        arrays += [
            _array(v, SCHEMA.field(offset + i).type) for i, v in enumerate(self.matched)
        ]
        actions = _taken(
            [part[1] for part in self.action_parts], self.action_rows, _ACTIONS
        )
        context = _taken(self.context_values, self.context_rows, CONTEXT_COLUMNS)
        arrays += actions[:-1]
        arrays.append(pa.array(self.match_texts, pa.string()))
        arrays.append(actions[-1])
        arrays.append(pa.array(self.unfits, SCHEMA.field("unfit_values").type))
        arrays += context
        return pa.RecordBatch.from_arrays(arrays, schema=SCHEMA)


def _array(values: list[Any], kind: pa.DataType) -> pa.Array:
    if pa.types.is_dictionary(kind):
        return pa.array(values, pa.string()).dictionary_encode()
    return pa.array(values, kind)


def _taken(
    distinct: list[tuple[Any, ...]], rows: list[int], names: Sequence[str]
) -> list[pa.Array]:
    """Columns ``names`` of each row's tuple of ``distinct``, by its index.

    Arrow converts each distinct tuple once and copies it with ``take``: a
    list of structs costs far more to convert than to copy.  Dictionary
    columns are encoded after, so that their dictionaries come in row order.
    """
    indices = pa.array(rows, pa.int32())
    # Every row its own tuple, in order: no copy needed.
    same = len(distinct) == len(rows) and rows == list(range(len(rows)))
    out = []
    for k, name in enumerate(names):
        kind = SCHEMA.field(name).type
        dictionary = pa.types.is_dictionary(kind)
        array = pa.array([v[k] for v in distinct], pa.string() if dictionary else kind)
        if not same:
            array = array.take(indices)
        out.append(array.dictionary_encode() if dictionary else array)
    return out


def _head(flows: list[Flow], source: str | None, classes: list[str]) -> list[list[Any]]:
    """The values of the _HEAD columns, column by column."""
    stats = [flow.stats for flow in flows]
    hardware = [cls == "hardware" for cls in classes]
    offload_packets: list[int | None] = [None] * len(flows)
    offload_bytes: list[int | None] = [None] * len(flows)
    # hardware_counts, at a tenth of the cost for flows without vendor
    # statistics, which are most.
    hw_packets = [s.packets if h else 0 for s, h in zip(stats, hardware)]  # noqa: B905
    hw_bytes = [s.bytes if h else 0 for s, h in zip(stats, hardware)]  # noqa: B905
    stats_extra: list[Any] = [None] * len(flows)
    for row, s in enumerate(stats):
        if s.extra:
            flow = flows[row]
            hw_packets[row], hw_bytes[row] = hardware_counts(flow, classes[row])
            offload_packets[row], offload_bytes[row] = (
                s.offload_packets,
                s.offload_bytes,
            )
            stats_extra[row] = [{"name": k, "value": str(v)} for k, v in s.extra]
    return [
        [source] * len(flows),
        [flow.section for flow in flows],
        [flow.line for flow in flows],
        [_ufid(flow) for flow in flows],
        [flow.dp for flow in flows],
        [flow.offloaded for flow in flows],
        classes,
        [s.packets for s in stats],
        [s.bytes for s in stats],
        [s.used for s in stats],
        [s.flags for s in stats],
        offload_packets,
        offload_bytes,
        hw_packets,
        hw_bytes,
        stats_extra,
        [
            [{"name": k, "value": v} for k, v in flow.attrs] if flow.attrs else None
            for flow in flows
        ],
        [flow.dp_extra_info for flow in flows],
    ]


def _ufid(flow: Flow) -> str | None:
    """The ufid's text, from the line's layout where it is there (str(UUID)
    costs more than all of a row's other head columns)."""
    layout = flow.layout
    if layout and layout[0][0] == "ufid":
        text = layout[0][1]
        # Other texts UUID() takes ("urn:" and 32 digits, misplaced
        # hyphens) are written as str(UUID) writes them.
        if text is not None and usual_uuid_int(text) is not None:
            return text.lower()
    return None if flow.ufid is None else str(flow.ufid)


def flow_row(
    flow: Flow,
    source: str | None = None,
    *,
    ports: PortTable | None = None,
    rules: Sequence[Rule] | None = None,
) -> dict[str, Any]:
    """The values of one flow by column name, as in a row of the table."""
    filled = _Filled([flow], source, _Parts(RowContext(rules, ports)))
    return {
        name: column[0]
        for name, column in zip(SCHEMA.names, filled.columns(), strict=True)
    }


def iter_batches(
    flows: Iterable[Flow],
    *,
    source: str | None = None,
    batch_size: int = 65536,
    ports: PortTable | None = None,
    rules: Sequence[Rule] | None = None,
) -> Iterator[pa.RecordBatch]:
    """Arrow record batches of :data:`SCHEMA`, ``batch_size`` flows each.

    Flows are read lazily: at most one batch is held at a time, so memory
    stays flat however long ``flows`` is.  ``source`` fills the ``source``
    column (a file name, a node).  ``rules`` (the built-in rules of
    :mod:`ovsflow.explain` by default) fill ``reasons``; ``ports`` (a
    :class:`~ovsflow.ports.PortTable`) fills the interface and pod columns,
    which are null without it.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size!r}")
    parts = _Parts(RowContext(rules, ports))
    rest = iter(flows)
    while True:
        with _collector_paused():
            chunk = list(itertools.islice(rest, batch_size))
            batch = _Filled(chunk, source, parts).batch() if chunk else None
            # The caches go with each batch: a batch's new records are mostly
            # its own, the shared ones few and cheap to work out again, and
            # the collector's next run need not walk all that the caches hold.
            parts.clear()
            del chunk
        if batch is None:
            return
        yield batch


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a batch is filled.

    A batch makes container objects (cells, lists of structs) that live
    until it is built; as they add up, the collector walks every object of
    the process, and a caller holding 200,000 parsed flows holds millions:
    a seventh of the CPU time went there (``benchmarks/table.py --gc both``).
    The cells hold no cycles; cycles made meanwhile (by the flows' source,
    another thread) wait for the next collection after the batch.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def to_arrow(
    flows: Iterable[Flow],
    *,
    source: str | None = None,
    ports: PortTable | None = None,
    rules: Sequence[Rule] | None = None,
) -> pa.Table:
    """All flows as one Arrow table of :data:`SCHEMA` (see :func:`iter_batches`)."""
    batches = list(iter_batches(flows, source=source, ports=ports, rules=rules))
    return pa.Table.from_batches(batches, schema=SCHEMA).unify_dictionaries()


def arrow_to_dataframe(table: pa.Table) -> pd.DataFrame:
    """A table of :data:`SCHEMA` as pandas, every column Arrow-backed."""
    return table.to_pandas(types_mapper=pd.ArrowDtype)


def to_dataframe(
    flows: Iterable[Flow],
    *,
    source: str | None = None,
    ports: PortTable | None = None,
    rules: Sequence[Rule] | None = None,
) -> pd.DataFrame:
    """All flows as a pandas DataFrame with ``pd.ArrowDtype`` columns.

    ``ports`` and ``rules`` as in :func:`iter_batches`.

    >>> from ovsflow import parse_flow
    >>> df = to_dataframe([parse_flow(
    ...     "in_port(1),eth_type(0x0800), packets:3, bytes:180, used:0.5s, "
    ...     "offloaded:yes, dp:tc, actions:2")], source="node1")
    >>> df.loc[0, ["source", "in_port", "packets", "offload_class"]].tolist()
    ['node1', '1', 3, 'hardware']
    """
    return arrow_to_dataframe(to_arrow(flows, source=source, ports=ports, rules=rules))


def read_dumps(
    paths: Iterable[str | os.PathLike[str]],
    *,
    on_error: OnError = "raise",
    ports: PortTable | None = None,
    rules: Sequence[Rule] | None = None,
) -> pd.DataFrame:
    """The flows of several dump files in one DataFrame.

    ``source`` is each path as given.  With ``on_error="skip"`` lines that are
    not flows are left out and listed in ``df.attrs["skipped"]`` (source,
    line, reason); with ``"raise"`` (the default) the first one raises
    :class:`~ovsflow.ParseError`.  ``df.attrs["meta"]`` holds the dumps'
    ``# ovsflow-meta:`` headers (capture time, node, OVS version).
    ``ports`` and ``rules`` as in :func:`iter_batches`.
    """
    batches: list[pa.RecordBatch] = []
    skipped: list[dict[str, Any]] = []
    meta: list[dict[str, Any]] = []
    for path in paths:
        name = os.fspath(path)
        reader = DumpReader(path, on_error, name)
        batches.extend(iter_batches(reader, source=name, ports=ports, rules=rules))
        skipped.extend(
            {"source": name, "line": s.line, "reason": s.reason} for s in reader.skipped
        )
        meta.extend(reader.meta)
    table = pa.Table.from_batches(batches, schema=SCHEMA).unify_dictionaries()
    df = arrow_to_dataframe(table)
    df.attrs["skipped"] = skipped
    df.attrs["meta"] = meta
    return df


__all__ = [
    "ACTION_TYPE",
    "GENEVE_TYPE",
    "SCHEMA",
    "arrow_to_dataframe",
    "flow_row",
    "iter_batches",
    "read_dumps",
    "to_arrow",
    "to_dataframe",
    "walk_actions",
]
