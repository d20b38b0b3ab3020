"""Offload figures from a table of flows (:data:`ovsflow.table.SCHEMA`).

The functions take a DataFrame with the table's columns, pandas or Dask
(:func:`ovsflow.dask.read_dumps`: each partition is summed in pandas on the
workers, the partial sums are computed and added up, and the result is
pandas).  They give the figures ``ovsflow summarize`` gives
(:mod:`ovsflow.summary`), for any grouping:

>>> from ovsflow import parse_flow
>>> from ovsflow.table import to_dataframe
>>> df = to_dataframe([parse_flow(
...     "in_port(1), packets:10, bytes:1000, used:1.0s, offloaded:yes, dp:tc, "
...     "actions:2")])
>>> summary = offload_summary(df)
>>> summary.loc[0, "packets"], summary.loc[0, "hardware_packet_ratio"]
(10, 1.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ovsflow.errors import InputError
from ovsflow.summary import CLASSES, ETH_HEADER_BYTES

#: The counters of :func:`offload_summary`, in the order of its columns.
COUNTS = ("flows", "packets", "bytes")
HARDWARE = ("hardware_flows", "hardware_packets", "hardware_bytes")
RATIOS = ("hardware_flow_ratio", "hardware_packet_ratio", "hardware_byte_ratio")
CLASS_COUNTS = tuple(f"class_{c}_{n}" for c in CLASSES for n in COUNTS)
SUMMARY_COLUMNS = (*COUNTS, *HARDWARE, *RATIOS, *CLASS_COUNTS)

_COUNTER = pd.ArrowDtype(pa.uint64())
_U64_LIMIT = float(1 << 64)
_STRING = pd.ArrowDtype(pa.string())


def l2_adjusted(df: Any) -> Any:
    """``bytes`` and ``hardware_bytes`` with 14 bytes per packet added back to
    ``dp == "tc"`` flows.

    TC counts bytes from the IP header on, while the kernel datapath and DPDK
    count the Ethernet header too; adding the header back makes bytes of
    ``dp:tc`` and ``dp:ovs`` flows comparable.
    """
    tc = (df["dp"] == "tc").fillna(False)
    extra = (df["packets"] * ETH_HEADER_BYTES).where(tc, 0)
    extra_hw = (df["hardware_packets"] * ETH_HEADER_BYTES).where(tc, 0)
    return df.assign(
        bytes=(df["bytes"] + extra).astype(_COUNTER),
        hardware_bytes=(df["hardware_bytes"] + extra_hw).astype(_COUNTER),
    )


def _counts(df: Any, by: list[str]) -> Any:
    """One counter column per figure, for every flow, ready to be summed."""
    cls = df["offload_class"].astype(pd.ArrowDtype(pa.string()))
    columns: dict[str, Any] = {name: df[name] for name in by}
    one = df["packets"].notna().astype(_COUNTER)  # packets is never null
    columns["flows"] = one
    columns["packets"] = df["packets"]
    columns["bytes"] = df["bytes"]
    hardware = (cls == "hardware").fillna(False)
    columns["hardware_flows"] = one.where(hardware, 0)
    columns["hardware_packets"] = df["hardware_packets"]
    columns["hardware_bytes"] = df["hardware_bytes"]
    for name in CLASSES:
        member = (cls == name).fillna(False)
        for count in COUNTS:
            columns[f"class_{name}_{count}"] = columns[count].where(member, 0)
    return df.assign(**columns)[[*by, *COUNTS, *HARDWARE, *CLASS_COUNTS]]


def _is_dictionary(column: Any) -> bool:
    dtype = column.dtype
    return isinstance(dtype, pd.ArrowDtype) and pa.types.is_dictionary(
        dtype.pyarrow_dtype
    )


def _is_list(dtype: object) -> bool:
    return isinstance(dtype, pd.ArrowDtype) and (
        pa.types.is_list(dtype.pyarrow_dtype)
        or pa.types.is_large_list(dtype.pyarrow_dtype)
    )


def _as_double(counts: Any) -> Any:
    """uint64 counters as doubles.  Arrow refuses the cast past 2**53 as
    unsafe; a ratio only needs a counter's first 53 bits."""
    values = pc.cast(pa.array(counts), pa.float64(), safe=False)
    return pd.Series(values, index=counts.index, dtype=pd.ArrowDtype(pa.float64()))


def _ratio(part: Any, whole: Any) -> Any:
    """part/whole as doubles, null where whole is zero."""
    return _as_double(part) / _as_double(whole).where(whole > 0)


def _sums(df: pd.DataFrame, by: list[str], l2_bytes: bool) -> pd.DataFrame:
    """The counters of a pandas DataFrame of flows, summed per group."""
    if l2_bytes:
        df = l2_adjusted(df)
    for name in by:
        if _is_list(df[name].dtype):
            df = df.explode(name)
    return _group_sums(_counts(df, by), by)


