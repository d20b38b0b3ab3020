"""One self-contained HTML page about the offload of one or more dumps.

The page holds the summary, why flows are not in hardware (the rules of
:mod:`ovsflow.explain`, from the table's ``reasons`` column), charts of the
hardware share by datapath layer, by input port, by pod and namespace (with a
port table) and, with several dumps, over time, the busiest flows not in
hardware, the inputs and every line that was skipped.  It loads nothing: the
style is inline and the charts are inline SVG (see :mod:`ovsflow.charts`),
with no script at all.  Every string that comes from a dump is escaped.

Dumps are put in time order by the capture time of their ``# ovsflow-meta:``
header (written by ``ovsflow collect``), else by the file's modification
time; the page says which each one used.

>>> from ovsflow import samples
>>> loaded = load_dumps([samples.path("kube-ovn-yusur-2200e")])
>>> page = render_report(loaded)
>>> page.startswith("<!DOCTYPE html>"), "<script" in page
(True, False)
"""

from __future__ import annotations

import html
import itertools
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

import pandas as pd
import pyarrow as pa

from ovsflow import charts
from ovsflow._version import package_version
from ovsflow.analysis import COUNTS, RATIOS, offload_summary, top_not_hardware
from ovsflow.diff import diff_dumps
from ovsflow.dump import (
    CAPTURE_TIME,
    FILE_TIME,
    NO_TIME,
    DumpReader,
    OnError,
    Skipped,
    dump_time,
)
from ovsflow.errors import OvsflowError
from ovsflow.explain import NO_RULE, Group, Report, Rule, default_rules
from ovsflow.ports import PortTable
from ovsflow.summary import CLASSES
from ovsflow.table import SCHEMA, arrow_to_dataframe, iter_batches

#: How many input ports the port chart shows (the busiest by packets).
PORTS_SHOWN = 12
#: How many skipped lines the page lists before it only counts the rest.
SKIPPED_SHOWN = 50


