"""SR-IOV physical and virtual functions, read and set through sysfs.

The kernel lays a PCI device out as a directory under ``devices/`` that
``bus/pci/devices/<address>`` links to. A physical function (PF) that can do
SR-IOV has ``sriov_totalvfs`` and ``sriov_numvfs``; each of its virtual
functions (VFs) appears as a ``virtfnN`` link, and the VF links back through
``physfn``. Network interfaces are ``net/<name>`` below their device and
``class/net/<name>`` links there.

Every function takes the sysfs root (``/sys`` unless told otherwise), so that
tests and dry runs can work on a copy. Names given by a user (PCI addresses,
interface names) are checked before they become part of a path, and every path
built from them is checked to stay inside the root.
"""

from __future__ import annotations

import errno
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from ovsflow.errors import (
    SriovBusyError,
    SriovDriverError,
    SriovError,
    SriovNotCapableError,
    SriovNotFoundError,
    SriovPermissionError,
    SriovValidationError,
)

DEFAULT_SYSFS_ROOT = Path("/sys")

# Domain, bus, device (0-1f) and function (0-7), as the kernel prints them.
_PCI_ADDRESS = re.compile(r"[0-9a-f]{4}:[0-9a-f]{2}:[01][0-9a-f]\.[0-7]")
_SHORT_PCI_ADDRESS = re.compile(r"[0-9a-f]{2}:[01][0-9a-f]\.[0-7]")
_PCI_ID = re.compile(r"[0-9a-f]{4}")
# The kernel's dev_valid_name(): under IFNAMSIZ (16) bytes, not "." or "..",
# no "/", ":" or whitespace.
_IFNAME = re.compile(r"[^/:\s]{1,15}")


@dataclass(frozen=True, slots=True)
class VirtualFunction:
    """One VF of a physical function, as its ``virtfnN`` link shows it."""

    index: int
    pci_address: str
    device: str
    driver: str | None
    netdev: str | None


@dataclass(frozen=True, slots=True)
class PhysicalFunction:
    """An SR-IOV capable PCI device and the VFs it has now.

    ``vendor`` and ``device`` are four lowercase hex digits without ``0x``;
    ``driver`` and ``netdev`` are ``None`` when no driver is bound or the
    device has no network interface.
    """

    pci_address: str
    vendor: str
    device: str
    driver: str | None
    netdev: str | None
    sriov_totalvfs: int
    sriov_numvfs: int
    vfs: tuple[VirtualFunction, ...]


@dataclass(frozen=True, slots=True)
class SysfsWrite:
    """One write to a sysfs attribute; ``str()`` is the equivalent shell line."""

    path: Path
    value: str

    def __str__(self) -> str:
        return f"echo {self.value} > {shlex.quote(str(self.path))}"


def parse_pci_address(text: str) -> str:
    """Check a full PCI address ``dddd:bb:dd.f`` and return it in lowercase.

    Raises :class:`SriovValidationError` for anything else, with a hint when
    the domain is missing (``lspci`` prints ``00:0a.0``).
    """
    address = text.lower()
    if _PCI_ADDRESS.fullmatch(address):
        return address
    if _SHORT_PCI_ADDRESS.fullmatch(address):
        raise SriovValidationError(
            f"PCI address {_shown(text)} has no domain: write it in full,"
            f" e.g. '0000:{address}'"
        )
    raise SriovValidationError(
        f"expected a PCI address like '0000:00:0a.0', got {_shown(text)}"
    )


def parse_pci_id(text: str, what: str = "PCI ID") -> str:
    """Check a vendor or device ID: four lowercase hex digits, e.g. ``'1f47'``."""
    if _PCI_ID.fullmatch(text):
        return text
    raise SriovValidationError(
        f"expected {what} as four lowercase hex digits like '1f47', got {_shown(text)}"
    )


def parse_ifname(text: str) -> str:
    """Check a network interface name by the kernel's rules and return it."""
    if _IFNAME.fullmatch(text) and text not in (".", ".."):
        return text
    raise SriovValidationError(
        "expected an interface name (1-15 characters, no '/', ':' or spaces),"
        f" got {_shown(text)}"
    )


