"""Rates between two dumps of the same datapath: what ran in the interval.

Counters in a dump are totals since each flow was installed, so one dump
cannot say what is offloaded *now*.  Two dumps can: :func:`diff_dumps`
matches the flows of both and turns the growth of each counter into a rate.

- Flows are matched by ``(section, ufid)``, and by ``(section, match_text)``
  when a flow has no ufid.  The section matters: each PMD thread of a
  userspace datapath holds its own copy of a flow under the same ufid.
- A flow in both dumps (``kept``) ran ``after - before`` packets and bytes.
- A counter lower after than before means the flow was deleted and added
  again in the interval (``readded``); what it ran since then, its counters
  in the second dump, is a lower bound of its traffic.  Never a negative
  rate.
- A flow only in the second dump ``appeared``: all its traffic is in the
  interval.  A flow only in the first ``disappeared``: how much it ran
  before it went is unknown, so it has no rate.
- In-hardware traffic of a flow is the growth of its ``hardware_packets``
  and ``hardware_bytes``, at most its whole growth (a flow that moved into
  hardware in the interval counts only what it ran in the interval).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Union

import pandas as pd
import pyarrow as pa

from ovsflow.analysis import l2_adjusted
from ovsflow.dump import FILE_TIME, NO_TIME, dump_time
from ovsflow.errors import InputError
from ovsflow.records import Flow
from ovsflow.summary import ratio
from ovsflow.table import read_dumps, to_dataframe

DumpLike = Union[pd.DataFrame, Iterable[Flow], str, "os.PathLike[str]"]

STATUSES = ("kept", "readded", "appeared", "disappeared")

#: Columns of :attr:`DiffResult.flows`.
FLOW_COLUMNS = (
    "status",
    "section",
    "ufid",
    "offload_class",
    "dp",
    "in_port",
    "packets_before",
    "packets_after",
    "bytes_before",
    "bytes_after",
    "packets",
    "bytes",
    "hardware_packets",
    "hardware_bytes",
    "packets_per_s",
    "bytes_per_s",
    "match_text",
    "actions_text",
)

_KEEP = (
    "section",
    "ufid",
    "match_text",
    "offload_class",
    "dp",
    "in_port",
    "packets",
    "bytes",
    "hardware_packets",
    "hardware_bytes",
    "actions_text",
)
_U64 = pd.ArrowDtype(pa.uint64())
_F64 = pd.ArrowDtype(pa.float64())
_STR = pd.ArrowDtype(pa.string())


@dataclass
class DiffResult:
    """The flows of two dumps side by side, and the interval's totals.

    ``flows`` has one row per flow (:data:`FLOW_COLUMNS`): ``packets`` and
    ``bytes`` are what the flow ran in the interval (null for a flow that
    disappeared), the ``*_per_s`` columns the same divided by ``interval``.
    ``interval_from`` says where the interval came from.
    """

    interval: float
    interval_from: str
    flows: pd.DataFrame
    l2_bytes: bool = False
    #: What a reader should know about the figures (flows printed twice, no
    #: flow in common).
    notes: list[str] = field(default_factory=list)
    totals: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.totals = _totals(self.flows, self.interval)

    def as_dict(self) -> dict[str, Any]:
        """The result as plain JSON values (``ovsflow diff --format json``)."""
        rows = self.flows.astype(object).where(self.flows.notna(), None)
        return {
            "interval": self.interval,
            "interval_from": self.interval_from,
            "l2_bytes": self.l2_bytes,
            "notes": self.notes,
            "totals": self.totals,
            "flows": rows.to_dict(orient="records"),
        }


def _totals(flows: pd.DataFrame, interval: float) -> dict[str, Any]:
    status = flows["status"].astype(_STR)
    ran = flows[status != "disappeared"]
    # Python ints: a uint64 sum of large counters would wrap around.
    packets = sum(ran["packets"].dropna().tolist())
    nbytes = sum(ran["bytes"].dropna().tolist())
    hw_packets = sum(ran["hardware_packets"].dropna().tolist())
    hw_bytes = sum(ran["hardware_bytes"].dropna().tolist())
    counts = {s: int((status == s).sum()) for s in STATUSES}
    return {
        "flows_before": counts["kept"] + counts["readded"] + counts["disappeared"],
        "flows_after": counts["kept"] + counts["readded"] + counts["appeared"],
        **counts,
        "packets": packets,
        "bytes": nbytes,
        "packets_per_s": packets / interval,
        "bytes_per_s": nbytes / interval,
        "hardware_packets": hw_packets,
        "hardware_bytes": hw_bytes,
        "hardware_packets_per_s": hw_packets / interval,
        "hardware_bytes_per_s": hw_bytes / interval,
        "hardware_packet_ratio": ratio(hw_packets, packets),
        "hardware_byte_ratio": ratio(hw_bytes, nbytes),
    }


def _frame(
    dump: DumpLike, l2_bytes: bool
) -> tuple[pd.DataFrame, tuple[datetime | None, str], int]:
    """The dump as a table with a match key, when it was taken, and how many
    of its flows were printed more than once.

    The time is the capture time of its ``# ovsflow-meta:`` header, else its
    file's modification time (see :func:`ovsflow.dump.dump_time`).
    """
    if isinstance(dump, (str, os.PathLike)):
        path = Path(dump)
        df = read_dumps([path])
        when = dump_time(df.attrs.get("meta", []), path)
    elif isinstance(dump, pd.DataFrame):
        df = dump
        when = dump_time(df.attrs.get("meta", []), None)
        if when[0] is None and df.attrs.get("mtime") is not None:
            stamp = datetime.fromtimestamp(df.attrs["mtime"], UTC)
            when = (stamp, FILE_TIME)
    else:
        df = to_dataframe(dump)
        when = (None, NO_TIME)
    if l2_bytes:
        df = l2_adjusted(df)
    df = df[list(_KEEP)].reset_index(drop=True)
    for name in ("section", "offload_class", "dp", "in_port"):
        df[name] = df[name].astype(_STR)
    by_ufid = "ufid:" + df["ufid"]
    df["key"] = by_ufid.fillna("match:" + df["match_text"])
    df["key"] = df["section"].fillna("") + "|" + df["key"]
    df, copies = _merge_duplicates(df)
    return df, when, copies


def _merge_duplicates(df: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """One row per key, and how many rows were copies of another.

    A dump prints one flow twice when the datapath changed while it was being
    dumped (or when a file was pasted twice).  Both copies are the same flow,
    so adding them up would double its traffic: the copy with the highest
    counters, the later one, is kept.
    """
    copies = int(df["key"].duplicated().sum())
    if not copies:
        return df, 0
    latest = df.sort_values(["packets", "bytes"], ascending=False, kind="stable")
    latest = latest.drop_duplicates("key").sort_index()
    return latest.reset_index(drop=True), copies


def _interval(
    interval: float | None,
    before: tuple[datetime | None, str],
    after: tuple[datetime | None, str],
) -> tuple[float, str]:
    """Seconds between the dumps, and where that figure came from.

    Capture times are used only when both dumps have one: a capture time and
    a file's modification time do not measure the same moment.
    """
    (old, old_basis), (new, new_basis) = before, after
    if interval is not None:
        value, source = float(interval), "given"
    elif old is not None and new is not None and old_basis == new_basis:
        value, source = (new - old).total_seconds(), f"{old_basis}s"
    else:
        raise InputError(
            "the interval between the dumps is unknown: give it (--interval "
            "SECONDS), or pass two dumps with capture times ('ovsflow collect' "
            "writes them) or two files, whose modification times give it"
        )
    if not (value > 0 and math.isfinite(value)):
        raise InputError(
            f"the interval between the dumps must be positive and finite, "
            f"not {value:g} "
            f"seconds ({source})"
        )
    return value, source


def _growth(after: pd.Series, before: pd.Series, readded: pd.Series) -> pd.Series:
    """after - before, or after alone where the flow was added again.

    Never below zero: in-hardware counters of a flow that left hardware
    drop while its packets grow.
    """
    base = before.fillna(0).where(~readded, 0)
    base = base.where(~(after < base).fillna(False), after)
    return (after - base).astype(_U64)


def diff_dumps(
    before: DumpLike,
    after: DumpLike,
    *,
    interval: float | None = None,
    l2_bytes: bool = False,
) -> DiffResult:
    """Compare two dumps of one datapath taken ``interval`` seconds apart.

    ``before`` and ``after`` are DataFrames of :data:`ovsflow.table.SCHEMA`,
    iterables of flows, or dump file paths.  Without ``interval``, it is the
    time between the capture times of the dumps' ``# ovsflow-meta:`` headers
    when both have one (a DataFrame's ``attrs["meta"]``), else between the
    files' modification times (a DataFrame's ``attrs["mtime"]``, seconds
    since the epoch, stands for its file's).  Raises
    :class:`~ovsflow.InputError` when the interval is unknown, zero or
    negative.  See the module docstring for how flows are matched and what
    counts in the interval.
    """
    old, old_time, old_copies = _frame(before, l2_bytes)
    new, new_time, new_copies = _frame(after, l2_bytes)
    seconds, source = _interval(interval, old_time, new_time)
    notes = []
    for which, copies in (("first", old_copies), ("second", new_copies)):
        if copies:
            notes.append(
                f"the {which} dump prints {_flows(copies)} more than once (same "
                "ufid or match in one section); each counts once, at its highest "
                "counters"
            )
    if len(old) and len(new) and not old["key"].isin(new["key"]).any():
        notes.append(
            "no flow of the first dump is in the second: are they dumps of the "
            "same datapath, both with or both without -m? (flows are matched "
            "by ufid, which only -m prints, else by their match)"
        )

    merged = new.merge(
        old, on="key", how="outer", suffixes=("", "_before"), indicator=True
    )
    only_old = merged["_merge"] == "right_only"
    for name in ("section", "ufid", "match_text", "offload_class", "dp", "in_port"):
        merged[name] = merged[name].where(~only_old, merged[f"{name}_before"])
    merged["actions_text"] = merged["actions_text"].where(
        ~only_old, merged["actions_text_before"]
    )

    both = merged["_merge"] == "both"
    went_back = (merged["packets"] < merged["packets_before"]) | (
        merged["bytes"] < merged["bytes_before"]
    )
    readded = both & went_back.fillna(False)
    merged["status"] = "kept"
    merged.loc[readded, "status"] = "readded"
    merged.loc[merged["_merge"] == "left_only", "status"] = "appeared"
    merged.loc[only_old, "status"] = "disappeared"

    flows = pd.DataFrame({"status": merged["status"].astype(_STR)})
    for name in ("section", "ufid", "offload_class", "dp", "in_port"):
        flows[name] = merged[name].astype(_STR)
    for name in ("packets", "bytes"):
        flows[f"{name}_before"] = merged[f"{name}_before"].astype(_U64)
        flows[f"{name}_after"] = merged[name].astype(_U64)
    for name in ("packets", "bytes", "hardware_packets", "hardware_bytes"):
        flows[name] = _growth(merged[name], merged[f"{name}_before"], readded)
    for name in ("hardware_packets", "hardware_bytes"):
        whole = flows[name.removeprefix("hardware_")]
        flows[name] = flows[name].where(flows[name] <= whole, whole)
    for name in ("packets", "bytes"):
        flows[f"{name}_per_s"] = _as_float(flows[name]) / seconds
    flows["match_text"] = merged["match_text"].astype(_STR)
    flows["actions_text"] = merged["actions_text"].astype(_STR)

    order = flows["status"].map({s: i for i, s in enumerate(STATUSES)})
    flows = flows.assign(_order=order.astype("int64"))
    flows = flows.sort_values(
        ["_order", "packets_per_s", "packets_before"],
        ascending=[True, False, False],
        kind="stable",
        na_position="last",
    )
    flows = flows.drop(columns="_order").reset_index(drop=True)
    return DiffResult(seconds, source, flows[list(FLOW_COLUMNS)], l2_bytes, notes)


def _as_float(counts: pd.Series) -> pd.Series:
    """uint64 counters as float64; Arrow refuses the cast past 2**53 as unsafe,
    while a rate only needs the counter's first 53 bits."""
    values = counts.to_numpy(dtype="float64", na_value=float("nan"))
    return pd.Series(values, index=counts.index).astype(_F64)


def _flows(n: int) -> str:
    return f"{n} flow" if n == 1 else f"{n} flows"


__all__ = ["FLOW_COLUMNS", "STATUSES", "DiffResult", "diff_dumps"]