@dataclass(frozen=True)
class DumpInfo:
    """One input: where it came from, when it was taken, what was skipped."""

    source: str
    time: datetime | None
    time_basis: str  # CAPTURE_TIME, FILE_TIME or NO_TIME
    flows: int
    skipped: tuple[Skipped, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Loaded:
    """Flows of several dumps in one table, and the dumps in time order.

    ``rules`` are the rules that filled the ``reasons`` column; ``ports`` the
    port table that filled the pod columns, if any.
    """

    df: pd.DataFrame
    dumps: tuple[DumpInfo, ...]
    rules: tuple[Rule, ...] = ()
    ports: PortTable | None = None


def load_dumps(
    paths: Iterable[str | os.PathLike[str]],
    *,
    on_error: OnError = "skip",
    ports: PortTable | None = None,
    rules: Sequence[Rule] | None = None,
) -> Loaded:
    """Read dump files ('-' for standard input) into one table, in time order.

    ``source`` in the table is each path as given.  With ``on_error="skip"``
    (the default) lines that are not flows are kept in each
    :class:`DumpInfo`'s ``skipped``; ``"raise"`` raises the first one as
    :class:`~ovsflow.ParseError`.  ``ports`` and ``rules`` fill the table's
    pod and ``reasons`` columns (:func:`ovsflow.table.iter_batches`).
    """
    import sys

    def readers() -> Iterator[DumpReader]:
        for given in paths:
            name = os.fspath(given)
            if name == "-":
                yield DumpReader(sys.stdin.buffer, on_error, "<stdin>")
            else:
                yield DumpReader(Path(name), on_error, name)

    return load_readers(readers(), ports=ports, rules=rules)


def load_readers(
    readers: Iterable[DumpReader],
    *,
    ports: PortTable | None = None,
    rules: Sequence[Rule] | None = None,
) -> Loaded:
    """Like :func:`load_dumps`, from readers made by the caller (the CLI's).

    A reader whose ``source`` is a :class:`~pathlib.Path` has a file
    modification time to fall back on; any other has no time without a header.
    """
    rules = default_rules() if rules is None else list(rules)
    batches: list[pa.RecordBatch] = []
    dumps = []
    for reader in readers:
        batches.extend(
            iter_batches(reader, source=reader.name, ports=ports, rules=rules)
        )
        path = reader.source if isinstance(reader.source, Path) else None
        when, basis = dump_time(reader.meta, path)
        meta = reader.meta[0] if reader.meta else {}
        info = DumpInfo(
            str(reader.name), when, basis, reader.flows, tuple(reader.skipped), meta
        )
        dumps.append(info)
    table = pa.Table.from_batches(batches, schema=SCHEMA).unify_dictionaries()
    far_future = datetime.max.replace(tzinfo=UTC)
    ordered = sorted(dumps, key=lambda d: d.time or far_future)  # stable
    return Loaded(arrow_to_dataframe(table), tuple(ordered), tuple(rules), ports)


# -- the page ---------------------------------------------------------------


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _n(value: Any) -> str:
    return "-" if value is None or pd.isna(value) else f"{int(value):,}"


_pct = charts.percent


def _count(n: Any, noun: str) -> str:
    return f"{_n(n)} {noun}{'' if n == 1 else 's'}"


def _time(when: datetime | None) -> str:
    return "-" if when is None else when.strftime("%Y-%m-%d %H:%M:%S UTC")


def _ratios(row: pd.Series) -> dict[str, float | None]:
    """flows/packets/bytes -> hardware share, from a row of offload_summary."""
    return {k: _float(row[r]) for k, r in zip(COUNTS, RATIOS, strict=True)}


def _float(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)  # type: ignore[arg-type]


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], numeric: int) -> str:
    """An HTML table; cells are HTML already; the last ``numeric`` are numbers."""
    first = len(head) - numeric
    cls = [' class="n"' if i >= first else "" for i in range(len(head))]
    out = ["<table><thead><tr>"]
    out += [f"<th{c}>{_e(h)}</th>" for h, c in zip(head, cls, strict=True)]
    out.append("</tr></thead><tbody>")
    for row in rows:
        out.append(
            "<tr>" + "".join(f"<td{c}>{v}</td>" for v, c in zip(row, cls, strict=True))
        )
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _cards(total: pd.Series) -> str:
    out = ['<section class="cards">']
    for key, what in (
        ("flows", "flows in hardware"),
        ("packets", "packets in hardware"),
        ("bytes", "bytes in hardware"),
    ):
        part, whole = total[f"hardware_{key}"], total[key]
        out.append(
            f'<div class="card"><div class="what">{what}</div>'
            f'<div class="ratio">{_pct(_ratios(total)[key])}</div>'
            f'<div class="of">{_n(part)} of {_n(whole)}</div></div>'
        )
    out.append("</section>")
    return "".join(out)


def _classes(total: pd.Series) -> str:
    rows = []
    for cls in CLASSES:
        counts = [total[f"class_{cls}_{k}"] for k in COUNTS]
        share = _pct(counts[1] / total["packets"] if total["packets"] else None)
        rows.append([_e(cls), *(_n(c) for c in counts), share])
    everything = _pct(1.0 if total["packets"] else None)
    counts = [_n(total[k]) for k in COUNTS]
    rows.append(["all", *counts, everything])
    head = ["offload class", "flows", "packets", "bytes", "share of packets"]
    text = _table(head, rows, 4)
    return text.replace("<tr><td>all", '<tr class="total"><td>all')


