"""Printing flows back to text, exactly as OVS printed them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ovsflow.records import Flow


def format_flow(flow: Flow) -> str:
    """The text of a flow.

    A parsed flow keeps the order and separators of its line (``layout``) and
    prints back to the same text.  A flow built in Python has no layout and
    prints the way upstream ``dpctl/dump-flows -m`` does.
    """
    actions = ",".join(str(a) for a in flow.actions)
    if flow.layout is None:
        return _format_upstream(flow, actions)
    out: list[str] = []
    keys = iter(flow.match.keys)
    trailer = ""
    layout = flow.layout
    if flow.dp_extra_info is not None and layout and layout[-1][0] == "dp-extra-info":
        # The trailer after the actions is the last entry; an item of that
        # name before "actions:" (no OVS prints one) is an item like any other.
        kind, text, sep = layout[-1]
        trailer = f"{sep}dp-extra-info:{text}"
        layout = layout[:-1]
    for kind, text, sep in layout:
        if kind == "key":
            out.append(str(next(keys)))
        else:
            out.append(f"{kind}:{text}")
        out.append(sep)
    out.append("actions:")
    out.append(actions)
    out.append(trailer)
    return "".join(out)


def _format_upstream(flow: Flow, actions: str) -> str:
    # The order of lib/dpctl.c format_dpif_flow and lib/dpif.c
    # dpif_flow_stats_format.
    stats = flow.stats
    parts = []
    if flow.ufid is not None:
        parts.append(f"ufid:{flow.ufid}")
    parts.append(str(flow.match))
    parts.append(f"packets:{stats.packets}")
    parts.append(f"bytes:{stats.bytes}")
    parts.extend(f"{name}:{value}" for name, value in stats.extra)
    parts.append("used:never" if stats.used is None else f"used:{stats.used:.3f}s")
    if stats.flags is not None:
        parts.append(f"flags:{stats.flags}")
    if flow.offloaded is not None:
        parts.append(f"offloaded:{flow.offloaded}")
    if flow.dp is not None:
        parts.append(f"dp:{flow.dp}")
    parts.extend(f"{name}:{value}" for name, value in flow.attrs)
    parts.append(f"actions:{actions}")
    text = ", ".join(parts)
    if flow.dp_extra_info is not None:
        text += f", dp-extra-info:{flow.dp_extra_info}"
    return text