def _group_sums(counts: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    # A group's sum is at most the column's, so one check per column tells
    # whether a uint64 sum could wrap around (counters near 2**64 in a dump).
    for name in counts.columns.difference(by):
        total = pc.sum(pc.cast(pa.array(counts[name]), pa.float64(), safe=False))
        if (total.as_py() or 0) >= _U64_LIMIT:
            raise InputError(
                f"the {name} of these flows add up past 2**64, more than a "
                "64-bit sum can hold; 'ovsflow summarize' counts them exactly"
            )
    if by:
        summed = counts.groupby(by, dropna=False, observed=True, sort=True).sum()
        return summed.reset_index()
    summed = counts.assign(_all=0).groupby("_all").sum().reset_index(drop=True)
    if summed.empty:
        summed = pd.DataFrame({c: pd.array([0], _COUNTER) for c in counts})
    return summed


def offload_summary(
    df: Any, by: Sequence[str] | str = (), *, l2_bytes: bool = False
) -> Any:
    """Offload figures of the flows in ``df``, per group of ``by`` columns.

    One row per group (one row in all when ``by`` is empty), with the group
    columns, then ``flows``, ``packets``, ``bytes``, the same three in
    hardware (``hardware_flows``...), ``hardware_flow_ratio``,
    ``hardware_packet_ratio``, ``hardware_byte_ratio`` (null when the total
    is zero), and ``class_{class}_{flows,packets,bytes}`` for each offload
    class.
    These are the figures of ``ovsflow summarize``.

    A list column in ``by`` (``action_kinds``, ``output_ports``) is exploded
    first: a flow counts once in each of its values, so the groups add up to
    more than the total.  A flow with no value (null, or an empty list) is in
    the group whose key is null.  ``l2_bytes`` adds the 14-byte Ethernet
    header to each packet of ``dp == "tc"`` flows (:func:`l2_adjusted`);
    ``result.attrs["l2_bytes"]`` says which was used.
    """
    by = [by] if isinstance(by, str) else list(by)
    missing = [name for name in by if name not in df.columns]
    if missing:
        raise ValueError(f"cannot group by {missing!r}: no such column")
    if isinstance(df, pd.DataFrame):
        summed = _sums(df, by, l2_bytes)
    else:
        # A Dask DataFrame: each partition is summed by the pandas code on
        # the workers, and the sums (a row per group) are added up here.
        # Group keys go as plain strings: pandas cannot concatenate Arrow
        # dictionary columns with different dictionaries.
        restore = {name: df[name].dtype for name in by if _is_dictionary(df[name])}
        df = df.assign(**{name: df[name].astype(_STRING) for name in restore})
        meta = _sums(df._meta, by, l2_bytes)
        parts = df.map_partitions(_sums, by, l2_bytes, meta=meta).compute()
        summed = _group_sums(parts.reset_index(drop=True), by).astype(restore)
    summed = summed.assign(
        **{
            ratio: _ratio(summed[part], summed[whole])
            for ratio, part, whole in zip(RATIOS, HARDWARE, COUNTS, strict=True)
        }
    )
    summed = summed[[*by, *SUMMARY_COLUMNS]]
    summed.attrs["l2_bytes"] = l2_bytes
    return summed


#: Columns of :func:`top_not_hardware`.
TOP_COLUMNS = (
    "source",
    "line",
    "offload_class",
    "dp",
    "packets",
    "bytes",
    "in_port",
    "match_text",
    "actions_text",
)


def top_not_hardware(
    df: Any, n: int = 10, *, by: str = "packets", l2_bytes: bool = False
) -> Any:
    """The ``n`` busiest flows whose offload class is not ``hardware``.

    Sorted by ``by`` (``packets`` or ``bytes``), most first; among equals,
    the flow read first comes first, as in ``ovsflow summarize``.
    """
    if by not in ("packets", "bytes"):
        raise ValueError(f"by must be 'packets' or 'bytes', not {by!r}")
    if isinstance(df, pd.DataFrame):
        top = _top(df, n, by, l2_bytes)
    else:
        # A Dask DataFrame: the top flows of each partition, then of those,
        # in partition order so that ties still go to the flow read first.
        meta = _top(df._meta, n, by, l2_bytes)
        parts = df.map_partitions(_top, n, by, l2_bytes, meta=meta).compute()
        top = _top(parts.reset_index(drop=True), n, by, False)
    top = top.reset_index(drop=True)
    top.attrs["l2_bytes"] = l2_bytes
    return top


def _top(df: pd.DataFrame, n: int, by: str, l2_bytes: bool) -> pd.DataFrame:
    if l2_bytes:
        df = l2_adjusted(df)
    cls = df["offload_class"].astype(pd.ArrowDtype(pa.string()))
    rest = df[(cls != "hardware").fillna(True)]
    return rest.nlargest(n, by, keep="first")[list(TOP_COLUMNS)]


__all__ = [
    "CLASS_COUNTS",
    "COUNTS",
    "ETH_HEADER_BYTES",
    "HARDWARE",
    "RATIOS",
    "SUMMARY_COLUMNS",
    "TOP_COLUMNS",
    "l2_adjusted",
    "offload_summary",
    "top_not_hardware",
]
