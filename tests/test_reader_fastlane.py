"""The dump reader's fast lane (a line that starts a flow after a flow of one
row) gives what the careful path gives, at the edges of its shortcuts."""

from __future__ import annotations

import gc
import gzip
import io
from pathlib import Path

import pytest

from ovsflow import ParseError
from ovsflow.dump import DumpReader, Source, parse_dump
from ovsflow.limits import MAX_LINE_LENGTH

FLOW = "in_port(1), packets:2, bytes:120, used:never, actions:drop"
KINDS = ["path", "gzip", "bytes", "text-stream", "str", "lines"]


def source(tmp_path: Path, data: bytes, kind: str) -> Source:
    """``data`` as a source of the given kind."""
    if kind == "path":
        (tmp_path / "dump.txt").write_bytes(data)
        return tmp_path / "dump.txt"
    if kind == "gzip":
        (tmp_path / "dump.txt.gz").write_bytes(gzip.compress(data))
        return tmp_path / "dump.txt.gz"
    if kind == "bytes":
        return io.BufferedReader(io.BytesIO(data))
    text = data.decode("utf-8")
    if kind == "text-stream":
        return io.StringIO(text)
    if kind == "str":
        return text
    return text.splitlines(keepends=True)


@pytest.mark.parametrize("kind", KINDS)
def test_a_line_at_the_length_limit_is_read_and_one_longer_is_refused(
    tmp_path: Path, kind: str
) -> None:
    # Trailing spaces make a flow line as long as wanted.  Its line end does
    # not count, "\r\n" included (line 4 fills the limit with it).
    at_limit = FLOW.ljust(MAX_LINE_LENGTH)
    over = FLOW.ljust(MAX_LINE_LENGTH + 1)
    crlf = FLOW.ljust(MAX_LINE_LENGTH - 1)
    text = f"{FLOW}\n{at_limit}\n{over}\n{crlf}\r\n{FLOW}\n"
    reader = parse_dump(source(tmp_path, text.encode(), kind), on_error="skip")
    assert [f.line for f in reader] == [1, 2, 4, 5]
    assert [(s.line, s.reason) for s in reader.skipped] == [
        (
            3,
            f"line too long: {MAX_LINE_LENGTH + 1} characters, the limit is "
            f"{MAX_LINE_LENGTH}; the rest of it was not read "
            f"(column {len(FLOW) + 1})",  # of the text, spaces stripped
        )
    ]
    assert (reader.lines, reader.notes) == (5, [])


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (
            "recirc_id(0),in_port(2),eth(...),eth_type(0x0800), packets:1, "
            "bytes:2, used:never, actions:drop",
            "text left out ('...' in place of part of the line): the whole line "
            "is needed (column 29)",
        ),
        (
            "ufid:1178fe7f-98bd-47d8-b3bd-aaae109165d4, in_port(2),eth_type(0x0800"
            "), packets:1, bytes:2, used:never, actions:\u2026",
            "text left out ('\u2026' in place of part of the line): the whole line "
            "is needed (column 113)",
        ),
        (
            "in_port(2), packets:1, bytes:2,\x00 used:never, actions:drop",
            "a NUL byte: binary data in a text dump (column 32)",
        ),
    ],
)
@pytest.mark.parametrize("kind", KINDS)
def test_a_line_that_starts_as_a_flow_does_is_still_checked(
    tmp_path: Path, kind: str, line: str, reason: str
) -> None:
    data = f"{FLOW}\n{line}\n{FLOW}\n".encode()
    reader = parse_dump(source(tmp_path, data, kind), on_error="skip")
    assert [f.line for f in reader] == [1, 3]
    assert [(s.line, s.reason, s.text) for s in reader.skipped] == [(2, reason, line)]

    # Strict: the flow before comes out, then the error.
    flows = iter(parse_dump(source(tmp_path, data, kind)))
    assert next(flows).line == 1
    with pytest.raises(ParseError) as info:
        next(flows)
    assert (info.value.line, info.value.message) == (2, reason.rsplit(" (", 1)[0])


def test_a_bad_ovsflow_meta_header_before_a_flow_is_reported_and_the_flow_kept() -> (
    None
):
    reader = parse_dump(
        f'# ovsflow-meta: {{"node": \n{FLOW}\n{FLOW}\n', on_error="skip"
    )
    assert [f.line for f in reader] == [2, 3]
    [skipped] = reader.skipped
    assert skipped.line == 1
    assert skipped.reason.startswith("bad ovsflow-meta header: ")
    assert reader.meta == []


