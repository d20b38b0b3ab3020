"""Reading whole dumps: sources, headers, skipped lines and file errors."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest

from ovsflow import InputError, ParseError
from ovsflow.dump import DumpReader, parse_dump

FLOW = "in_port(1), packets:2, bytes:120, used:never, actions:drop"
DUMP = (
    '# ovsflow-meta: {"node": "node1", "command": ["ovs-appctl"]}\n'
    "flow-dump from pmd on cpu core: 3\n"
    f"{FLOW}\n"
    "flow-dump from the main thread:\n"
    f"{FLOW}\n"
)


def test_sections_and_meta_headers_are_kept() -> None:
    reader = parse_dump(DUMP)
    flows = list(reader)
    assert [f.section for f in flows] == ["pmd on cpu core: 3", "main thread"]
    assert [f.line for f in flows] == [3, 5]
    assert reader.meta == [{"node": "node1", "command": ["ovs-appctl"]}]


@pytest.mark.parametrize("kind", ["path", "str-path", "gzip", "text-stream", "bytes"])
def test_every_kind_of_source_gives_the_same_flows(tmp_path: Path, kind: str) -> None:
    plain = tmp_path / "dump.txt"
    plain.write_text(DUMP)
    gz = tmp_path / "dump.txt.gz"
    gz.write_bytes(gzip.compress(DUMP.encode()))
    source: object = {
        "path": plain,
        "str-path": str(plain),
        "gzip": gz,
        "text-stream": io.StringIO(DUMP),
        "bytes": io.BytesIO(DUMP.encode()),
    }[kind]
    assert [f.stats.bytes for f in parse_dump(source)] == [120, 120]  # type: ignore[arg-type]


def test_skip_mode_lists_every_skipped_line_with_its_reason() -> None:
    text = (
        f"{FLOW}\n"
        "2024-01-01T00:00:00.123Z|00001|dpif_netlink|INFO|The kernel module...\n"
        "in_port(1),eth(\n"
        "# ovsflow-meta: {not json\n"
        f"{FLOW}\n"
    )
    reader = parse_dump(text, on_error="skip")
    assert len(list(reader)) == 2
    assert [s.line for s in reader.skipped] == [2, 3, 4]
    assert reader.skipped[0].reason == "not a flow: an OVS log line"
    assert reader.skipped[1].reason.startswith("expected ")
    assert reader.skipped[2].reason.startswith("bad ovsflow-meta header")


def test_raise_mode_stops_with_line_and_column() -> None:
    with pytest.raises(ParseError) as info:
        list(parse_dump(f"{FLOW}\n{FLOW}\nin_port(1),eth(\n"))
    assert (info.value.line, info.value.column) == (3, 16)


def test_openflow_text_gets_its_own_message() -> None:
    line = (
        " cookie=0x0, duration=5.3s, table=0, n_packets=0, n_bytes=0, "
        "priority=0 actions=NORMAL"
    )
    with pytest.raises(ParseError, match="OpenFlow text from 'ovs-ofctl dump-flows'"):
        list(parse_dump(line + "\n"))


def test_windows_line_ends_and_colours_are_accepted() -> None:
    text = f"\x1b[32m{FLOW}\x1b[0m\r\n{FLOW}\r\n"
    assert [str(f) for f in parse_dump(text)] == [FLOW, FLOW]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing.txt", "no such file"),
        (lambda p: p, "is a directory"),
    ],
)
def test_missing_files_and_directories_are_input_errors(
    tmp_path: Path, make: object, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        list(DumpReader(make(tmp_path)))  # type: ignore[operator]


def test_binary_and_truncated_gzip_files_are_input_errors(tmp_path: Path) -> None:
    binary = tmp_path / "core"
    binary.write_bytes(b"\x7fELF\x00\x00\x00" * 10)
    with pytest.raises(InputError, match="binary data"):
        list(DumpReader(binary))
    cut = tmp_path / "cut.txt.gz"
    cut.write_bytes(gzip.compress((FLOW + "\n").encode() * 1000)[:200])
    with pytest.raises(InputError, match="truncated or corrupt"):
        list(DumpReader(cut))