def _grouped(df: pd.DataFrame, by: str, title: str, limit: int | None, l2: bool) -> str:
    """Chart and table of the hardware share for each value of ``by``."""
    groups = offload_summary(df, by=[by], l2_bytes=l2)
    if groups.empty:
        return '<p class="empty">No flows.</p>'
    groups = groups.sort_values("packets", ascending=False, kind="stable")
    shown, hidden = len(groups), 0
    if limit is not None and len(groups) > limit:
        shown, hidden = limit, len(groups) - limit
        groups = groups.head(limit)
    names = ["(none)" if pd.isna(v) else str(v) for v in groups[by]]
    ratios = [_ratios(row) for _, row in groups.iterrows()]
    notes = [_count(f, "flow") for f in groups["flows"]]
    fig = charts.ratio_figure(names, ratios, notes=notes)
    out = [charts.figure_svg(fig, f"chart-{by}", title)]
    if hidden:
        out.append(
            f'<p class="hint">The {shown} busiest of {shown + hidden} values by '
            f"packets; {hidden} more are left out of the chart and the table.</p>"
        )
    rows = [
        [
            f"<code>{_e(name)}</code>",
            _n(row["flows"]),
            _n(row["packets"]),
            _n(row["bytes"]),
            *(_pct(r) for r in ratios[i].values()),
        ]
        for i, (name, (_, row)) in enumerate(zip(names, groups.iterrows(), strict=True))
    ]
    head = [by, "flows", "packets", "bytes", "flows hw", "packets hw", "bytes hw"]
    out.append(_table(head, rows, 6))
    return "".join(out)


_OVS_KEYS = ("node", "pod", "namespace", "context", "target")


def _same_datapath(a: DumpInfo, b: DumpInfo) -> bool:
    """Whether two dumps were collected from the same OVS, by their headers."""
    return all(d.time_basis == CAPTURE_TIME for d in (a, b)) and all(
        a.meta.get(k) == b.meta.get(k) for k in _OVS_KEYS
    )


def _latest(loaded: Loaded) -> tuple[Loaded, int]:
    """Only the latest dump of each OVS, and how many earlier ones were left out.

    A dump's counters are totals since each flow was installed, so adding up
    two snapshots of one OVS counts its traffic twice.  Dumps without a
    capture time, or whose headers do not name their OVS, count as distinct.
    """
    latest: dict[object, DumpInfo] = {}
    for dump in loaded.dumps:  # in time order: a later one replaces
        named = dump.time_basis == CAPTURE_TIME and any(
            dump.meta.get(k) for k in _OVS_KEYS
        )
        key = tuple(dump.meta.get(k) for k in _OVS_KEYS) if named else dump.source
        latest[key] = dump
    earlier = len(loaded.dumps) - len(latest)
    if not earlier:
        return loaded, 0
    keep = {d.source for d in latest.values()}
    df = loaded.df[loaded.df["source"].astype(str).isin(keep)]
    return replace(loaded, df=df.reset_index(drop=True)), earlier


def _intervals(
    loaded: Loaded, timed: Sequence[DumpInfo], l2: bool
) -> dict[str, float | None]:
    """Hardware share of the packets sent between one dump and the next.

    Keyed by the later dump's source.  Only for consecutive dumps that both
    carry a capture time and name the same OVS: between dumps of different
    nodes, counters say nothing about an interval.
    """
    out: dict[str, float | None] = {}
    sources = loaded.df["source"].astype(str)
    for old, new in itertools.pairwise(timed):
        if not _same_datapath(old, new) or old.time is None or new.time is None:
            continue
        seconds = (new.time - old.time).total_seconds()
        if seconds <= 0:
            continue
        result = diff_dumps(
            loaded.df[sources == old.source],
            loaded.df[sources == new.source],
            interval=seconds,
            l2_bytes=l2,
        )
        out[new.source] = result.totals["hardware_packet_ratio"]
    return out