@pytest.mark.parametrize(
    "actions", ["drop", "userspace(pid=1)", "ct(commit),3", "push_vlan(vid=1,pcp=0)"]
)
def test_one_row_flows_of_one_width_are_never_joined(actions: str) -> None:
    # Rows of one width may be a line wrapped by a terminal: each row is
    # tried as a whole flow first, and a whole flow is not continued.
    lines = [
        f"in_port({port}), packets:1, bytes:60, used:never, actions:{actions}"
        for port in range(1, 10)
    ]
    assert len({len(line) for line in lines}) == 1
    reader = parse_dump("\n".join(lines) + "\n")
    assert [f.match.in_port for f in reader] == list(range(1, 10))
    assert (reader.joined, reader.notes, reader.skipped) == (0, [], [])


def test_a_wrapped_line_between_one_row_flows_is_joined() -> None:
    wrapped = "recirc_id(0),in_port(2),eth_type(0x0800), packets:1, bytes:2, "
    rows = [wrapped[:20], wrapped[20:40], wrapped[40:] + "used:never, actions:drop"]
    reader = parse_dump("\n".join([FLOW, *rows, FLOW]) + "\n", on_error="skip")
    flows = list(reader)
    assert [f.line for f in flows] == [1, 2, 5]
    assert flows[1].match.in_port == 2
    assert [str(n) for n in reader.notes] == [
        "line 2: lines 2-4 joined into one flow (rows of uneven width: check "
        "that they belong together)"
    ]
    assert reader.skipped == []


def test_line_numbers_and_sections_of_a_part_of_a_dump() -> None:
    text = f"{FLOW}\nnot a flow\n{FLOW}\nflow-dump from the main thread:\n{FLOW}\n"
    reader = DumpReader(text, "skip", first_line=10, first_section="pmd on cpu core: 3")
    flows = list(reader)
    assert [(f.line, f.section) for f in flows] == [
        (10, "pmd on cpu core: 3"),
        (12, "pmd on cpu core: 3"),
        (14, "main thread"),
    ]
    assert [s.line for s in reader.skipped] == [11]
    assert (reader.lines, reader.flows, reader.sections) == (14, 3, ["main thread"])


def test_a_byte_order_mark_is_dropped_on_line_1_only() -> None:
    text = "\ufeff" + FLOW + "\n"
    assert [f.line for f in DumpReader(text, "skip")] == [1]
    later = DumpReader(text, "skip", first_line=2)
    assert list(later) == []
    assert [s.line for s in later.skipped] == [2]


@pytest.mark.parametrize(
    ("trailer", "cut"),
    [
        ("miniflow_bits(4,1)", False),
        ("miniflow_bits(4,1))", False),
        ("x)", False),
        ("miniflow_bits((4,1)", True),
        ("miniflow_bits(4,1", True),
        ("miniflow_bits(", True),
        ("m", True),
        ("()(", True),
    ],
)
def test_a_dp_extra_info_trailer_with_open_brackets_is_a_line_cut_off(
    trailer: str, cut: bool
) -> None:
    line = (
        "recirc_id(0),in_port(1),eth_type(0x0800), packets:1, bytes:2, "
        f"used:never, actions:2, dp-extra-info:{trailer}"
    )
    reader = parse_dump(f"{FLOW}\n{line}\n{FLOW}\n", on_error="skip")
    assert [f.line for f in reader] == ([1, 3] if cut else [1, 2, 3])
    assert [(s.line, s.reason) for s in reader.skipped] == (
        [
            (
                2,
                "expected the rest of the dp-extra-info trailer (miniflow_bits(...)"
                "), found the end of the line (the line ends early: was it cut "
                f"off?) (column {len(line) + 1})",
            )
        ]
        if cut
        else []
    )


def test_lines_that_fail_do_not_keep_each_other_alive() -> None:
    # Found by the break test: the reader's last answer was a local of the
    # frame each new ParseError's traceback holds, so a run of failing lines
    # made a chain that lived until a line parsed (155 MiB for 20,000).
    flow = "in_port(1),eth_type(0x0800), packets:1, bytes:60, used:never, actions:2"
    text = flow + "\n" + "not a flow at all\n" * 2_000
    reader = parse_dump(text, on_error="skip")
    assert sum(1 for _ in reader) == 1
    assert len(reader.skipped) == 2_000
    gc.collect()
    alive = sum(isinstance(o, ParseError) for o in gc.get_objects())
    assert alive <= 2, alive


def test_gzip_in_a_stream_without_peek_is_read() -> None:
    # Found by the break test: io.BytesIO has no peek(), so gzip data in it
    # was read as binary or as lines of garbage.
    line = b"in_port(1),eth_type(0x0800), packets:1, bytes:60, used:never, actions:2\n"
    data = gzip.compress(line * 3)
    reader = parse_dump(io.BytesIO(data))
    assert [f.stats.packets for f in reader] == [1, 1, 1]
    assert reader.skipped == []
    stream = io.BytesIO(b"xx" + data)
    stream.read(2)  # read from where the stream stands, not from its start
    assert sum(1 for _ in parse_dump(stream)) == 3
