"""Odd input a new user met: each case gives a clear error or the right value."""

from __future__ import annotations

import argparse
import gzip
import io
import json
import re
import sys
import tracemalloc
from pathlib import Path

import pytest
from helpers import guide_lines

from ovsflow import InputError, ParseError, parse_flow
from ovsflow.cli import build_parser, main
from ovsflow.dump import parse_dump
from ovsflow.limits import MAX_LINE_LENGTH, MAX_NESTING
from ovsflow.parse import parse_flow_reference
from ovsflow.records import Node
from ovsflow.summary import Summary

TAIL = ", packets:1, bytes:2, used:never, actions:drop"


@pytest.mark.parametrize(
    "key", ["ct_state(+trk+bogus)", "ct_state(+trk/0x3)", "tcp_flags(syn|zz)"]
)
def test_bad_flag_names_are_parse_errors_at_their_key(key: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_flow(f"in_port(1),{key}{TAIL}")
    assert info.value.column == 12


@pytest.mark.parametrize(
    "line",
    [
        "in_port(1),ct_mar:(0/0), packets:1, bytes:2, used:never, actions:drop",
        "in_port(1),(bad key length 4, expected 12)(01 02 03 04)" + TAIL,
        "<empty>" + TAIL,
    ],
)
def test_fast_path_and_grammar_agree_on_odd_lines(line: str) -> None:
    assert parse_flow(line) == parse_flow_reference(line)
    assert parse_flow(line, line=7).line == 7


def test_a_ufid_run_into_the_next_key_is_an_error_on_both_paths() -> None:
    line = "ufid:1178fe7f-98bd-47d8-b3bd-aaae109165d4in_port(1)" + TAIL
    for parse in (parse_flow, parse_flow_reference):
        with pytest.raises(ParseError, match="is not a UUID"):
            parse(line)


def test_indented_lines_and_a_byte_order_mark_still_count() -> None:
    text = f"\ufeff  in_port(1){TAIL}  \n\tin_port(2){TAIL}\n"
    reader = parse_dump(text)
    assert [f.match.in_port for f in reader] == [1, 2]


def test_a_missing_path_given_as_a_string_is_an_input_error() -> None:
    with pytest.raises(InputError, match="no such file"):
        list(parse_dump("no-such-dump.txt.gz"))


def test_strict_mode_stops_at_an_ovs_log_line() -> None:
    text = "2024-01-01T00:00:00.123Z|00001|dpif_netlink|WARN|x\n"
    with pytest.raises(ParseError, match="an OVS log line"):
        list(parse_dump(text))


@pytest.mark.parametrize(
    ("line", "message", "column"),
    [
        (
            "in_port(1), packets:1, packets:2, bytes:2, used:never, actions:drop",
            "packets: given twice",
            24,
        ),
        ("in_port(1), bytes:2, used:never, actions:drop", "missing packets:", 34),
        (
            "in_port(1), packets:1, bytes:2, used:yesterday, actions:drop",
            "used: expected seconds",
            38,
        ),
        (
            "in_port(1), packets:\u0661\u0662, bytes:2, used:never, actions:drop",
            "expected a whole number",
            21,
        ),
    ],
)
def test_statistics_errors_point_at_their_value(
    line: str, message: str, column: int
) -> None:
    with pytest.raises(ParseError, match=message) as info:
        parse_flow(line)
    assert info.value.column == column


def test_gzip_on_a_binary_stream_is_decompressed() -> None:
    data = gzip.compress(f"in_port(3){TAIL}\n".encode())
    assert [
        f.match.in_port for f in parse_dump(io.BufferedReader(io.BytesIO(data)))
    ] == [3]


def test_an_empty_dump_says_no_flows_were_read(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    summary = Summary()
    summary.add_all(parse_dump(empty))
    assert summary.notes() == ["no flows were read: is the input empty?"]


# ---- Point 1: every reader says what it did with each line ------------------

FLOW = f"in_port(1){TAIL}"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (
            "2024-01-01T00:00:00Z|00001|dpif_netlink|INFO|opened datapath",
            "not a flow: an OVS log line",
        ),
        (
            "2024-01-01T00:00:00.123Z|00042|netdev_offload_tc|WARN|failed",
            "not a flow: an OVS log line",
        ),
        (
            "ovs-appctl: /var/run/openvswitch/ovs-vswitchd.pid: open: "
            "No such file or directory",
            "not a flow: a message from an OVS tool",
        ),
        (
            "ovs-dpctl: opening datapath (No such device)",
            "not a flow: a message from an OVS tool",
        ),
        (
            'Defaulted container "openvswitch" out of: openvswitch, init',
            "not a flow: a message from kubectl",
        ),
        ("WARN: 3 flows could not be dumped", "not a flow: a warning or error message"),
        ("Error: connection reset", "not a flow: a warning or error message"),
    ],
)
def test_log_lines_and_tool_messages_are_counted_as_not_a_flow(
    line: str, reason: str
) -> None:
    reader = parse_dump(f"{FLOW}\n{line}\n{FLOW}\n", on_error="skip")
    assert [f.line for f in reader] == [1, 3]
    assert [(s.line, s.reason, s.text) for s in reader.skipped] == [(2, reason, line)]
    with pytest.raises(ParseError, match=reason) as info:
        list(parse_dump(f"{FLOW}\n{line}\n"))
    assert info.value.line == 2