def list_pfs(
    sysfs_root: str | os.PathLike[str] = DEFAULT_SYSFS_ROOT,
    *,
    vendor: str | None = None,
    device: str | None = None,
) -> list[PhysicalFunction]:
    """Every SR-IOV capable PCI device, sorted by address, optionally filtered.

    ``vendor`` and ``device`` are checked with :func:`parse_pci_id` first.
    """
    if vendor is not None:
        vendor = parse_pci_id(vendor, "a vendor ID")
    if device is not None:
        device = parse_pci_id(device, "a device ID")
    root = Path(sysfs_root)
    devices = root / "bus" / "pci" / "devices"
    if not devices.is_dir():
        raise SriovNotFoundError(f"{str(devices)!r} is not a directory")

    found = []
    for entry in sorted(os.listdir(devices)):
        if not _PCI_ADDRESS.fullmatch(entry) or not _is_pf(devices / entry):
            continue
        pf = _read_pf(root, entry)
        if vendor in (None, pf.vendor) and device in (None, pf.device):
            found.append(pf)
    return found


def find_pf(
    name: str, sysfs_root: str | os.PathLike[str] = DEFAULT_SYSFS_ROOT
) -> PhysicalFunction:
    """The physical function named by PCI address or by interface name.

    A name with a ``:`` is a PCI address (interface names cannot hold one).
    Raises :class:`SriovValidationError` for a malformed name,
    :class:`SriovNotFoundError` when nothing has that name, and
    :class:`SriovNotCapableError` for a device without SR-IOV (a VF included).
    """
    root = Path(sysfs_root)
    address = _resolve_name(root, name)
    path = _device_dir(root, address)
    if not _is_pf(path):
        physfn = path / "physfn"
        if physfn.is_symlink():
            parent = os.path.basename(os.readlink(physfn))
            raise SriovNotCapableError(
                f"{address} is a VF; its physical function is {parent}"
            )
        raise SriovNotCapableError(
            f"{address} is not SR-IOV capable (it has no sriov_totalvfs)"
        )
    return _read_pf(root, address)


def plan_numvfs(
    pf: PhysicalFunction,
    numvfs: int,
    sysfs_root: str | os.PathLike[str] = DEFAULT_SYSFS_ROOT,
    *,
    reset: bool = True,
) -> tuple[SysfsWrite, ...]:
    """The writes that give ``pf`` ``numvfs`` VFs, in order; none if it has them.

    The kernel refuses to go from one non-zero count to another, so with
    ``reset`` a change between two non-zero counts writes 0 first. Raises
    :class:`SriovValidationError` when ``numvfs`` is negative or above
    ``sriov_totalvfs``.
    """
    if numvfs < 0:
        raise SriovValidationError(f"the number of VFs cannot be negative: {numvfs}")
    if numvfs > pf.sriov_totalvfs:
        raise SriovValidationError(
            f"{pf.pci_address} supports at most {pf.sriov_totalvfs} VFs"
            f" (sriov_totalvfs), {numvfs} asked"
        )
    if numvfs == pf.sriov_numvfs:
        return ()

    path = _device_dir(Path(sysfs_root), pf.pci_address) / "sriov_numvfs"
    writes = [SysfsWrite(path, str(numvfs))]
    if reset and pf.sriov_numvfs > 0 and numvfs > 0:
        writes.insert(0, SysfsWrite(path, "0"))
    return tuple(writes)


def set_numvfs(
    name: str,
    numvfs: int,
    sysfs_root: str | os.PathLike[str] = DEFAULT_SYSFS_ROOT,
    *,
    reset: bool = True,
) -> PhysicalFunction:
    """Give the PF ``name`` exactly ``numvfs`` VFs and return it as read back.

    Validates everything before the first write (see :func:`find_pf` and
    :func:`plan_numvfs`), writes, then reads ``sriov_numvfs`` and the
    ``virtfnN`` links back. Raises :class:`SriovPermissionError`,
    :class:`SriovBusyError` or :class:`SriovDriverError` when the kernel
    refuses a write, and :class:`SriovDriverError` when the state read back
    is not the one asked for.
    """
    pf = find_pf(name, sysfs_root)
    for write in plan_numvfs(pf, numvfs, sysfs_root, reset=reset):
        write_attribute(write)

    after = find_pf(pf.pci_address, sysfs_root)
    indexes = [vf.index for vf in after.vfs]
    if after.sriov_numvfs != numvfs or indexes != list(range(numvfs)):
        raise SriovDriverError(
            f"asked for {numvfs} VFs on {pf.pci_address}, but the kernel reports"
            f" sriov_numvfs={after.sriov_numvfs} and {len(indexes)} virtfn links;"
            " see the kernel log (dmesg)"
        )
    return after


def write_attribute(write: SysfsWrite) -> None:
    """Write one value to one sysfs attribute, as ``echo`` would.

    The attribute must exist (it is never created). ``OSError`` is turned
    into the matching :class:`SriovError` with what a user can do about it.
    """
    try:
        _write(write.path, f"{write.value}\n".encode())
    except OSError as exc:
        raise _write_error(write, exc) from exc


