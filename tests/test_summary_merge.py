"""Summary.merge: summaries of parts of a dump add up to the summary of it."""

from __future__ import annotations

import pickle

import pytest
from helpers import REPO

from ovsflow import parse_dump
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
