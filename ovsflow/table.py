"""Flows as a table: one row per flow, in Arrow and pandas.

:data:`SCHEMA` is the one description of the columns (``docs/schema.md``
explains each).  :func:`iter_batches` turns flows into Arrow record batches
without holding more than one batch; :func:`to_arrow`, :func:`to_dataframe`
and :func:`read_dumps` build whole tables on top of it.

Columns are filled from per-column Python lists, one pass over the flows,
and turned into Arrow arrays once per batch.  Two rules hold throughout:

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

from ovsflow._row_context import COLUMNS as CONTEXT_COLUMNS
from ovsflow._row_context import RowContext
from ovsflow._row_values import Row, actions_values, key_values, walk_actions
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
_WIDTH = len(SCHEMA)
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
_MATCH_TEXT = _INDEX["match_text"]
_UNFIT = _INDEX["unfit_values"]
# The columns RowContext fills, the last ones in schema order.
_CONTEXT = _INDEX[CONTEXT_COLUMNS[0]]
assert SCHEMA.names[_CONTEXT:] == list(CONTEXT_COLUMNS)


# What one match key or one action list puts in a row, ready to copy: the
# record itself, its text, (column index, value) cells and unfit values.
_Part = tuple[object, str, tuple[tuple[int, Any], ...], tuple[str, ...]]


def _part(record: object, row: Row, text: str) -> _Part:
    cells = tuple((_INDEX[name], value) for name, value in row.values.items())
    return (record, text, cells, tuple(row.unfit))


class _PartCache(dict[int, _Part]):
    """Parts by the identity of the record they came from.

    The parser shares one record among all flows with the same key or action
    text, so most lookups hit.  The record is kept in its part: an id is only
    reused after its object is freed, which holding it prevents.
    """

    limit = 1 << 16

    def key(self, key: Key | Unformattable) -> _Part:
        row = key_values(key) if isinstance(key, Key) else Row()
        return self._put(key, _part(key, row, str(key)))

    def actions(self, actions: tuple[Action, ...]) -> _Part:
        return self._put(actions, _part(actions, actions_values(actions), ""))

    def _put(self, record: object, part: _Part) -> _Part:
        if len(self) >= self.limit:
            self.clear()
        self[id(record)] = part
        return part


class _Columns:
    """Column lists for one batch, grown in steps up to ``batch_size`` rows.

    Most match and action columns are null in most rows; lists made of None
    up front let a flow write only the cells it has.
    """

    def __init__(self, batch_size: int) -> None:
        self.batch_size = batch_size
        self.rows = 0
        self.capacity = min(1024, batch_size)
        self.data: list[list[Any]] = [[None] * self.capacity for _ in SCHEMA]

    def grow(self) -> None:
        more = min(2 * self.capacity, self.batch_size) - self.capacity
        for column in self.data:
            column.extend([None] * more)
        self.capacity += more

    def batch(self) -> pa.RecordBatch:
        arrays = []
        for field, column in zip(SCHEMA, self.data, strict=True):
            values = column if self.rows == len(column) else column[: self.rows]
            if pa.types.is_dictionary(field.type):
                arrays.append(pa.array(values, pa.string()).dictionary_encode())
            else:
                arrays.append(pa.array(values, field.type))
        return pa.RecordBatch.from_arrays(arrays, schema=SCHEMA)


def _ufid(flow: Flow) -> str | None:
    """The ufid's text, from the line's layout where it is there (str(UUID)
    costs more than all of a row's other head columns)."""
    layout = flow.layout
    if layout and layout[0][0] == "ufid":
        text = layout[0][1]
        if text is not None and len(text) == 36:
            return text.lower()
    return None if flow.ufid is None else str(flow.ufid)


def _add_row(
    columns: _Columns,
    flow: Flow,
    source: str | None,
    keys: _PartCache,
    actions: _PartCache,
    context: RowContext,
) -> None:
    """Write the values of one flow in the next row of ``columns``."""
    if columns.rows == columns.capacity:
        columns.grow()
    n = columns.rows
    data = columns.data
    stats = flow.stats
    cls = offload_class(flow)
    extra = stats.extra
    if extra:
        hw_packets, hw_bytes = hardware_counts(flow, cls)
        offload_packets, offload_bytes = stats.offload_packets, stats.offload_bytes
    else:  # hardware_counts without vendor statistics, at a tenth of the cost
        offload_packets = offload_bytes = None
        hardware = cls == "hardware"
        hw_packets = stats.packets if hardware else 0
        hw_bytes = stats.bytes if hardware else 0
    attrs = flow.attrs
    head = (
        source,
        flow.section,
        flow.line,
        _ufid(flow),
        flow.dp,
        flow.offloaded,
        cls,
        stats.packets,
        stats.bytes,
        stats.used,
        stats.flags,
        offload_packets,
        offload_bytes,
        hw_packets,
        hw_bytes,
        [{"name": k, "value": str(v)} for k, v in extra] if extra else None,
        [{"name": k, "value": v} for k, v in attrs] if attrs else None,
        flow.dp_extra_info,
    )
    for column, value in zip(data, head):  # noqa: B905 (head is shorter)
        column[n] = value
    for index, value in enumerate(context.values(flow, cls), _CONTEXT):
        data[index][n] = value

    texts = []
    unfit: list[str] = []
    for key in flow.match.keys:
        part = keys.get(id(key))
        if part is None or part[0] is not key:
            part = keys.key(key)
        texts.append(part[1])
        for index, value in part[2]:
            column = data[index]
            if column[n] is None:
                column[n] = value  # the first key of a name wins
        if part[3]:
            unfit.extend(part[3])
    data[_MATCH_TEXT][n] = ",".join(texts)

    part = actions.get(id(flow.actions))
    if part is None or part[0] is not flow.actions:
        part = actions.actions(flow.actions)
    for index, value in part[2]:
        data[index][n] = value
    data[_UNFIT][n] = [*unfit, *part[3]] if part[3] else unfit
    columns.rows = n + 1


def flow_row(
    flow: Flow,
    source: str | None = None,
    *,
    ports: PortTable | None = None,
    rules: Sequence[Rule] | None = None,
) -> dict[str, Any]:
    """The values of one flow by column name, as in a row of the table."""
    columns = _Columns(1)
    context = RowContext(rules, ports)
    _add_row(columns, flow, source, _PartCache(), _PartCache(), context)
    return {
        name: column[0] for name, column in zip(SCHEMA.names, columns.data, strict=True)
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
    keys, actions = _PartCache(), _PartCache()
    context = RowContext(rules, ports)
    rest = iter(flows)
    while True:
        with _collector_paused():
            columns = _Columns(batch_size)
            for flow in itertools.islice(rest, batch_size):
                _add_row(columns, flow, source, keys, actions, context)
            batch = columns.batch() if columns.rows else None
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
