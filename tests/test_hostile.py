"""Odd input a new user met: each case gives a clear error or the right value."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest

from ovsflow import InputError, ParseError, parse_flow
from ovsflow.dump import parse_dump
from ovsflow.parse import parse_flow_reference
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