def _timeline(loaded: Loaded, l2: bool) -> str:
    """Chart and table of each dump's hardware share in time order."""
    timed = [d for d in loaded.dumps if d.time is not None]
    if len(timed) < 2:
        return (
            '<p class="empty">One point in time only: give several dumps of the '
            "same node (for example from 'ovsflow collect --every') to see the "
            "share change over time.</p>"
        )
    per_source = offload_summary(loaded.df, by=["source"], l2_bytes=l2)
    by_source = {str(row["source"]): row for _, row in per_source.iterrows()}
    ratios = [
        _ratios(by_source[d.source]) if d.source in by_source else {} for d in timed
    ]
    between = _intervals(loaded, timed, l2)
    fig = charts.timeline_figure(
        [d.time for d in timed if d.time is not None],
        ratios,
        interval_times=[d.time for d in timed if d.source in between and d.time],
        interval_ratios=[between[d.source] for d in timed if d.source in between],
    )
    out = [charts.figure_svg(fig, "chart-time", "Share in hardware over time")]
    rows = []
    for dump, ratio in zip(timed, ratios, strict=True):
        row = by_source.get(dump.source)
        rows.append(
            [
                _e(_time(dump.time)),
                _e(dump.time_basis),
                f"<code>{_e(dump.source)}</code>",
                _n(None if row is None else row["flows"]),
                _n(None if row is None else row["packets"]),
                *(_pct(ratio.get(k)) for k in COUNTS),
                _pct(between.get(dump.source)),
            ]
        )
    head = ["time", "from", "dump", "flows", "packets"]
    head += ["flows hw", "packets hw", "bytes hw", "packets hw since previous"]
    out.append(_table(head, rows, 6))
    if not between:
        out.append(
            '<p class="hint">No two consecutive dumps carry capture times of the '
            "same OVS, so the share of the traffic between dumps is not shown.</p>"
        )
    return "".join(out)


def _reasons(loaded: Loaded, l2: bool) -> str:
    """Flows not in hardware under each rule that fired, biggest first.

    The figures are :func:`offload_summary` of the ``reasons`` column, in
    the order of :meth:`ovsflow.explain.Report.sorted_groups`.
    """
    hint = (
        '<p class="hint">Flows not in hardware under each rule of '
        "'ovsflow explain' that fires on them (docs/explain.md), most packets "
        "first. A flow with several reasons counts under each, so the rows add "
        f"up to more than the total; {_e(NO_RULE)} holds the flows no rule "
        "explains."
    )
    if loaded.ports is None:
        hint += (
            " Without a port table (--ports) the rules on the input port stay silent."
        )
    hint += "</p>"

    df = loaded.df
    cls = df["offload_class"].astype(pd.ArrowDtype(pa.string()))
    rest = df[(cls != "hardware").fillna(True)]
    if rest.empty:
        return hint + '<p class="empty">Every flow is in hardware.</p>'

    figures = offload_summary(rest, by=["reasons"], l2_bytes=l2)
    known = list(loaded.rules) or default_rules()  # a Loaded made by hand
    rules = {rule.name: rule for rule in known}
    report = Report(rules=known)
    for _, row in figures.iterrows():
        name = NO_RULE if pd.isna(row["reasons"]) else str(row["reasons"])
        rule = rules.get(name)
        title = rule.title if rule else "no rule explains these flows"
        report.groups[name] = Group(
            name,
            title,
            rule.source if rule else "",
            int(row["flows"]),
            int(row["packets"]),
            int(row["bytes"]),
        )

    packets = int(rest["packets"].sum())
    rows = [
        [
            f'<code>{_e(g.rule)}</code><div class="where">{_e(g.title)}</div>',
            _n(g.flows),
            _n(g.packets),
            _n(g.bytes),
            _pct(g.packets / packets if packets else None),
        ]
        for g in report.sorted_groups()
    ]
    head = ["reason", "flows", "packets", "bytes", "share of packets not in hw"]
    return hint + _table(head, rows, 4)


def _top(df: pd.DataFrame, n: int) -> str:
    if n <= 0:
        return ""
    top = top_not_hardware(df, n)
    if top.empty:
        return '<p class="empty">Every flow is in hardware.</p>'
    rows = [
        [
            _e(row["offload_class"]),
            f'<div class="where">{_e(row["source"])}, line {_e(row["line"])}</div>'
            f"<code>{_e(row['match_text'])}, actions:{_e(row['actions_text'])}</code>",
            _n(row["packets"]),
            _n(row["bytes"]),
        ]
        for _, row in top.iterrows()
    ]
    return _table(["class", "flow (dump, line)", "packets", "bytes"], rows, 2)


