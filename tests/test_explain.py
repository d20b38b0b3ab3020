"""Rules that say why a flow is not in hardware, on real and crafted dumps.

Each expected set of lines below was worked out by reading the dump files:
``ovs-dummy-dpctl-m.txt`` (a real OVS 3.1 dummy datapath, every flow
``dp:ovs``) and ``explain/crafted.txt`` (one line per rule the real dump
cannot show, in the forms OVS prints).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from helpers import DATA, REPO

from ovsflow.cli import main
from ovsflow.dump import parse_dump
from ovsflow.errors import InputError
from ovsflow.explain import (
    DEFAULT_RULES,
    NO_RULE,
    Report,
    default_rules,
    disable,
    load_rules,
    reasons,
)
from ovsflow.ports import load as load_ports

DUMP = DATA / "ovs-dummy-dpctl-m.txt"
CRAFTED = DATA / "explain" / "crafted.txt"
PORTS = DATA / "ports" / "ovs-dummy-ports.json"
SAMPLE = REPO / "ovsflow" / "samples" / "kube-ovn-yusur-2200e.txt"

# Lines of ovs-dummy-dpctl-m.txt (line 1 is the "flow-dump from" header).
REAL = {
    "sample": {17, 21},  # sample(sample=50.0%,...) for sFlow and IPFIX
    "userspace": {17, 21},  # the userspace(sFlow/flow_sample) inside them
    "controller": {12},  # userspace(pid=0,controller(...))
    "hash": {25},  # hash(sym_l4(0)),recirc(0x3)
    "dp_hash_match": {22},  # dp_hash(0xf97bddba/0xf) after that recirc
    "meter": {29},  # meter(0),p2
    "check_pkt_len": {34},
    "clone": {27},  # clone(ct(commit,zone=7),p15)
}
CRAFTED_EXPECTED = {
    "tc_software": {1, 6},
    "never_used": {3},  # line 2 is never used too, but in hardware
    "ct_helper": {4},
    "slow_path": {5, 7},  # 7: inside check_pkt_len's gt()
    "sample": {6},  # psample
    "trunc": {6},
    "check_pkt_len": {7},
}


def fired(path: Path, ports_path: Path | None = None) -> dict[str, set[int]]:
    ports = load_ports(ports_path) if ports_path else None
    out: dict[str, set[int]] = {}
    for flow in parse_dump(path):
        for reason in reasons(flow, ports=ports):
            out.setdefault(reason.rule, set()).add(flow.line)
    return out


def test_each_rule_fires_on_exactly_its_lines_of_the_real_dump() -> None:
    assert fired(DUMP) == REAL


def test_each_rule_fires_on_exactly_its_crafted_lines() -> None:
    assert fired(CRAFTED) == CRAFTED_EXPECTED


def test_flows_in_hardware_have_no_reasons() -> None:
    assert fired(SAMPLE) == {}


def test_every_built_in_rule_is_tested_and_documented() -> None:
    names = {rule.name for rule in default_rules()}
    tested = set(REAL) | set(CRAFTED_EXPECTED) | {"in_port_not_representor"}
    assert names == tested
    docs = (REPO / "docs" / "explain.md").read_text()
    headed = set(re.findall(r"^### `([a-z_]+)`$", docs, re.MULTILINE))
    assert headed == names


def test_port_rule_needs_the_port_table_and_spares_tunnel_ports() -> None:
    # Every flow enters on a dummy port except the two that enter on the
    # tunnel vports vxlan_sys_4789 and genev_sys_6081 (lines 4 and 20).
    lines = DUMP.read_text().splitlines()
    flows = {n for n, text in enumerate(lines, start=1) if text.startswith("ufid:")}
    tunnels = {
        n for n in flows if re.search(r"in_port\((vxlan|genev)_sys", lines[n - 1])
    }
    assert tunnels == {4, 20}
    with_ports = fired(DUMP, PORTS)
    assert with_ports.pop("in_port_not_representor") == flows - tunnels
    assert with_ports == REAL


def test_port_rule_maps_datapath_numbers_too() -> None:
    path = DATA / "ovs-dummy-dpctl-m-no-names.txt"
    lines = path.read_text().splitlines()
    flows = {n for n, text in enumerate(lines, start=1) if text.startswith("ufid:")}
    # Datapath numbers 4789 and 6081 are the tunnel vports (dpctl/show).
    tunnels = {n for n in flows if re.search(r"in_port\((4789|6081)\)", lines[n - 1])}
    assert len(tunnels) == 2
    assert fired(path, PORTS)["in_port_not_representor"] == flows - tunnels


def test_a_user_rule_file_adds_replaces_and_switches_off(tmp_path: Path) -> None:
    user = tmp_path / "rules.json"
    user.write_text(
        json.dumps(
            {
                "format": "ovsflow-explain-rules/1",
                "rules": [
                    {"name": "meter", "enabled": False},
                    {"name": "mpls", "title": "MPLS", "when": {"match": ["mpls"]}},
                ],
            }
        )
    )
    rules = load_rules(user, default_rules())
    found = {}
    for flow in parse_dump(DUMP):
        for reason in reasons(flow, rules):
            found.setdefault(reason.rule, set()).add(flow.line)
    # The one flow matching mpls(label=200/0xfffff,...) is line 24.
    assert found == {**{k: v for k, v in REAL.items() if k != "meter"}, "mpls": {24}}
    assert [r.name for r in rules][-1] == "mpls"


def one_rule(when: dict[str, list[str]]) -> dict[str, object]:
    rules = [{"name": "x", "when": when}]
    return {"format": "ovsflow-explain-rules/1", "rules": rules}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {"rules": []},
            'expected an object with "format": "ovsflow-explain-rules/1" and "rules"',
        ),
        (
            one_rule({"acton": ["hash"]}),
            "rule 1 ('x'): unknown condition 'acton'; expected one of class, "
            "action, with, without, match, used, in_port",
        ),
        (
            one_rule({"class": ["hw"]}),
            "rule 1 ('x'): unknown class 'hw'; expected one of hardware, partial, "
            "tc_software, software, unknown",
        ),
        (
            one_rule({"with": ["helper"]}),
            'rule 1 (\'x\'): "with" and "without" need "action"',
        ),
    ],
)
def test_bad_rule_files_say_where_and_what_was_expected(
    tmp_path: Path, document: object, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    with pytest.raises(InputError) as caught:
        load_rules(path)
    assert str(caught.value).endswith(message)
    assert str(caught.value).startswith(f"rule file {str(path)!r}")


def test_rule_file_that_is_not_json_gives_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{\n  "format": ,\n}')
    with pytest.raises(InputError, match=r"line 2, column 13: expected JSON"):
        load_rules(path)


def test_disabling_an_unknown_rule_names_the_known_ones() -> None:
    with pytest.raises(InputError, match=r"^no rule is called 'hsah'; the rules are"):
        disable(default_rules(), ["hsah"])


def test_report_groups_biggest_blocker_first_and_loses_no_flow() -> None:
    report = Report()
    report.add_all(parse_dump(DUMP), "dump")
    groups = report.sorted_groups()
    # Packets per group, from the dump text: sample and userspace are lines
    # 17 and 21 (19 packets each); unexplained: everything else.
    lines = DUMP.read_text().splitlines()
    packets = {
        n: int(re.search(r" packets:(\d+),", t).group(1))  # type: ignore[union-attr]
        for n, t in enumerate(lines, start=1)
        if t.startswith("ufid:")
    }
    explained = set().union(*REAL.values())
    rest = sum(p for n, p in packets.items() if n not in explained)
    assert rest == 38
    # Biggest blocker first; the unexplained flows last, whatever their size.
    assert [(g.rule, g.flows, g.packets) for g in groups] == [
        ("sample", 2, 38),
        ("userspace", 2, 38),
        ("dp_hash_match", 1, 5),
        ("hash", 1, 5),
        ("check_pkt_len", 1, 3),
        ("meter", 1, 2),
        ("clone", 1, 1),
        ("controller", 1, 1),
        (NO_RULE, len(packets) - len(explained), rest),
    ]
    assert report.explained == len(packets) and report.in_hardware == 0


def test_cli_json_with_ports_names_pods_of_input_ports(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["explain", str(DUMP), "--ports", str(PORTS), "--format", "json"]
    args += ["--top", "40"]
    assert main(args) == 0
    document = json.loads(capsys.readouterr().out)
    first = document["reasons"][0]
    assert first["rule"] == "in_port_not_representor"
    assert first["flows"] == 31
    by_line = {i["line"]: i for g in document["reasons"] for i in g["items"]}
    # Line 3 enters on p3 (OVN-Kubernetes ids shop_db-1) and line 6 on p1
    # (Kube-OVN pod_name web-0 in shop), as the port file was captured.
    assert by_line[3]["in_port"]["pod"] == "shop/db-1"
    assert by_line[6]["in_port"]["pod"] == "shop/web-0"


def test_cli_table_lists_reasons_with_counts_and_honours_disable(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["explain", str(DUMP), "--disable", "sample", "--top", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("flows not in hardware: 33 (in hardware: 0)\n")
    assert "\nuserspace: 2 flows, 38 packets, 1596 bytes\n" in out
    assert "\nsample:" not in out
    assert "  ... and 1 more flow (see --top)\n" in out


def test_cli_bad_disable_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["explain", str(DUMP), "--disable", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ovsflow: error: no rule is called 'nope'")
    assert err.count("\n") == 1


def test_built_in_rules_file_reads_with_the_standard_library() -> None:
    document = json.loads(DEFAULT_RULES.read_text())
    assert document["format"] == "ovsflow-explain-rules/1"
    assert all(rule["source"] for rule in document["rules"])