def wrap(line: str, width: int) -> str:
    """The line as a terminal of ``width`` columns shows it, one row a line."""
    return "\n".join(line[i : i + width] for i in range(0, len(line), width))


@pytest.mark.parametrize("width", [80, 132, 200])
def test_a_line_wrapped_by_a_terminal_is_joined_back_and_noted(width: int) -> None:
    line = guide_lines()[0]
    rows = -(-len(line) // width)  # ceiling: how many rows the terminal used
    reader = parse_dump(f"{FLOW}\n{wrap(line, width)}\n{FLOW}\n", on_error="skip")
    flows = list(reader)
    assert [f.line for f in flows] == [1, 2, 2 + rows]
    assert flows[1] == parse_flow(line)
    assert reader.skipped == []
    assert reader.joined == 1
    assert [str(n) for n in reader.notes] == [
        f"line 2: lines 2-{1 + rows} joined into one flow "
        f"(a line wrapped by a terminal at {width} columns)"
    ]


def test_a_row_without_keys_is_never_a_flow_by_itself() -> None:
    # OVS prints "<empty>" for a flow without keys, so "packets:..." at the
    # start of a line is the rest of the line before.  Cut by something
    # other than a terminal (the second row is the wider), the rows are
    # joined with a note asking to check them; with no line before, the row
    # is reported.
    first = "in_port(1),eth_type(0x0800), "
    second = "packets:1, bytes:2, used:never, actions:drop"
    reader = parse_dump(f"{first}\n{second}\n", on_error="skip")
    assert list(reader) == [parse_flow(first + second)]
    assert reader.skipped == []
    assert [str(n) for n in reader.notes] == [
        "line 1: lines 1-2 joined into one flow "
        "(rows of uneven width: check that they belong together)"
    ]
    reader = parse_dump(f"flow-dump from the main thread:\n{second}\n", "skip")
    assert list(reader) == []
    [skipped] = reader.skipped
    assert skipped.line == 2
    assert skipped.reason.startswith("not a flow: it does not start with ufid:")


def test_a_line_cut_off_is_reported_with_the_end_as_its_column() -> None:
    cut = "in_port(1),eth(src=00:01:02:03:04:05"
    with pytest.raises(ParseError) as info:
        list(parse_dump(f"{FLOW}\n{cut}\n"))
    assert str(info.value) == (
        "<string>: line 2, column 37: expected one of ')', ',', '/', found the end "
        "of the line (the line ends early: was it cut off?)\n"
        "    in_port(1),eth(src=00:01:02:03:04:05\n"
        "                                        ^"
    )


@pytest.mark.parametrize(
    ("line", "column"),
    [
        ("in_port(1),eth(...),eth_type(0x0800)" + TAIL, 16),
        ("ufid:1178fe7f-98bd-47d8-b3bd-aaae109165d4, in_port(1)... " + TAIL, 54),
        ("in_port(1),eth_type(0x0800)\u2026" + TAIL, 28),
    ],
)
def test_elided_text_is_reported_where_it_was_left_out(line: str, column: int) -> None:
    reader = parse_dump(line + "\n", on_error="skip")
    assert list(reader) == []
    [skipped] = reader.skipped
    assert skipped.reason.startswith("text left out")
    assert skipped.reason.endswith(f"(column {column})")


def test_windows_line_ends_in_a_file_are_accepted(tmp_path: Path) -> None:
    dump = tmp_path / "dump.txt"
    dump.write_bytes(f"{FLOW}\r\n{FLOW}\r\n".encode())
    assert [str(f) for f in parse_dump(dump)] == [FLOW, FLOW]


def test_bytes_that_are_not_utf8_are_replaced_and_the_line_noted(
    tmp_path: Path,
) -> None:
    dump = tmp_path / "latin1.txt"
    good = FLOW.replace("in_port(1)", "in_port(p\xe9)").encode("latin-1")
    broken = b"in_port(1),\xff" + TAIL.encode()
    dump.write_bytes(FLOW.encode() + b"\n" + good + b"\n" + broken + b"\n")
    reader = parse_dump(dump, on_error="skip")
    flows = list(reader)
    assert [f.match.in_port for f in flows] == [1, "p\ufffd"]
    assert [str(n) for n in reader.notes] == [
        "line 2: bytes that are not UTF-8 were read as U+FFFD",
        "line 3: bytes that are not UTF-8 were read as U+FFFD",
    ]
    [skipped] = reader.skipped
    assert (skipped.line, skipped.text[:12]) == (3, "in_port(1),\ufffd")
    assert skipped.reason.endswith("(column 12)")


def test_a_nul_byte_after_the_first_line_skips_that_line_only() -> None:
    data = f"{FLOW}\nin_port(2)\x00{TAIL}\n{FLOW}\n".encode()
    reader = parse_dump(io.BufferedReader(io.BytesIO(data)), on_error="skip")
    assert [f.line for f in reader] == [1, 3]
    assert [str(s) for s in reader.skipped] == [
        "line 2: a NUL byte: binary data in a text dump (column 11)"
    ]


# ---- Point 2: limits ---------------------------------------------------------


def test_a_line_over_the_length_limit_is_refused_before_lark_runs() -> None:
    line = "in_port(1)" + TAIL.replace("drop", "1," * (MAX_LINE_LENGTH // 2) + "2")
    for parse in (parse_flow, parse_flow_reference):
        with pytest.raises(ParseError, match="line too long") as info:
            parse(line)
        assert info.value.column == MAX_LINE_LENGTH + 1


def test_the_userdata_of_odp_at_at_its_largest_parses_and_prints_back() -> None:
    # tests/odp.at "userdata overflow": 65,512 bytes (131,024 hex digits) is
    # the most OVS accepts; OVS prints userdata as hex, so all digits is
    # possible and must not be read as one huge number.
    for data in ("61" * 65512, "0" * 131024):
        line = f"in_port(1){TAIL[:-4]}userspace(pid=1234567,userdata({data}),actions)"
        flow = parse_flow(line)
        assert str(flow) == line
        [action] = flow.actions
        userdata = next(a for a in action.args if getattr(a, "name", "") == "userdata")
        assert str(userdata.args[0]) == data


def test_odp_at_keys_too_long_and_actions_too_long_parse() -> None:
    # tests/odp.at: 16,383 encap() keys and 8,191 set(encap()) actions still
    # fit in a netlink message.
    keys = "encap()," * 16382 + "encap()"
    flow = parse_flow(keys + TAIL)
    assert len(flow.match.keys) == 16383
    actions = ",".join(["set(encap())"] * 8191)
    flow = parse_flow(f"in_port(1){TAIL[:-4]}{actions}")
    assert [a.name for a in flow.actions] == ["set"] * 8191


def nested(name: str, depth: int, inner: str = "") -> str:
    return f"{name}(" * depth + inner + ")" * depth


def depth_of(node: object) -> int:
    depth = 0
    while isinstance(node, Node):
        depth += 1
        node = node.args[0] if node.args else None
    return depth


def test_thirty_three_nested_encaps_of_odp_at_parse_on_both_paths() -> None:
    # tests/odp.at "33 nested encap": OVS refuses it (MAX_ODP_NESTED is 32),
    # but it is well-formed text and we read it.
    line = nested("encap", 33) + TAIL
    for parse in (parse_flow, parse_flow_reference):
        [key] = parse(line).match.keys
        assert depth_of(key) == 33


def test_nesting_past_the_limit_is_an_error_at_the_first_bracket_too_deep() -> None:
    line = f"in_port(1){TAIL[:-4]}" + nested("clone", MAX_NESTING + 1, "1")
    # "in_port(1), packets:1, bytes:2, used:never, actions:" is 52 characters;
    # each "clone(" is 6, and the bracket too deep is the last of the 65th.
    column = 52 + 6 * (MAX_NESTING + 1)
    for parse in (parse_flow, parse_flow_reference):
        with pytest.raises(ParseError, match="nested too deep") as info:
            parse(line)
        assert info.value.column == column
    assert (
        parse_flow(f"in_port(1){TAIL[:-4]}" + nested("clone", MAX_NESTING, "1"))
        .actions[0]
        .name
        == "clone"
    )


def test_a_hundred_thousand_open_brackets_are_refused_quickly() -> None:
    with pytest.raises(ParseError, match="nested too deep"):
        parse_flow("in_port(" * 100_000)


def test_the_reader_skips_a_giant_line_without_holding_it(tmp_path: Path) -> None:
    giant = 8 * MAX_LINE_LENGTH
    dump = tmp_path / "giant.txt"
    with dump.open("wb") as out:
        out.write(f"{FLOW}\n".encode())
        out.write(b"in_port(1)," + b"x" * giant + b"\n")
        out.write(f"{FLOW}\n".encode())
    tracemalloc.start()
    try:
        reader = parse_dump(dump, on_error="skip")
        assert [f.line for f in reader] == [1, 3]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 * MAX_LINE_LENGTH  # a few buffers of one limit, not 8
    [skipped] = reader.skipped
    assert skipped.line == 2
    assert skipped.reason == (
        f"line too long: {giant + 11} characters, the limit is {MAX_LINE_LENGTH}; "
        f"the rest of it was not read (column {MAX_LINE_LENGTH + 1})"
    )


# Widths from lib/odp-util.c (parse_odp_key_mask_attr): the column is the
# start of the offending field, counted by hand.
@pytest.mark.parametrize(
    ("keys", "message", "column"),
    [
        (
            "in_port(1),tcp(src=80,dst=65536)",
            "tcp(dst=65536): the value does not fit in 16 bits",
            23,
        ),
        (
            "in_port(4294967296)",
            "in_port(4294967296): the value does not fit in 32 bits",
            9,
        ),
        (
            "encap(vlan(vid=4096,pcp=0))",
            "vlan(vid=4096): the value does not fit in 12 bits",
            12,
        ),
        ("vlan(vid=5,pcp=8)", "vlan(pcp=8): the value does not fit in 3 bits", 12),
        (
            "mpls(label=1048576,tc=0,ttl=64,bos=1)",
            "mpls(label=1048576): the value does not fit in 20 bits",
            6,
        ),
        (
            "ipv4(src=1.2.3.4.5,dst=10.0.0.1)",
            "ipv4(src=1.2.3.4.5): the value is not an IPv4 address",
            6,
        ),
        (
            "ipv4(src=1.2.3.4,dst=10.0.0.1,ttl=256)",
            "ipv4(ttl=256): the value does not fit in 8 bits",
            31,
        ),
        (
            "eth(src=00:01:02:03:04,dst=00:00:00:00:00:01)",
            "eth(src=00:01:02:03:04): the value is not an Ethernet address",
            5,
        ),
        ("ipv6(src=1::2::3)", "ipv6(src=1::2::3): the value is not an IPv6 address", 6),
        (
            "ipv6(src=::1,label=0x100000)",
            "ipv6(label=0x100000): the value does not fit in 20 bits",
            14,
        ),
        (
            "eth_type(0x0800/0x1ffff)",
            "eth_type(0x0800/0x1ffff): the mask does not fit in 16 bits",
            10,
        ),
        (
            "ct_label(0x1" + "0" * 32 + ")",
            "ct_label(0x1" + "0" * 32 + "): the value does not fit in 128 bits",
            10,
        ),
        (
            "recirc_id(" + "9" * 5000 + ")",
            "recirc_id(" + "9" * 40 + "...): the value does not fit in 32 bits",
            11,
        ),
    ],
)
def test_values_too_wide_for_their_field_are_errors_on_both_paths(
    keys: str, message: str, column: int
) -> None:
    for parse in (parse_flow, parse_flow_reference):
        with pytest.raises(ParseError) as info:
            parse(keys + TAIL)
        assert (info.value.message, info.value.column) == (message, column)


@pytest.mark.parametrize(
    "keys",
    [
        "in_port(4294967295),tcp(src=0,dst=65535)",
        "encap(vlan(vid=4095,pcp=7,cfi=1))",
        "mpls(label=1048575,tc=7,ttl=255,bos=1)",
        "ipv6(src=ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff,label=0xfffff)",
        "ct_label(0x" + "f" * 32 + ")",
        "in_port(br-int),ct_state(+trk+est)",
    ],
)
def test_values_at_the_top_of_their_field_parse(keys: str) -> None:
    assert str(parse_flow(keys + TAIL)) == keys + TAIL


@pytest.mark.parametrize(
    ("stats", "message", "column"),
    [
        (
            "packets:18446744073709551616",
            "packets: 18446744073709551616 does not fit in 64 bits",
            21,
        ),
        (
            "packets:" + "9" * 5000,
            "packets: " + "9" * 40 + "... does not fit in 64 bits",
            21,
        ),
    ],
)
def test_counters_beyond_64_bits_are_errors_with_a_column(
    stats: str, message: str, column: int
) -> None:
    line = f"in_port(1), {stats}, bytes:2, used:never, actions:drop"
    for parse in (parse_flow, parse_flow_reference):
        with pytest.raises(ParseError) as info:
            parse(line)
        assert (info.value.message, info.value.column) == (message, column)
    ok = line.replace(stats, "packets:18446744073709551615")
    assert parse_flow(ok).stats.packets == (1 << 64) - 1


# ---- Point 3: files, in every subcommand that reads dumps -------------------


def reading_subcommands() -> list[str]:
    """Subcommands that take dump FILEs (add_input_arguments gives --strict)."""
    parser = build_parser()
    [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    names = [
        name
        for name, p in sub.choices.items()
        if any("--strict" in a.option_strings for a in p._actions)
    ]
    assert "summarize" in names
    return names


def bad_inputs(tmp_path: Path) -> list[tuple[str, str]]:
    (tmp_path / "file").write_text(FLOW + "\n")
    (tmp_path / "core").write_bytes(b"\x7fELF\x02\x01\x01\x00" * 64)
    (tmp_path / "cut.txt.gz").write_bytes(
        gzip.compress((FLOW + "\n").encode() * 1000)[:100]
    )
    return [
        (str(tmp_path / "missing.txt"), "no such file"),
        (str(tmp_path), "is a directory, not a dump file"),
        (str(tmp_path / "file" / "dump.txt"), "cannot open: Not a directory"),
        ("/proc/self/mem", "read error: Input/output error"),
        (str(tmp_path / "core"), "binary data, not a text dump"),
        (str(tmp_path / "cut.txt.gz"), "gzip data is truncated or corrupt"),
    ]


def command_line(command: str, path: str, tmp_path: Path) -> list[str]:
    """``command`` reading the dump ``path``, with what else it cannot run without."""
    good = tmp_path / "good.txt"
    good.write_text(FLOW + "\n")
    if command == "report":
        return [command, path, "-o", str(tmp_path / "report.html")]
    if command == "diff":  # BEFORE AFTER; the interval of stdin is unknown
        return [command, path, str(good), "--interval", "1"]
    return [command, path]


@pytest.mark.parametrize("command", reading_subcommands())
def test_bad_files_give_one_clear_line_and_exit_status_2(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for path, message in bad_inputs(tmp_path):
        assert main(command_line(command, path, tmp_path)) == 2, path
        err = capsys.readouterr().err
        assert err.startswith(f"ovsflow: error: {path}: {message}"), err
        assert err.count("\n") == 1, err


@pytest.mark.parametrize("command", reading_subcommands())
def test_dash_reads_standard_input(
    command: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = f"{FLOW}\n".encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert main(command_line(command, "-", tmp_path)) == 0
    err = capsys.readouterr().err
    assert "error" not in err and "skipped" not in err, err


def two_inputs(command: str, first: Path, second: Path, tmp_path: Path) -> list[str]:
    """``command`` reading two dumps."""
    if command == "report":
        return [command, str(first), str(second), "-o", str(tmp_path / "r.html")]
    if command == "diff":
        return [command, str(first), str(second), "--interval", "1"]
    return [command, str(first), str(second)]


@pytest.mark.parametrize("command", reading_subcommands())
def test_an_empty_input_among_others_is_a_note(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # What OVS prints for "dpctl/dump-flows type=offloaded" when nothing is
    # offloaded: nothing at all.
    empty = tmp_path / "offloaded.txt"
    empty.write_bytes(b"")
    good = tmp_path / "good.txt"
    good.write_text(FLOW + "\n")
    for first, second in ((empty, good), (good, empty)):
        assert main(two_inputs(command, first, second, tmp_path)) == 0
        err = capsys.readouterr().err
        assert f"ovsflow: note {empty}: empty, no flows\n" in err, err
        assert "error" not in err, err


@pytest.mark.parametrize("command", reading_subcommands())
def test_inputs_that_are_all_empty_are_an_error(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_bytes(b"")
    second.write_bytes(b"")
    assert main(two_inputs(command, first, second, tmp_path)) == 2
    assert capsys.readouterr().err == (
        f"ovsflow: error: {first}, {second}: every input is empty, not a single "
        "line to read (did the dump commands print nothing?)\n"
    )
    if command != "diff":  # diff always reads two
        assert main(command_line(command, str(first), tmp_path)) == 2
        assert capsys.readouterr().err == (
            f"ovsflow: error: {first}: empty, not a single line to read "
            "(did the dump command print nothing?)\n"
        )


def test_the_readme_sum_of_offloaded_and_non_offloaded_dumps(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Captured from a real OVS with nothing offloaded: the type=offloaded
    # dump is empty.  The figures are the non-offloaded file's, added up
    # here from its text.
    data = Path(__file__).parent / "data"
    offloaded = data / "ovs-dummy-dpctl-m-type-offloaded.txt"
    rest = data / "ovs-dummy-dpctl-m-type-non-offloaded.txt"
    assert offloaded.read_bytes() == b""
    text = rest.read_text()
    flows = sum(line.startswith("ufid:") for line in text.splitlines())
    packets = sum(int(n) for n in re.findall(r" packets:(\d+),", text))
    octets = sum(int(n) for n in re.findall(r" bytes:(\d+),", text))
    status = main(["summarize", "--format", "json", str(offloaded), str(rest)])
    out, err = capsys.readouterr()
    assert status == 0
    figures = json.loads(out)
    assert (figures["flows"], figures["packets"], figures["bytes"]) == (
        flows,
        packets,
        octets,
    )
    assert err == f"ovsflow: note {offloaded}: empty, no flows\n"


def bad_lines(tmp_path: Path, count: int) -> Path:
    dump = tmp_path / "bad.txt"
    dump.write_text(f"{FLOW}\n" + "in_port(1),eth(\n" * count)
    return dump


@pytest.mark.parametrize(("count", "summary"), [(1, "1 line"), (3, "3 lines")])
def test_quiet_prints_only_the_count_of_skipped_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], count: int, summary: str
) -> None:
    dump = bad_lines(tmp_path, count)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    pasted = tmp_path / "pasted.txt"
    pasted.write_text(f"{wrap(guide_lines()[1], 100)}\n")
    argv = ["summarize", str(dump), str(empty), str(pasted), "--format", "json"]
    assert main(["-q", *argv]) == 0
    assert capsys.readouterr().err == f"ovsflow: {summary} skipped in all\n"
    assert main(argv) == 0
    err = capsys.readouterr().err.splitlines()
    assert len([e for e in err if e.startswith("ovsflow: skipped ")]) == count
    assert f"ovsflow: note {empty}: empty, no flows" in err
    assert f"ovsflow: 1 wrapped line joined back in {pasted}" in err


@pytest.mark.parametrize(
    ("count", "more"), [(21, "1 more skipped line"), (22, "2 more skipped lines")]
)
def test_capped_lists_count_in_the_singular_and_the_plural(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], count: int, more: str
) -> None:
    assert main(["summarize", str(bad_lines(tmp_path, count))]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[-2:] == [
        f"ovsflow: ... and {more}",
        f"ovsflow: {count} lines skipped in all",
    ]


def test_summarize_lists_joined_lines_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dump = tmp_path / "pasted.txt"
    dump.write_text(f"{FLOW}\n{wrap(guide_lines()[1], 100)}\n")
    assert main(["summarize", str(dump), "--format", "json"]) == 0
    captured = capsys.readouterr()
    rows = -(-len(guide_lines()[1]) // 100)
    assert captured.err == (
        f"ovsflow: note {dump}: line 2: lines 2-{1 + rows} joined into one flow "
        "(a line wrapped by a terminal at 100 columns)\n"
        f"ovsflow: 1 wrapped line joined back in {dump}\n"
    )


def test_a_stray_nul_in_the_first_line_skips_that_line_not_the_file() -> None:
    # Found by atheris: one NUL in the first line made the whole input
    # "binary data".  A core file or an image is still refused (test_dump).
    data = f"in_port(1), packets:1, by\x00tes:2, used:never, actions:1\n{FLOW}\n"
    reader = parse_dump(io.BufferedReader(io.BytesIO(data.encode())), on_error="skip")
    assert [f.line for f in reader] == [2]
    assert [str(s) for s in reader.skipped] == [
        "line 1: a NUL byte: binary data in a text dump (column 26)"
    ]


def test_an_item_named_dp_extra_info_before_the_actions_prints_back() -> None:
    # Found by fuzzing: a mangled line with "dp-extra-info:" both among its
    # items and after its actions printed back without the first one.
    line = (
        "ct_mark(0/0),in_port(1), packets:2, bytes:216, used:0.676s, "
        "dp-extra-info:miniflow_bik(0/0), dp:ovs, actions:p9, "
        "dp-extra-info:miniflow_bits(5,3)"
    )
    flow = parse_flow(line)
    assert flow.dp_extra_info == "miniflow_bits(5,3)"
    assert ("dp-extra-info", "miniflow_bik(0/0)") in flow.attrs
    assert str(flow) == line
    assert parse_flow(str(flow)) == flow


@pytest.mark.parametrize(
    "actions",
    [
        "clone(a=1)",
        "sample(sample=50.0%,actions(p1=5))",
        "check_pkt_len(size=200,gt(x=1),le(2))",
    ],
)
def test_arguments_that_are_no_action_inside_an_action_list_do_not_crash(
    actions: str,
) -> None:
    # Found by the break test: these parse, but the table and explain
    # failed with "TypeError: not an action: Field(...)".
    from ovsflow.explain import reasons
    from ovsflow.table import to_arrow

    line = f"in_port(1), packets:0, bytes:0, used:never, actions:{actions}"
    flow = parse_flow(line)
    assert str(flow) == line
    action = flow.actions[0]
    nested = [str(a) for name in ("actions", "gt") for a in getattr(action, name, ())]
    assert {"a=1", "p1=5", "x=1"} & set(nested), nested
    table = to_arrow([flow])
    assert table.num_rows == 1
    assert table.column("actions_text").to_pylist() == [actions]
    assert isinstance(reasons(flow), list)