def _inputs(loaded: Loaded) -> str:
    rows = []
    for d in loaded.dumps:
        where = d.meta.get("pod") or d.meta.get("node") or ""
        rows.append(
            [
                f"<code>{_e(d.source)}</code>",
                _e(_time(d.time)),
                _e(d.time_basis),
                _e(where),
                _n(d.flows),
                _n(len(d.skipped)),
            ]
        )
    head = ["dump", "time", "time from", "node or pod", "flows", "skipped lines"]
    return _table(head, rows, 2)


def _skipped(loaded: Loaded) -> str:
    every = [(d.source, s) for d in loaded.dumps for s in d.skipped]
    if not every:
        return '<p class="empty">No line was skipped: every line was a flow.</p>'
    rows = [
        [
            f"<code>{_e(src)}:{s.line}</code>",
            _e(s.reason),
            f"<code>{_e(s.text[:300])}</code>",
        ]
        for src, s in every[:SKIPPED_SHOWN]
    ]
    out = _table(["where", "why", "text"], rows, 0)
    more = len(every) - SKIPPED_SHOWN
    if more > 0:
        out += f'<p class="hint">... and {more} more skipped lines.</p>'
    return f'<p class="hint">{len(every)} lines were skipped in all.</p>' + out


def _notes(loaded: Loaded, total: pd.Series, l2: bool) -> list[str]:
    notes = []
    if not total["flows"]:
        notes.append("No flows were read: are the inputs empty?")
    unknown = total["class_unknown_flows"]
    if unknown and unknown == total["flows"]:
        notes.append(
            "The dumps were taken without -m (no offloaded:/dp: attributes), so "
            "whether their flows are in hardware cannot be known; take them with "
            "'ovs-appctl dpctl/dump-flows -m'."
        )
    elif unknown:
        notes.append(f"{_n(unknown)} flows carry no -m attributes: offload unknown.")
    bases = {d.time_basis for d in loaded.dumps}
    if len(loaded.dumps) > 1 and bases != {CAPTURE_TIME}:
        notes.append(
            "Some dumps have no capture time in an '# ovsflow-meta:' header; they "
            "are placed by their file's modification time, which a copy changes."
        )
    if any(d.skipped for d in loaded.dumps):
        notes.append("Some lines were skipped; they are listed at the end.")
    return notes


def _pods(loaded: Loaded, l2: bool) -> list[str]:
    """The share by pod and namespace of the input port, with a port table."""
    if loaded.ports is None:
        return []
    df = loaded.df
    return [
        "<h2>By pod</h2>",
        '<p class="hint">The pod behind each flow\'s input port, from the port '
        "table's external_ids (Kube-OVN, OVN-Kubernetes): the traffic a pod "
        "sends. (none): ports with no pod, such as uplinks and tunnels.</p>",
        _grouped(df, "in_port_pod", "Share in hardware by pod", PORTS_SHOWN, l2),
        "<h2>By namespace</h2>",
        _grouped(
            df, "in_port_namespace", "Share in hardware by namespace", PORTS_SHOWN, l2
        ),
    ]


