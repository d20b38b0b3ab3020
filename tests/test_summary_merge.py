"""Summary.merge: summaries of parts of a dump add up to the summary of it."""

from __future__ import annotations

import pickle

import pytest
from helpers import REPO
from hypothesis import given, settings
from hypothesis import strategies as st

from ovsflow import parse_dump, parse_flow
from ovsflow.summary import Summary

DUMP = REPO / "tests" / "data" / "ovs-dummy-dpctl-m.txt"


@pytest.mark.parametrize("by", [None, "in_port", "dp", "ip_proto"])
@pytest.mark.parametrize("top_n", [0, 3, 100])
def test_merged_halves_equal_the_whole(by: str | None, top_n: int) -> None:
    flows = list(parse_dump(DUMP))
    assert len(flows) > 20
    whole = Summary(by=by, top_n=top_n)
    whole.add_all(flows, "dump")
    for cut in (0, 1, len(flows) // 2, len(flows)):
        first, second = Summary(by=by, top_n=top_n), Summary(by=by, top_n=top_n)
        first.add_all(flows[:cut], "dump")
        second.add_all(flows[cut:], "dump")
        # Workers send their summaries to the parent: merge what pickling
        # gives back, as they do.
        first.merge(pickle.loads(pickle.dumps(second)))
        assert first.as_dict() == whole.as_dict()
        assert first.top == whole.top


def test_merge_adds_the_counts_worked_out_by_hand() -> None:
    one = (
        "in_port(1),eth_type(0x0800), packets:10, bytes:1000, used:1.0s, "
        "offloaded:yes, dp:tc, actions:2"
    )
    two = "in_port(2), packets:5, bytes:300, used:1.0s, dp:ovs, actions:1"
    a, b = Summary(), Summary()
    a.add_all(parse_dump(one))
    b.add_all(parse_dump(two))
    a.merge(b)
    totals = a.as_dict()
    assert totals["flows"] == 2 and totals["packets"] == 15 and totals["bytes"] == 1300
    assert [t.packets for t in a.top] == [5]  # the flow in hardware is not a top one


def test_summaries_that_count_differently_are_not_merged() -> None:
    with pytest.raises(ValueError, match="count differently"):
        Summary(by="dp").merge(Summary(by="in_port"))
    with pytest.raises(ValueError, match="count differently"):
        Summary(l2_bytes=True).merge(Summary())
    with pytest.raises(ValueError, match=r"top_n=2 into .* top_n=10"):
        Summary(top_n=10).merge(Summary(top_n=2))


def test_ties_keep_their_order_across_files() -> None:
    # Found by the break test: line numbers start again in each file, so
    # the merged top flows were once put in line order (y.txt:1 before
    # x.txt:5) where one summary of both files keeps them in reading order.
    line = "in_port({}), packets:{}, bytes:70, used:1.0s, dp:ovs, actions:1"
    x_text = "\n".join(line.format(p, 7 if p == 5 else 1) for p in range(1, 6))
    y_text = line.format(6, 7)
    whole, part, merged = Summary(top_n=2), Summary(top_n=2), Summary(top_n=2)
    for summary in (whole, part):
        summary.add_all(parse_dump(x_text), "x.txt")
        summary.add_all(parse_dump(y_text), "y.txt")
    merged.merge(part)
    assert [(t.source, t.line) for t in whole.top] == [("x.txt", 5), ("y.txt", 1)]
    assert [(t.source, t.line) for t in merged.top] == [("x.txt", 5), ("y.txt", 1)]
    assert merged.as_dict() == whole.as_dict()


def test_top_flows_are_printed_only_when_asked_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Flows whose packets grow along a dump each enter the top and leave it
    # again; printing each on entry cost more than parsing a block of them
    # (--jobs 2 was barely faster than --jobs 1 on such a dump).
    from ovsflow import records

    printed: list[int] = []
    real = records.Flow.__str__
    monkeypatch.setattr(
        records.Flow, "__str__", lambda self: printed.append(1) or real(self)
    )
    text = "\n".join(
        f"in_port({i}), packets:{i}, bytes:{i}, used:never, dp:ovs, actions:1"
        for i in range(1, 1001)
    )
    summary = Summary(top_n=3)
    summary.add_all(parse_dump(text))
    assert printed == []
    assert [t.packets for t in summary.top] == [1000, 999, 998]
    assert summary.as_dict()["top_not_hardware"][0]["flow"].startswith("in_port(1000)")
    assert len(printed) == 3


def test_groups_come_in_the_order_of_the_numbers_in_their_names() -> None:
    # Left from the break test of the last session: --by in_port sorted as
    # text, p1, p10, p11, p2.
    text = "\n".join(
        f"in_port({port}), packets:1, bytes:1, used:never, dp:ovs, actions:1"
        for port in ("p10", "p2", "p1", "br-int", "p11", "9", "10")
    )
    summary = Summary(by="in_port")
    summary.add_all(parse_dump(text))
    order = ["9", "10", "br-int", "p1", "p2", "p10", "p11"]
    assert summary.group_names() == order
    assert list(summary.as_dict()["by"]["groups"]) == order


# ---- Totals.add, against the counts worked out from each flow's text -------

_FLOW = st.builds(
    lambda packets, nbytes, hw, dp, offloaded: (packets, nbytes, hw, dp, offloaded),
    st.integers(0, 10**6),
    st.integers(0, 10**8),
    st.none() | st.tuples(st.integers(0, 2 * 10**6), st.integers(0, 2 * 10**8)),
    st.sampled_from([None, "tc", "ovs", "dpdk"]),
    st.sampled_from([None, "yes", "partial"]),
)


def _text(packets: int, nbytes: int, hw: object, dp: object, off: object) -> str:
    line = f"in_port(1), packets:{packets}, bytes:{nbytes}, used:never"
    if hw is not None:
        line += f", offload_packets:{hw[0]}, offload_bytes:{hw[1]}"  # type: ignore[index]
    if off is not None:
        line += f", offloaded:{off}"
    if dp is not None:
        line += f", dp:{dp}"
    return line + ", actions:drop"


@settings(max_examples=200, deadline=None)
@given(st.lists(_FLOW, max_size=12), st.booleans())
def test_totals_add_counts_what_each_flow_says(
    flows: list[tuple[int, int, object, object, object]], l2_bytes: bool
) -> None:
    from ovsflow.summary import ETH_HEADER_BYTES, Totals, offload_class

    totals = Totals()
    want = {"flows": 0, "packets": 0, "bytes": 0, "hw": [0, 0, 0], "capped": 0}
    by_dp: dict[str, list[int]] = {}
    for packets, nbytes, hw, dp, off in flows:
        flow = parse_flow(_text(packets, nbytes, hw, dp, off))
        cls = offload_class(flow)
        totals.add(flow, cls, l2_bytes)
        # Worked out here from the numbers printed: vendor counters (capped
        # at the totals) if any, else all of a hardware flow, else nothing.
        if hw is not None:
            hw_p, hw_b = min(hw[0], packets), min(hw[1], nbytes)  # type: ignore[index]
            want["capped"] += hw[0] > packets or hw[1] > nbytes  # type: ignore[index]
        elif cls == "hardware":
            hw_p, hw_b = packets, nbytes
        else:
            hw_p = hw_b = 0
        extra = ETH_HEADER_BYTES if l2_bytes and dp == "tc" else 0
        want["flows"] += 1
        want["packets"] += packets
        want["bytes"] += nbytes + extra * packets
        want["hw"][0] += cls == "hardware"
        want["hw"][1] += hw_p
        want["hw"][2] += hw_b + extra * hw_p
        row = by_dp.setdefault(str(dp or "unknown"), [0, 0, 0])
        row[0] += 1
        row[1] += packets
        row[2] += nbytes + extra * packets
    assert (totals.total.flows, totals.total.packets, totals.total.bytes) == (
        want["flows"],
        want["packets"],
        want["bytes"],
    )
    offloaded = totals.offloaded
    assert [offloaded.flows, offloaded.packets, offloaded.bytes] == want["hw"]
    assert type(offloaded.flows) is int
    assert totals.capped == want["capped"]
    assert {k: [c.flows, c.packets, c.bytes] for k, c in totals.by_dp.items()} == by_dp
    assert sum(c.flows for c in totals.classes.values()) == want["flows"]
