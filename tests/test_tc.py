"""``tc -s filter show`` text: flags, counters, unknown lines; and collecting it.

``data/tc/filters.txt`` was written by hand from the forms iproute2 prints
(``tc/f_flower.c`` flower_print_opt, ``tc/tc_util.c`` print_tcstats2_attr and
print_tcstats_basic_hw), because this kernel has no flower classifier; the
expected values below are read off that file.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from helpers import DATA
from ovs_scenarios import LiveFlows

from ovsflow import tc
from ovsflow.cli import main

FILTERS = DATA / "tc" / "filters.txt"


@pytest.fixture(scope="module")
def devices() -> dict[str, tc.TcDevice]:
    return {d.dev: d for d in tc.load(FILTERS)}


def test_every_section_is_read_with_its_header(devices: dict[str, tc.TcDevice]) -> None:
    assert list(devices) == ["eth0_0", "gone0", "veth1"]
    command = ["tc", "-s", "filter", "show", "dev", "eth0_0", "ingress"]
    assert devices["eth0_0"].command == command
    assert devices["gone0"].error is not None
    assert 'Cannot find device "gone0"' in devices["gone0"].error
    assert devices["gone0"].filters == []


def test_offloaded_filter_has_in_hw_count_and_split_counters(
    devices: dict[str, tc.TcDevice],
) -> None:
    head, offloaded = devices["eth0_0"].filters[:2]
    assert (head.line, head.handle, head.where) == (2, None, "unknown")
    assert (offloaded.line, offloaded.protocol, offloaded.pref) == (3, "ip", 2)
    assert (offloaded.kind, offloaded.chain, offloaded.handle) == ("flower", 0, 1)
    assert (offloaded.skip_sw, offloaded.skip_hw) == (True, False)
    assert (offloaded.in_hw, offloaded.in_hw_count, offloaded.not_in_hw) == (
        True,
        1,
        None,
    )
    assert offloaded.where == "hardware"
    assert offloaded.keys["ip_proto"] == "tcp"
    first, second = offloaded.actions
    assert (first.order, first.kind) == (1, "tunnel_key")
    assert (first.bytes, first.packets) == (109521630, 75021)
    assert (first.sw_bytes, first.sw_packets) == (132, 2)
    assert (first.hw_bytes, first.hw_packets) == (109521498, 75019)
    assert first.cookie == "0f10e2c1a04d74459be7d07281ff166"
    assert (16, "\tgeneve_opts 0102:80:000a0006") in first.detail
    assert second.text == "mirred (Egress Redirect to device genev_sys_6081) stolen"
    assert (second.packets, second.hw_packets) == (75021, None)
    assert offloaded.counted is first
    assert offloaded.unknown == []


def test_filter_the_driver_refused_is_not_in_hw(
    devices: dict[str, tc.TcDevice],
) -> None:
    refused = devices["eth0_0"].filters[2]
    assert (refused.line, refused.handle) == (34, 2)
    assert (refused.not_in_hw, refused.in_hw, refused.skip_hw, refused.skip_sw) == (
        True, None, False, False,
    )  # fmt: skip
    assert refused.where == "software"
    assert refused.actions[0].text == "ct zone 5 pipe"
    assert (refused.actions[0].bytes, refused.actions[0].packets) == (840, 10)


def test_skip_hw_filter_and_unknown_lines_are_kept(
    devices: dict[str, tc.TcDevice],
) -> None:
    kept = devices["eth0_0"].filters[3]
    assert (kept.protocol, kept.skip_hw, kept.not_in_hw, kept.where) == (
        "arp", True, True, "software",
    )  # fmt: skip
    assert kept.unknown == [(49, "mystery line from a newer iproute2")]
    assert kept.keys["frobnicate"] == "7"
    assert kept.actions[0].kind == "gact"
    assert kept.actions[0].packets is None  # no -s counters printed


def test_nothing_in_the_file_is_lost(devices: dict[str, tc.TcDevice]) -> None:
    # Every non-blank line is a header, a filter line, a key, a flag, an
    # action, a counter, a cookie, an action detail or an unknown line.
    lines = FILTERS.read_text().splitlines()
    seen: set[int] = set()
    for device in devices.values():
        seen.update(n for n, _ in device.unknown)
        for f in device.filters:
            seen.add(f.line)
            seen.update(n for n, _ in f.unknown)
            for a in f.actions:
                seen.update(n for n, _ in a.detail)
    parsed_elsewhere = {
        n
        for n, text in enumerate(lines, start=1)
        if text.startswith("# ovsflow-tc: ")
        or re.match(r"^  \S", text)
        or re.match(r"^\s*(action order|Sent|cookie)", text)
    }
    blank = {n for n, text in enumerate(lines, start=1) if not text.strip()}
    assert seen | parsed_elsewhere | blank == set(range(1, len(lines) + 1))


def test_bare_tc_output_without_headers_is_one_device() -> None:
    text = "filter protocol ip pref 1 flower chain 0 handle 0x5\n  in_hw\n"
    (device,) = tc.parse_sections(text)
    assert device.dev == ""
    assert (device.filters[0].in_hw, device.filters[0].in_hw_count) == (True, None)


# -- collection with a stand-in tc -------------------------------------------

STAND_IN = """#!{python}
import json, sys
with open({log!r}, "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
args = sys.argv[1:]
if args[:4] != ["-s", "filter", "show", "dev"] or args[5:] != ["ingress"]:
    sys.exit("stand-in tc: unexpected arguments %r" % (args,))
if args[4] == "p2":
    sys.stderr.write('Cannot find device "p2"\\n')
    sys.exit(1)
print("filter protocol ip pref 1 flower chain 0 handle 0x1")
print("  not_in_hw")
"""


def _name(number: int) -> str:
    # Datapath numbers follow the digits of the names (tests/ovs_scenarios.py).
    return {4789: "vxlan_sys_4789", 6081: "genev_sys_6081", 30: "phy30"}.get(
        number, f"p{number}"
    )


def test_collect_tc_runs_tc_for_each_input_port_of_the_dump(
    ovs_flows: LiveFlows, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir, log = tmp_path / "bin", tmp_path / "tc.log"
    bin_dir.mkdir()
    (bin_dir / "tc").write_text(STAND_IN.format(python=sys.executable, log=str(log)))
    (bin_dir / "tc").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{Path(sys.executable).parent}:/usr/bin")
    target = str(ovs_flows.ovs.control_socket)
    dump, out = tmp_path / "dump.txt", tmp_path / "tc.txt"
    assert main(["collect", "--target", target, "-o", str(dump), "--tc", str(out)]) == 0

    # ovs-appctl prints port names; a number would be a datapath number.
    ports = re.findall(r"in_port\(([^)]+)\)", dump.read_text())
    assert ports
    names = (_name(int(p)) if p.isdigit() else p for p in ports)
    expected = list(dict.fromkeys(names))
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert [c[4] for c in calls] == expected
    devices = tc.load(out)
    assert [d.dev for d in devices] == expected
    for device in devices:
        if device.dev == "p2":
            assert (
                device.error is not None and 'Cannot find device "p2"' in device.error
            )
            assert device.filters == []
        else:
            assert device.error is None
            assert [f.not_in_hw for f in device.filters] == [True]
