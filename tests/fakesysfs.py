"""Fake sysfs trees for the SR-IOV tests, laid out as the kernel lays them out.

What is real: files and symlinks on disk, in the same places and with the same
contents as under ``/sys`` (``bus/pci/devices`` links into ``devices/``,
``virtfnN`` and ``physfn`` links, ``driver`` links, ``net/<ifname>``
directories and ``class/net`` links). What is simulated: the kernel's reaction
to a write to ``sriov_numvfs``. :class:`FakeKernel` replaces
``ovsflow.sriov._write`` (the one function that calls ``os.write``): it keeps
the kernel's rule that a non-zero count cannot change to another non-zero
count (EBUSY), lets the real write happen, then adds or removes the VF
directories and links the way ``pci_enable_sriov`` and ``pci_disable_sriov``
do. VF addresses follow a plausible routing-ID layout, not a measured one.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

import ovsflow.sriov


@dataclass(frozen=True, slots=True)
class FakePf:
    """What the fake tree needs to know to build one PF and its VFs."""

    pci_address: str
    vendor: str
    device: str
    vf_device: str
    driver: str
    vf_driver: str
    netdev: str
    totalvfs: int
    numvfs: int = 0

    def vf_address(self, index: int) -> str:
        """The VF's PCI address: routing ID = PF's + offset + index."""
        domain, bus, devfn = self.pci_address.split(":")
        dev, fn = devfn.split(".")
        rid = (int(bus, 16) << 8 | int(dev, 16) << 3 | int(fn)) + 1 + index
        return f"{domain}:{rid >> 8:02x}:{(rid & 0xFF) >> 3:02x}.{rid & 7}"

    def vf_netdev(self, index: int) -> str:
        return f"{self.netdev}v{index}"


# The guide's two-port Yusur 2200E: PFs at 00:0a.0 and 00:0b.0, 256 VFs each.
# The first seven VFs of port 0 are at 00:0a.1-7 as in the guide's lspci;
# later ones spill onto bus 0x10 (port 0) and 0x20 (port 1).
YUSUR_PORTS = (
    FakePf("0000:00:0a.0", "1f47", "1001", "110f", "yusur", "yusur", "p0", 256),
    FakePf("0000:00:0b.0", "1f47", "1001", "110f", "yusur", "yusur", "p1", 256),
)
CONNECTX5 = FakePf(
    "0000:3b:00.0", "15b3", "1017", "1018", "mlx5_core", "mlx5_core", "ens1f0", 8
)


def _yusur_vf_address(pf: FakePf, index: int) -> str:
    port = 0 if pf.pci_address == "0000:00:0a.0" else 1
    if port == 0 and index < 7:
        return f"0000:00:0a.{index + 1}"
    first = 7 if port == 0 else 0
    bus = 0x10 * (port + 1)
    rid = (bus << 8) + index - first
    return f"0000:{rid >> 8:02x}:{(rid & 0xFF) >> 3:02x}.{rid & 7}"


class FakeSysfs:
    """A sysfs tree under ``root`` holding the PFs given, and nothing else."""

    def __init__(self, root: Path, pfs: tuple[FakePf, ...]) -> None:
        self.root = root
        self.pfs = {pf.pci_address: pf for pf in pfs}
        self.bus = root / "devices" / "pci0000:00"
        (root / "bus" / "pci" / "devices").mkdir(parents=True)
        (root / "class" / "net").mkdir(parents=True)
        self.bus.mkdir(parents=True)
        for pf in pfs:
            self._add_device(pf.pci_address, pf.vendor, pf.device, pf.driver)
            self._add_netdev(pf.pci_address, pf.netdev)
            path = self.device(pf.pci_address)
            (path / "sriov_totalvfs").write_text(f"{pf.totalvfs}\n")
            (path / "sriov_numvfs").write_text("0\n")
            self.enable_vfs(pf.pci_address, pf.numvfs)

    def device(self, address: str) -> Path:
        return self.bus / address

    def vf_address(self, pf: FakePf, index: int) -> str:
        if pf.vendor == "1f47":
            return _yusur_vf_address(pf, index)
        return pf.vf_address(index)

    def enable_vfs(self, address: str, count: int) -> None:
        """What the kernel does after a write of ``count`` to ``sriov_numvfs``."""
        pf = self.pfs[address]
        path = self.device(address)
        for index in range(count):
            vf = self.vf_address(pf, index)
            self._add_device(vf, pf.vendor, pf.vf_device, pf.vf_driver)
            self._add_netdev(vf, pf.vf_netdev(index))
            os.symlink(f"../{address}", self.device(vf) / "physfn")
            os.symlink(f"../{vf}", path / f"virtfn{index}")
        (path / "sriov_numvfs").write_text(f"{count}\n")

    def disable_vfs(self, address: str) -> None:
        pf = self.pfs[address]
        path = self.device(address)
        for link in sorted(path.glob("virtfn*")):
            index = int(link.name.removeprefix("virtfn"))
            vf = self.vf_address(pf, index)
            os.unlink(self.root / "class" / "net" / pf.vf_netdev(index))
            os.unlink(self.root / "bus" / "pci" / "devices" / vf)
            _rmtree(self.device(vf))
            os.unlink(link)
        (path / "sriov_numvfs").write_text("0\n")

    def add_plain_device(self, address: str, netdev: str | None = None) -> None:
        """A PCI device without SR-IOV (an on-board NIC, say)."""
        self._add_device(address, "8086", "1533", "igb")
        if netdev:
            self._add_netdev(address, netdev)

    def _add_device(self, address: str, vendor: str, device: str, driver: str) -> None:
        path = self.device(address)
        path.mkdir()
        (path / "vendor").write_text(f"0x{vendor}\n")
        (path / "device").write_text(f"0x{device}\n")
        drivers = self.root / "bus" / "pci" / "drivers" / driver
        drivers.mkdir(parents=True, exist_ok=True)
        os.symlink(f"../../../bus/pci/drivers/{driver}", path / "driver")
        link = self.root / "bus" / "pci" / "devices" / address
        os.symlink(f"../../../devices/pci0000:00/{address}", link)

    def _add_netdev(self, address: str, name: str) -> None:
        net = self.device(address) / "net" / name
        net.mkdir(parents=True)
        os.symlink(f"../../../{address}", net / "device")
        os.symlink(f"../../devices/pci0000:00/{address}/net/{name}", self._class(name))

    def _class(self, name: str) -> Path:
        return self.root / "class" / "net" / name


def _rmtree(path: Path) -> None:
    for child in path.iterdir():
        if child.is_symlink() or child.is_file():
            child.unlink()
        else:
            _rmtree(child)
    path.rmdir()


class FakeKernel:
    """Stands in for the kernel's ``sriov_numvfs`` store; records every write."""

    def __init__(self, sysfs: FakeSysfs, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sysfs = sysfs
        self.writes: list[tuple[str, str]] = []
        self._real_write = ovsflow.sriov._write
        monkeypatch.setattr(ovsflow.sriov, "_write", self.write)

    def write(self, path: Path, data: bytes) -> None:
        value = data.decode().strip()
        relative = str(path.relative_to(self.sysfs.root))
        address = path.parent.name
        current = int((path.parent / "sriov_numvfs").read_text())
        if current and int(value) and current != int(value):
            raise OSError(errno.EBUSY, os.strerror(errno.EBUSY))
        self._real_write(path, data)
        self.writes.append((relative, value))
        self.sysfs.disable_vfs(address)
        self.sysfs.enable_vfs(address, int(value))
