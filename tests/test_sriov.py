"""ovsflow.sriov on fake sysfs trees (see fakesysfs.py for what is simulated)."""

from __future__ import annotations

import dataclasses
import errno
import os
from pathlib import Path

import pytest
from fakesysfs import CONNECTX5, YUSUR_PORTS, FakeKernel, FakeSysfs

import ovsflow.sriov
from ovsflow.errors import (
    SriovBusyError,
    SriovDriverError,
    SriovNotCapableError,
    SriovNotFoundError,
    SriovPermissionError,
    SriovValidationError,
)
from ovsflow.sriov import (
    PhysicalFunction,
    SysfsWrite,
    VirtualFunction,
    find_pf,
    list_pfs,
    plan_numvfs,
    set_numvfs,
)

YUSUR_P0_WITH_7 = dataclasses.replace(YUSUR_PORTS[0], numvfs=7)


@pytest.fixture
def sysfs(tmp_path: Path) -> FakeSysfs:
    """The guide's host: port 0 with 7 VFs, port 1 with none, and a ConnectX-5."""
    tree = FakeSysfs(tmp_path / "sys", (YUSUR_P0_WITH_7, YUSUR_PORTS[1], CONNECTX5))
    tree.add_plain_device("0000:00:19.0", netdev="eno1")
    return tree


@pytest.fixture
def kernel(sysfs: FakeSysfs, monkeypatch: pytest.MonkeyPatch) -> FakeKernel:
    return FakeKernel(sysfs, monkeypatch)


def numvfs_path(sysfs: FakeSysfs, address: str) -> Path:
    return sysfs.root / "bus" / "pci" / "devices" / address / "sriov_numvfs"


def test_list_finds_every_pf_and_skips_plain_devices_and_vfs(sysfs: FakeSysfs):
    found = [pf.pci_address for pf in list_pfs(sysfs.root)]

    assert found == ["0000:00:0a.0", "0000:00:0b.0", "0000:3b:00.0"]


def test_list_filters_by_vendor_and_device(sysfs: FakeSysfs):
    yusur = list_pfs(sysfs.root, vendor="1f47", device="1001")
    mellanox = list_pfs(sysfs.root, vendor="15b3")

    assert [pf.netdev for pf in yusur] == ["p0", "p1"]
    assert [pf.netdev for pf in mellanox] == ["ens1f0"]
    assert list_pfs(sysfs.root, device="110f") == []


def test_a_pf_shows_ids_driver_netdev_counts_and_its_vfs_as_lspci_does(
    sysfs: FakeSysfs,
):
    pf = find_pf("0000:00:0a.0", sysfs.root)

    # The guide's lspci after "echo 7": 00:0a.1-7, device 110f.
    assert pf == PhysicalFunction(
        pci_address="0000:00:0a.0",
        vendor="1f47",
        device="1001",
        driver="yusur",
        netdev="p0",
        sriov_totalvfs=256,
        sriov_numvfs=7,
        vfs=tuple(
            VirtualFunction(i, f"0000:00:0a.{i + 1}", "110f", "yusur", f"p0v{i}")
            for i in range(7)
        ),
    )


def test_a_pf_is_found_by_interface_name_and_by_uppercase_address(sysfs: FakeSysfs):
    by_name = find_pf("ens1f0", sysfs.root)
    by_address = find_pf("0000:3B:00.0", sysfs.root)

    assert by_name == by_address
    assert (by_name.vendor, by_name.device, by_name.driver) == (
        "15b3",
        "1017",
        "mlx5_core",
    )
    assert (by_name.sriov_totalvfs, by_name.sriov_numvfs, by_name.vfs) == (8, 0, ())


@pytest.mark.parametrize(
    ("name", "error", "message"),
    [
        ("0000:00:19.0", SriovNotCapableError, "0000:00:19.0 is not SR-IOV capable"),
        ("eno1", SriovNotCapableError, "0000:00:19.0 is not SR-IOV capable"),
        ("0000:00:0a.3", SriovNotCapableError, "0000:00:0a.3 is a VF; its physical"),
        ("0000:00:1f.0", SriovNotFoundError, "no PCI device 0000:00:1f.0 in"),
        ("eth9", SriovNotFoundError, "no network interface 'eth9' in"),
        ("00:0a.0", SriovValidationError, "PCI address '00:0a.0' has no domain"),
    ],
)
def test_names_that_are_not_a_pf_get_a_clear_error(
    sysfs: FakeSysfs, name: str, error: type[Exception], message: str
):
    with pytest.raises(error) as caught:
        find_pf(name, sysfs.root)

    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(
    "name",
    [
        "../../../etc",
        "..",
        "/etc/passwd",
        "0000:00:0a.0/../../../../etc",
        "0000:00:0a.0/",
        "p0 ",
        "x" * 10_000,
        "0000:00:0a.0" + "a" * 1000,
        "",
    ],
)
def test_hostile_names_are_refused_before_they_reach_a_path(
    sysfs: FakeSysfs, name: str, monkeypatch: pytest.MonkeyPatch
):
    def no_filesystem(*args: object) -> None:
        raise AssertionError("the filesystem was touched")

    monkeypatch.setattr(os, "readlink", no_filesystem)
    monkeypatch.setattr(ovsflow.sriov, "_device_dir", no_filesystem)
    monkeypatch.setattr(ovsflow.sriov, "_write", no_filesystem)

    with pytest.raises(SriovValidationError) as caught:
        set_numvfs(name, 1, sysfs.root)

    assert len(str(caught.value)) < 200


