"""Lines wrapped by a terminal come back as the flows they were.

The truth is always the dump before wrapping, read as it is.  The wrapping
is done here as a terminal or ``fold -w`` does it: a cut every W characters,
spaces kept, no word breaking.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import need

from ovsflow import ParseError, parse_flow
from ovsflow.dump import parse_dump
from ovsflow.records import Flow

ROOT = Path(__file__).resolve().parent.parent
DUMPS = [
    path
    for path in sorted((ROOT / "tests" / "data").glob("*.txt"))
    + sorted((ROOT / "ovsflow" / "samples").glob("*.txt"))
    if path.read_text(encoding="utf-8").strip()
]
WIDTHS = range(40, 301, 7)
MAIN = ROOT / "tests" / "data" / "ovs-dummy-dpctl-m.txt"
TAIL = ", packets:1, bytes:2, used:never, actions:drop"


def fold(text: str, width: int) -> str:
    """``text`` with every line cut into rows of ``width`` characters."""
    rows = []
    for line in text.split("\n"):
        rows.extend([line[i : i + width] for i in range(0, len(line), width)] or [""])
    return "\n".join(rows)


def first_rows(text: str, width: int) -> dict[int, int]:
    """Line number before folding -> number of its first row after."""
    where, row = {}, 1
    for number, line in enumerate(text.split("\n"), start=1):
        where[number] = row
        row += max(1, -(-len(line) // width))
    return where


def flow_lines(path: Path) -> list[str]:
    return [
        line
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith(("ufid:", "recirc_id(", "ct_state(", "tunnel("))
    ]


def test_the_fold_here_cuts_as_coreutils_fold_does() -> None:
    binary = need(Path(shutil.which("fold") or "/usr/bin/fold"))
    text = MAIN.read_text(encoding="utf-8")
    for width in (40, 80, 133):
        out = subprocess.run(
            [str(binary), "-w", str(width), str(MAIN)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert out == fold(text, width)


@pytest.mark.parametrize("path", DUMPS, ids=lambda p: p.name)
def test_every_flow_comes_back_at_every_width(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    truth = parse_dump(text)  # raise mode: the dump itself is clean
    flows = list(truth)
    assert flows, path
    lines = text.splitlines()
    for width in WIDTHS:
        reader = parse_dump(fold(text, width), on_error="skip")
        got = list(reader)
        assert got == flows, width
        rows = first_rows(text, width)
        assert [f.line for f in got] == [rows[f.line] for f in flows], width
        assert [f.section for f in got] == [f.section for f in flows], width
        assert reader.skipped == [], width
        assert reader.meta == truth.meta, width
        wrapped = [line for line in lines if len(line) > width]
        assert reader.joined == len(wrapped) == len(reader.notes), width


@pytest.mark.parametrize(
    "name",
    ["ovs-dummy-dpctl-m.txt", "ovs-dummy-dpctl.txt", "ovs-dummy-dpif-m-br1.txt"],
)
def test_every_width_from_40_to_300_for_each_form_of_dump(name: str) -> None:
    # dpctl -m ("ufid:..., "), dpctl without -m ("recirc_id(0),..."), and
    # dpif -m ("ufid:... skb_priority(0/0),...": a space, no comma).
    text = (ROOT / "tests" / "data" / name).read_text(encoding="utf-8")
    flows = list(parse_dump(text))
    for width in range(40, 301):
        reader = parse_dump(fold(text, width), on_error="skip")
        assert (list(reader), reader.skipped) == (flows, []), width


def test_the_figures_of_the_break_test_at_80_and_200_columns() -> None:
    # 33 flows, 93 packets, 5130 bytes: the "packets:" and "bytes:" of the
    # file added up here, without the parser.
    text = MAIN.read_text(encoding="utf-8")
    packets = sum(int(n) for n in re.findall(r" packets:(\d+),", text))
    octets = sum(int(n) for n in re.findall(r" bytes:(\d+),", text))
    assert (len(flow_lines(MAIN)), packets, octets) == (33, 93, 5130)
    for width in (80, 200):
        reader = parse_dump(fold(text, width), on_error="skip")
        flows = list(reader)
        assert len(flows) == 33
        assert sum(f.stats.packets for f in flows) == packets
        assert sum(f.stats.bytes for f in flows) == octets
        assert reader.skipped == []


def test_a_row_that_begins_with_a_first_key_still_continues_its_line() -> None:
    # Cut so that the second row starts with "in_port(", which also starts
    # flow lines: the rows before it do not make a flow, so it goes on.
    line = next(x for x in flow_lines(MAIN) if ",in_port(" in x)
    width = line.index(",in_port(") + 1
    assert fold(line, width).split("\n")[1].startswith("in_port(")
    reader = parse_dump(fold(line, width) + "\n", on_error="skip")
    assert list(reader) == [parse_flow(line)]
    assert reader.skipped == []


def test_a_row_that_begins_with_eth_after_push_is_part_of_the_action() -> None:
    line = (
        "recirc_id(0),in_port(1),eth_type(0x0800), packets:1, bytes:2, "
        "used:never, actions:push_eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02),2"
    )
    width = line.index("eth(src=")
    assert fold(line, width).split("\n")[1].startswith("eth(src=")
    assert list(parse_dump(fold(line, width) + "\n")) == [parse_flow(line)]


def test_a_line_cut_after_a_comma_and_the_next_line_are_read_apart() -> None:
    # "...,eth_type(0x0800)," and "recirc_id(0),in_port(2),..." would make
    # one flow with recirc_id and in_port twice; no flow has a key twice.
    keys = [
        line[: line.index(", packets:")]
        for line in flow_lines(ROOT / "tests" / "data" / "ovs-dummy-dpctl.txt")
    ]
    # Each line up to the comma before its last key; the longest of them.
    cut = max((k[: k.rindex("),") + 2] for k in keys), key=len)
    assert "recirc_id(0),in_port(" in cut and cut.endswith("),")
    other = f"recirc_id(0),in_port(2){TAIL}"
    assert len(other) <= len(cut)
    reader = parse_dump(f"{cut}\n{other}\n", on_error="skip")
    assert list(reader) == [parse_flow(other)]
    assert [s.line for s in reader.skipped] == [1]


def test_actions_cut_after_a_whole_action_are_not_lost() -> None:
    # "actions:ct(zone=5,nat)" parses alone; the row ",recirc(0x2), ..."
    # after it does not start a flow, so it belongs to the line.
    line = next(x for x in flow_lines(MAIN) if "ct(zone=5,nat),recirc(0x2)" in x)
    width = line.index(",recirc(0x2)")
    reader = parse_dump(fold(line, width) + "\n", on_error="skip")
    [flow] = reader
    assert flow == parse_flow(line)
    assert [a.name for a in flow.actions] == ["ct", "recirc"]


@pytest.mark.parametrize("longer", [False, True])
def test_a_line_cut_off_before_a_whole_line_is_reported_alone(longer: bool) -> None:
    # The next line no wider than the cut one could be a row of it; joined,
    # they fail where the second begins, so they are read apart.
    cut = flow_lines(MAIN)[0][:120]  # inside ipv4(...)
    other = flow_lines(MAIN)[1] if longer else f"in_port(2){TAIL}"
    assert (len(other) > len(cut)) is longer
    reader = parse_dump(f"{cut}\n{other}\n", on_error="skip")
    assert list(reader) == [parse_flow(other)]
    [skipped] = reader.skipped
    assert skipped.line == 1
    assert skipped.reason.endswith(
        "(the line ends early: was it cut off?) (column 121)"
    )


def test_wrapped_rows_that_do_not_parse_point_at_their_row_and_column() -> None:
    # The error of the line unwrapped, at column c, is at row (c-1)//W + 1,
    # column (c-1)%W + 1 of the wrapped rows.
    line = flow_lines(MAIN)[0].replace("eth_type(0x0800)", "eth_type(0x0800+)")
    with pytest.raises(ParseError) as unwrapped:
        parse_flow(line)
    column = unwrapped.value.column
    width = 60
    text = fold(line, width) + "\n"
    rows = text.count("\n")
    reader = parse_dump(text, on_error="skip")
    assert list(reader) == []
    assert [s.line for s in reader.skipped] == list(range(1, rows + 1))
    at = (column - 1) // width + 1
    error = reader.skipped[at - 1]
    assert error.reason.startswith(unwrapped.value.message)
    assert error.reason.endswith(
        f"(lines 1-{rows} read as one line wrapped at {width} columns) "
        f"(column {(column - 1) % width + 1})"
    )
    others = [s for s in reader.skipped if s.line != at]
    assert all(
        s.reason.startswith(f"not a flow: part of lines 1-{rows}") for s in others
    )
    with pytest.raises(ParseError) as raised:
        list(parse_dump(text))
    assert (raised.value.line, raised.value.column) == (at, (column - 1) % width + 1)


def test_rows_of_uneven_width_that_read_both_ways_are_reported() -> None:
    # Line 1 is a flow alone, and with line 2 after it a flow with more
    # output ports; no terminal cuts a row shorter than the next one.
    first = "in_port(1), packets:1, bytes:2, used:never, actions:2"
    second = "," + ",".join(str(port) for port in range(3, 40))
    assert len(second) > len(first)
    for text in (first, first + second):
        assert isinstance(parse_flow(text), Flow)
    reader = parse_dump(f"{first}\n{second}\n", on_error="skip")
    assert list(reader) == []
    assert [s.line for s in reader.skipped] == [1, 2]
    assert reader.skipped[0].reason.startswith("ambiguous: line 1 is a flow alone")


def test_a_whole_flow_then_a_stray_row_keeps_the_flow() -> None:
    flow = f"in_port(1){TAIL}"
    reader = parse_dump(f"{flow}\n[root@node1 ~]# exit\n", on_error="skip")
    assert list(reader) == [parse_flow(flow)]
    [skipped] = reader.skipped
    assert skipped.line == 2
    assert "a row of a wrapped line whose start is missing?" in skipped.reason


def test_a_row_after_a_header_that_does_not_start_a_flow_is_not_a_flow() -> None:
    # The fragment of the break test at 200 columns: alone, it parses (a
    # key "e"), but no flow line starts that way.
    line = flow_lines(MAIN)[0]
    fragment = line[line.index("eth_type(") + 7 :]
    assert fragment.startswith("e(0x0800),")
    reader = parse_dump(f"flow-dump from the main thread:\n{fragment}\n", "skip")
    assert list(reader) == []
    [skipped] = reader.skipped
    assert skipped.reason.startswith("not a flow: it does not start with ufid:")


@pytest.mark.parametrize("keep", [-1, -2, -4, -len("miniflow_bits(4,1)") + 1])
def test_a_line_cut_inside_dp_extra_info_is_cut_off(keep: int) -> None:
    # OVS prints "dp-extra-info:miniflow_bits(N,N)" (lib/dpif-netdev.c);
    # any shorter end is a line cut off, though the parser takes it.
    line = flow_lines(MAIN)[0]
    assert line.endswith("dp-extra-info:miniflow_bits(4,1)")
    cut = line[:keep]
    reader = parse_dump(cut + "\n", on_error="skip")
    assert list(reader) == []
    [skipped] = reader.skipped
    assert "was it cut off?" in skipped.reason
    assert skipped.reason.endswith(f"(column {len(cut) + 1})")
    with pytest.raises(ParseError, match="rest of the dp-extra-info trailer"):
        list(parse_dump(cut + "\n"))
    # The rest on the next row, as a terminal of that width wraps it.
    rest = line[len(cut) :]
    assert list(parse_dump(f"{cut}\n{rest}\n")) == [parse_flow(line)]


def test_a_wrapped_meta_header_is_joined_and_a_bad_one_reported_per_row() -> None:
    header = '# ovsflow-meta: {"node": "node1", "command": ["ovs-appctl", "-m"]}'
    flow = f"in_port(1){TAIL}"
    reader = parse_dump(fold(f"{header}\n{flow}", 30) + "\n", on_error="skip")
    assert [f.match.in_port for f in reader] == [1]
    assert reader.meta == [{"node": "node1", "command": ["ovs-appctl", "-m"]}]
    assert str(reader.notes[0]) == (
        "line 1: lines 1-3 joined into one ovsflow-meta header "
        "(a line wrapped by a terminal at 30 columns)"
    )
    broken = header[:-1]  # no closing brace
    reader = parse_dump(fold(f"{broken}\n{flow}", 30) + "\n", on_error="skip")
    assert [f.match.in_port for f in reader] == [1]
    assert [s.line for s in reader.skipped] == [1, 2, 3]
    assert reader.skipped[0].reason.startswith("bad ovsflow-meta header: ")