def _write(path: Path, data: bytes) -> None:
    # One write() call: sysfs attributes take their value from the first one.
    flags = os.O_WRONLY | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(path, flags)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def _write_error(write: SysfsWrite, exc: OSError) -> SriovError:
    what = f"writing {write.value} to {str(write.path)!r}"
    code = exc.errno
    if code in (errno.EACCES, errno.EPERM):
        return SriovPermissionError(f"permission denied {what}: run it as root")
    if code == errno.EROFS:
        return SriovPermissionError(
            f"{what}: sysfs is mounted read-only (in a container, mount /sys rw)"
        )
    if code == errno.EBUSY:
        return SriovBusyError(
            f"device busy {what}: the VFs may be in use by pods, VMs or vfio-pci,"
            " or the count went from one non-zero value to another without 0 first"
        )
    name = errno.errorcode.get(code or 0, "error")
    return SriovDriverError(
        f"the driver refused {what} ({name}: {exc.strerror}); see the kernel"
        " log (dmesg); firmware may allow fewer VFs than sriov_totalvfs"
    )


def _resolve_name(root: Path, name: str) -> str:
    """The PCI address of a device named by address or interface name."""
    if ":" in name:
        return parse_pci_address(name)

    ifname = parse_ifname(name)
    link = root / "class" / "net" / ifname
    if not link.exists():
        raise SriovNotFoundError(f"no network interface {ifname!r} in {str(root)!r}")
    device = link / "device"
    if not device.exists():
        raise SriovNotCapableError(f"interface {ifname!r} is not a PCI device")
    _check_inside(root, device)
    address = os.path.basename(os.path.realpath(device))
    if not _PCI_ADDRESS.fullmatch(address):
        raise SriovNotCapableError(f"interface {ifname!r} is not a PCI device")
    return address


def _device_dir(root: Path, address: str) -> Path:
    path = root / "bus" / "pci" / "devices" / address
    if not path.exists():
        raise SriovNotFoundError(f"no PCI device {address} in {str(root)!r}")
    _check_inside(root, path)
    return path


def _check_inside(root: Path, path: Path) -> None:
    # The names were checked already; this guards against links in the tree.
    real_root = os.path.realpath(root)
    if os.path.commonpath([real_root, os.path.realpath(path)]) != real_root:
        raise SriovValidationError(f"{str(path)!r} leads outside {str(root)!r}")


def _is_pf(path: Path) -> bool:
    return (path / "sriov_totalvfs").is_file()


def _read_pf(root: Path, address: str) -> PhysicalFunction:
    path = _device_dir(root, address)
    return PhysicalFunction(
        pci_address=address,
        vendor=_read_id(path / "vendor"),
        device=_read_id(path / "device"),
        driver=_link_name(path / "driver"),
        netdev=_netdev(path),
        sriov_totalvfs=_read_int(path / "sriov_totalvfs"),
        sriov_numvfs=_read_int(path / "sriov_numvfs"),
        vfs=tuple(_read_vfs(path)),
    )


def _read_vfs(pf_path: Path) -> list[VirtualFunction]:
    vfs = []
    for entry in os.listdir(pf_path):
        match = re.fullmatch(r"virtfn(\d+)", entry)
        if match is None:
            continue
        link = pf_path / entry
        address = os.path.basename(os.readlink(link))
        vfs.append(
            VirtualFunction(
                index=int(match.group(1)),
                pci_address=address,
                device=_read_id(link / "device"),
                driver=_link_name(link / "driver"),
                netdev=_netdev(link),
            )
        )
    return sorted(vfs, key=lambda vf: vf.index)


def _read_text(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise SriovError(f"cannot read {str(path)!r}: {exc.strerror}") from exc


def _read_int(path: Path) -> int:
    text = _read_text(path)
    try:
        return int(text)
    except ValueError:
        raise SriovError(f"{str(path)!r} holds {text!r}, not a number") from None


def _read_id(path: Path) -> str:
    # sysfs prints IDs as "0x1f47".
    text = _read_text(path).lower().removeprefix("0x")
    if not _PCI_ID.fullmatch(text):
        raise SriovError(f"{str(path)!r} holds {text!r}, not a PCI ID")
    return text


def _link_name(path: Path) -> str | None:
    return os.path.basename(os.readlink(path)) if path.is_symlink() else None


def _netdev(path: Path) -> str | None:
    net = path / "net"
    names = sorted(os.listdir(net)) if net.is_dir() else []
    return names[0] if names else None


def _shown(text: str, limit: int = 40) -> str:
    """``repr`` of a user's value, cut short so a hostile one cannot flood."""
    if len(text) > limit:
        return f"{text[:limit]!r}... ({len(text)} characters)"
    return repr(text)