def test_a_link_in_the_tree_leading_outside_the_root_is_refused(
    sysfs: FakeSysfs, tmp_path: Path
):
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, sysfs.root / "bus" / "pci" / "devices" / "0000:99:00.0")

    with pytest.raises(SriovValidationError, match="leads outside"):
        find_pf("0000:99:00.0", sysfs.root)


def test_plan_from_seven_to_four_writes_zero_first(sysfs: FakeSysfs):
    pf = find_pf("p0", sysfs.root)
    path = numvfs_path(sysfs, "0000:00:0a.0")

    assert plan_numvfs(pf, 4, sysfs.root) == (
        SysfsWrite(path, "0"),
        SysfsWrite(path, "4"),
    )
    assert plan_numvfs(pf, 4, sysfs.root, reset=False) == (SysfsWrite(path, "4"),)
    assert plan_numvfs(pf, 0, sysfs.root) == (SysfsWrite(path, "0"),)
    assert plan_numvfs(pf, 7, sysfs.root) == ()


def test_a_write_prints_as_the_shell_line_the_guide_uses():
    write = SysfsWrite(Path("/sys/bus/pci/devices/0000:00:0a.0/sriov_numvfs"), "7")

    assert str(write) == "echo 7 > /sys/bus/pci/devices/0000:00:0a.0/sriov_numvfs"


def test_set_creates_vfs_and_confirms_them(sysfs: FakeSysfs, kernel: FakeKernel):
    pf = set_numvfs("p1", 256, sysfs.root)

    assert kernel.writes == [("bus/pci/devices/0000:00:0b.0/sriov_numvfs", "256")]
    assert pf.sriov_numvfs == 256
    assert [vf.index for vf in pf.vfs] == list(range(256))
    assert pf.vfs[-1].pci_address == "0000:20:1f.7"


def test_set_from_seven_to_four_resets_to_zero_first(
    sysfs: FakeSysfs, kernel: FakeKernel
):
    pf = set_numvfs("0000:00:0a.0", 4, sysfs.root)

    path = "bus/pci/devices/0000:00:0a.0/sriov_numvfs"
    assert kernel.writes == [(path, "0"), (path, "4")]
    assert [vf.pci_address for vf in pf.vfs] == [
        f"0000:00:0a.{i}" for i in (1, 2, 3, 4)
    ]
    assert numvfs_path(sysfs, "0000:00:0a.0").read_text() == "4\n"


def test_set_without_reset_meets_the_kernels_refusal(
    sysfs: FakeSysfs, kernel: FakeKernel
):
    with pytest.raises(SriovBusyError, match=r"^device busy writing 4 to"):
        set_numvfs("p0", 4, sysfs.root, reset=False)

    assert kernel.writes == []
    assert find_pf("p0", sysfs.root).sriov_numvfs == 7


def test_set_to_the_current_count_writes_nothing(sysfs: FakeSysfs, kernel: FakeKernel):
    assert set_numvfs("p0", 7, sysfs.root).sriov_numvfs == 7
    assert kernel.writes == []


@pytest.mark.parametrize(
    ("count", "message"), [(257, "at most 256 VFs"), (-1, "cannot be negative")]
)
def test_a_count_out_of_range_writes_nothing(
    sysfs: FakeSysfs, kernel: FakeKernel, count: int, message: str
):
    with pytest.raises(SriovValidationError, match=message):
        set_numvfs("p1", count, sysfs.root)

    assert kernel.writes == []


@pytest.mark.parametrize(
    ("code", "error", "message"),
    [
        (errno.EACCES, SriovPermissionError, "permission denied writing 4 to"),
        (errno.EPERM, SriovPermissionError, "permission denied writing 4 to"),
        (errno.EROFS, SriovPermissionError, "writing 4 to"),
        (errno.EBUSY, SriovBusyError, "device busy writing 4 to"),
        (errno.EINVAL, SriovDriverError, "the driver refused writing 4 to"),
        (errno.ENOMEM, SriovDriverError, "the driver refused writing 4 to"),
        (errno.EIO, SriovDriverError, "the driver refused writing 4 to"),
    ],
)
def test_each_refusal_of_the_kernel_has_its_own_error(
    sysfs: FakeSysfs,
    monkeypatch: pytest.MonkeyPatch,
    code: int,
    error: type[Exception],
    message: str,
):
    # Root ignores file modes, so the errno is injected at the one os.write call.
    def refuse(path: Path, data: bytes) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(ovsflow.sriov, "_write", refuse)

    with pytest.raises(error) as caught:
        set_numvfs("p1", 4, sysfs.root)

    assert str(caught.value).startswith(message)


def test_a_real_os_error_from_the_write_is_reported(tmp_path: Path):
    attribute = tmp_path / "sriov_numvfs"
    attribute.mkdir()  # cannot be opened for writing: a real EISDIR

    with pytest.raises(SriovDriverError, match=r"\(EISDIR: Is a directory\)"):
        ovsflow.sriov.write_attribute(SysfsWrite(attribute, "2"))


def test_a_missing_attribute_is_never_created(tmp_path: Path):
    attribute = tmp_path / "sriov_numvfs"

    with pytest.raises(SriovDriverError, match=r"\(ENOENT: "):
        ovsflow.sriov.write_attribute(SysfsWrite(attribute, "2"))

    assert not attribute.exists()


def test_a_write_the_kernel_accepts_but_does_not_act_on_is_caught(sysfs: FakeSysfs):
    # No FakeKernel: the file changes but no virtfn links appear.
    with pytest.raises(SriovDriverError) as caught:
        set_numvfs("ens1f0", 2, sysfs.root)

    assert str(caught.value) == (
        "asked for 2 VFs on 0000:3b:00.0, but the kernel reports sriov_numvfs=2"
        " and 0 virtfn links; see the kernel log (dmesg)"
    )