def render_report(
    loaded: Loaded, *, top: int = 10, l2_bytes: bool = False, title: str = ""
) -> str:
    """The HTML page for ``loaded`` (see the module docstring)."""
    series = loaded
    loaded, earlier = _latest(series)
    df = loaded.df
    # As objects: a row of uint64 and double columns would be cast to double,
    # which Arrow refuses for counters past 2**53.
    total = offload_summary(df, l2_bytes=l2_bytes).astype(object).iloc[0]
    title = title or "Open vSwitch offload report"
    times = [d.time for d in series.dumps if d.time is not None]
    span = f"{_time(min(times))} to {_time(max(times))}" if times else "time unknown"
    bytes_note = (
        "Bytes of TC flows include 14 bytes of Ethernet header per packet "
        "(--l2-bytes), as the kernel datapath counts them."
        if l2_bytes
        else "Bytes as each datapath counts them: TC flows without the 14-byte "
        "Ethernet header, the kernel datapath with it (--l2-bytes adds it)."
    )
    body = [
        f"<header><h1>{_e(title)}</h1>",
        f"<p>{_count(len(series.dumps), 'dump')}, "
        f"{_count(total['flows'], 'flow')}, {_e(span)}.</p>",
        f"<p>{_e(bytes_note)}</p></header>",
        _cards(total),
    ]
    notes = _notes(series, total, l2_bytes)
    if earlier:
        which = "is an earlier snapshot" if earlier == 1 else "are earlier snapshots"
        notes.insert(
            0,
            f"{_count(earlier, 'dump')} {which} of an OVS that a later dump also "
            "shows. A dump's counters are totals since each flow was installed, "
            "so the figures above and below are those of the latest dump of "
            "each OVS; the earlier ones appear under Over time.",
        )
    if notes:
        body.append('<ul class="notes">')
        body += [f"<li>{_e(n)}</li>" for n in notes]
        body.append("</ul>")
    body += [
        "<h2>Offload classes</h2>",
        _classes(total),
        "<h2>Why not in hardware</h2>",
        _reasons(loaded, l2_bytes),
        "<h2>By datapath layer</h2>",
        '<p class="hint">The dp: attribute of each flow (dump taken with -m).</p>',
        _grouped(df, "dp", "Share in hardware by datapath layer", None, l2_bytes),
        "<h2>By input port</h2>",
        _grouped(
            df, "in_port", "Share in hardware by input port", PORTS_SHOWN, l2_bytes
        ),
        *_pods(loaded, l2_bytes),
        "<h2>Over time</h2>",
        '<p class="hint">Each dump in time order (from the capture time of its '
        "header, else the file's modification time). A dump's counters add up "
        "each flow's whole life; the dashed line is the share of the packets "
        "sent between one dump and the next of the same OVS: what is in "
        "hardware now.</p>",
        _timeline(series, l2_bytes),
        "<h2>Busiest flows not in hardware</h2>",
        _top(df, top),
        "<h2>Inputs</h2>",
        _inputs(series),
        "<h2>Skipped lines</h2>",
        _skipped(series),
        f"<footer>Made by ovsflow {_e(package_version())}. This page loads nothing "
        "from the network.</footer>",
    ]
    template = resources.files("ovsflow").joinpath("templates/report.html")
    page = Template(template.read_text(encoding="utf-8"))
    return page.substitute(
        title=_e(title), version=_e(package_version()), body="\n".join(body)
    )


def save_report(
    loaded: Loaded,
    out: str | os.PathLike[str],
    *,
    top: int = 10,
    l2_bytes: bool = False,
) -> int:
    """Write the page for ``loaded`` to ``out``; return its size in bytes.

    Raises :class:`~ovsflow.OvsflowError` when ``out`` cannot be written.
    """
    page = render_report(loaded, top=top, l2_bytes=l2_bytes).encode("utf-8")
    try:
        Path(out).write_bytes(page)
    except OSError as exc:
        raise OvsflowError(
            f"cannot write the report to {os.fspath(out)!r}: {exc.strerror}"
        ) from exc
    return len(page)


def write_report(
    paths: Iterable[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    top: int = 10,
    l2_bytes: bool = False,
    on_error: OnError = "skip",
    ports: PortTable | None = None,
) -> Loaded:
    """Read ``paths`` (:func:`load_dumps`) and write their page to ``out``."""
    loaded = load_dumps(paths, on_error=on_error, ports=ports)
    save_report(loaded, out, top=top, l2_bytes=l2_bytes)
    return loaded


__all__ = [
    "CAPTURE_TIME",
    "FILE_TIME",
    "NO_TIME",
    "DumpInfo",
    "Loaded",
    "dump_time",
    "load_dumps",
    "load_readers",
    "render_report",
    "save_report",
    "write_report",
]
