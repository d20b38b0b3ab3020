"""``ovsflow vf``, run in-process on a fake sysfs tree."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from fakesysfs import CONNECTX5, YUSUR_PORTS, FakeKernel, FakeSysfs

from ovsflow.cli import main


@pytest.fixture
def sysfs(tmp_path: Path) -> FakeSysfs:
    port0 = dataclasses.replace(YUSUR_PORTS[0], numvfs=2)
    return FakeSysfs(tmp_path / "sys", (port0, YUSUR_PORTS[1], CONNECTX5))


def run(sysfs: FakeSysfs, *args: str) -> int:
    return main(["vf", *args, "--sysfs-root", str(sysfs.root)])


def test_list_prints_each_pf_and_its_vfs_as_a_table(sysfs, capsys):
    assert run(sysfs, "list") == 0

    assert capsys.readouterr().out.splitlines() == [
        "PCI           ID         DRIVER     NETDEV  VFS    VF PCI        VF NETDEV",
        "0000:00:0a.0  1f47:1001  yusur      p0      2/256",
        "              1f47:110f  yusur              #0     0000:00:0a.1  p0v0",
        "              1f47:110f  yusur              #1     0000:00:0a.2  p0v1",
        "0000:00:0b.0  1f47:1001  yusur      p1      0/256",
        "0000:3b:00.0  15b3:1017  mlx5_core  ens1f0  0/8",
    ]


def test_list_as_json_filtered_by_vendor(sysfs, capsys):
    assert run(sysfs, "list", "--vendor", "15b3", "--format", "json") == 0

    assert json.loads(capsys.readouterr().out) == [
        {
            "pci_address": "0000:3b:00.0",
            "vendor": "15b3",
            "device": "1017",
            "driver": "mlx5_core",
            "netdev": "ens1f0",
            "sriov_totalvfs": 8,
            "sriov_numvfs": 0,
            "vfs": [],
        }
    ]


def test_show_by_interface_name_as_json(sysfs, capsys):
    assert run(sysfs, "show", "p0", "--format", "json") == 0

    shown = json.loads(capsys.readouterr().out)
    assert shown["pci_address"] == "0000:00:0a.0"
    assert shown["vfs"][1] == {
        "index": 1,
        "pci_address": "0000:00:0a.2",
        "device": "110f",
        "driver": "yusur",
        "netdev": "p0v1",
    }


def test_dry_run_prints_exactly_the_writes_and_does_none(sysfs, capsys, monkeypatch):
    kernel = FakeKernel(sysfs, monkeypatch)

    assert run(sysfs, "set", "0000:00:0a.0", "7", "--dry-run") == 0

    path = sysfs.root / "bus/pci/devices/0000:00:0a.0/sriov_numvfs"
    assert capsys.readouterr().out == f"echo 0 > {path}\necho 7 > {path}\n"
    assert kernel.writes == []


def test_dry_run_as_json(sysfs, capsys):
    assert run(sysfs, "set", "ens1f0", "4", "--dry-run", "--format", "json") == 0

    path = sysfs.root / "bus/pci/devices/0000:3b:00.0/sriov_numvfs"
    assert json.loads(capsys.readouterr().out) == [{"path": str(path), "value": "4"}]


def test_set_resets_then_confirms_and_shows_the_new_vfs(sysfs, capsys, monkeypatch):
    kernel = FakeKernel(sysfs, monkeypatch)

    assert run(sysfs, "set", "p0", "3", "--format", "json") == 0

    assert [value for _, value in kernel.writes] == ["0", "3"]
    shown = json.loads(capsys.readouterr().out)
    assert shown["sriov_numvfs"] == 3
    assert [vf["pci_address"] for vf in shown["vfs"]] == [
        "0000:00:0a.1",
        "0000:00:0a.2",
        "0000:00:0a.3",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("set", "p1", "300"), "0000:00:0b.0 supports at most 256 VFs"),
        (("set", "p0", "3", "--no-reset"), "device busy writing 3 to"),
        (("show", "../../../etc"), "expected an interface name"),
        (("show", "/etc"), "expected an interface name"),
        (("show", "0000:00:0a.1"), "0000:00:0a.1 is a VF"),
        (("list", "--vendor", "1F47"), "expected a vendor ID as four lowercase"),
    ],
)
def test_failures_print_one_line_and_exit_2(sysfs, capsys, monkeypatch, args, message):
    kernel = FakeKernel(sysfs, monkeypatch)

    assert run(sysfs, *args) == 2

    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"ovsflow: error: {message}")
    assert err.count("\n") == 1
    assert kernel.writes == []
