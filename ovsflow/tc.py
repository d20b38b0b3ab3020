"""The kernel's view of TC flower rules: ``tc -s filter show dev DEV ingress``.

OVS says ``dp:tc`` without ``offloaded:yes`` when a rule runs in TC software;
the kernel says why, per filter, in the flags iproute2 prints
(``tc/f_flower.c``, ``flower_print_opt``)::

    filter protocol ip pref 2 flower chain 0 handle 0x1
      eth_type ipv4
      ip_proto tcp
      skip_sw
      in_hw in_hw_count 1
    \taction order 1: mirred (Egress Redirect to device eth1) stolen
    \t...
    \tAction statistics:
    \tSent 1000 bytes 10 pkt (dropped 0, overlimits 0 requeues 0)
    \tSent software 0 bytes 0 pkt
    \tSent hardware 1000 bytes 10 pkt

``skip_hw``/``skip_sw`` are the flags the rule was added with, ``in_hw``
(with ``in_hw_count``, the number of devices holding it) or ``not_in_hw``
what the driver did.  The counters come from ``tc/tc_util.c``
(``print_tcstats2_attr``, ``print_tcstats_basic_hw``): the total, then the
software and hardware parts when the driver reports hardware counters.

Lines the parser does not know are kept with their line number
(:attr:`TcFilter.unknown`, :attr:`TcAction.detail`), never dropped.
``ovsflow collect --tc`` stores one section per device, each after a header
line ``# ovsflow-tc: {"dev": ..., "command": [...], "error": ...}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ovsflow.errors import InputError

__all__ = [
    "TC_PREFIX",
    "TcAction",
    "TcDevice",
    "TcFilter",
    "load",
    "parse_filters",
    "parse_sections",
    "section_header",
]

#: The start of the header line of each device's section.
TC_PREFIX = "# ovsflow-tc: "

_FILTER = re.compile(r"^filter\b(.*)$")
_ACTION = re.compile(r"^\s*action order (\d+): (\S+)(.*)$")
_SENT = re.compile(r"^\s*Sent (\d+) bytes (\d+) pkt\b")
_SENT_PART = re.compile(r"^\s*Sent (software|hardware) (\d+) bytes (\d+) pkt\b")
_IN_HW = re.compile(r"^\s*in_hw(?: in_hw_count (\d+))?\s*$")
_FLAG = re.compile(r"^\s*(skip_hw|skip_sw|not_in_hw)\s*$")
_KEY = re.compile(r"^  (\S+)(?: (.*))?$")
_COOKIE = re.compile(r"^\s*cookie ([0-9a-fA-F]+)\s*$")


@dataclass
class TcAction:
    """One action of a filter, with its counters when ``-s`` printed them."""

    order: int
    kind: str
    text: str
    bytes: int | None = None
    packets: int | None = None
    sw_bytes: int | None = None
    sw_packets: int | None = None
    hw_bytes: int | None = None
    hw_packets: int | None = None
    cookie: str | None = None
    detail: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class TcFilter:
    """One ``filter ...`` entry and what follows it.

    ``handle`` is None for the line tc prints once per priority before that
    priority's filters.  ``in_hw`` and ``not_in_hw`` are None when tc printed
    neither (a classifier without those flags, or an old kernel).
    """

    dev: str
    line: int
    protocol: str | None = None
    pref: int | None = None
    kind: str | None = None
    chain: int | None = None
    handle: int | None = None
    keys: dict[str, str] = field(default_factory=dict)
    skip_hw: bool = False
    skip_sw: bool = False
    in_hw: bool | None = None
    in_hw_count: int | None = None
    not_in_hw: bool | None = None
    actions: list[TcAction] = field(default_factory=list)
    unknown: list[tuple[int, str]] = field(default_factory=list)

    @property
    def counted(self) -> TcAction | None:
        """The first action with counters: the filter's packets and bytes."""
        return next((a for a in self.actions if a.packets is not None), None)

    @property
    def where(self) -> str:
        """``hardware``, ``software``, or ``unknown`` (no flag printed)."""
        if self.in_hw:
            return "hardware"
        if self.not_in_hw or self.skip_hw:
            return "software"
        return "unknown"


@dataclass
class TcDevice:
    """The filters of one device, as one ``tc filter show`` printed them."""

    dev: str
    command: list[str] = field(default_factory=list)
    error: str | None = None
    filters: list[TcFilter] = field(default_factory=list)
    unknown: list[tuple[int, str]] = field(default_factory=list)


def parse_filters(text: str, dev: str = "", first_line: int = 1) -> TcDevice:
    """The filters in the text of ``tc -s filter show dev DEV ingress``.

    >>> device = parse_filters("filter protocol ip pref 1 flower chain 0 "
    ...     "handle 0x2\\n  not_in_hw\\n")
    >>> f = device.filters[0]
    >>> f.protocol, f.pref, f.kind, f.chain, f.handle, f.not_in_hw, f.where
    ('ip', 1, 'flower', 0, 2, True, 'software')
    """
    device = TcDevice(dev)
    current: TcFilter | None = None
    action: TcAction | None = None
    for number, raw in enumerate(text.splitlines(), start=first_line):
        line = raw.rstrip("\n")
        if not line.strip():
            continue
        head = _FILTER.match(line)
        if head:
            current, action = _filter_header(dev, number, head.group(1)), None
            device.filters.append(current)
            continue
        if current is None:
            device.unknown.append((number, line))
            continue
        found = _ACTION.match(line)
        if found:
            order, kind, rest = found.groups()
            action = TcAction(int(order), kind, (kind + rest).strip())
            current.actions.append(action)
            continue
        if action is not None and _action_line(action, number, line):
            continue
        if action is None and _filter_line(current, line):
            continue
        current.unknown.append((number, line))
    return device


def _filter_header(dev: str, number: int, rest: str) -> TcFilter:
    """``filter [parent P:] protocol ip pref 2 flower chain 0 handle 0x1``."""
    f = TcFilter(dev, number)
    words = rest.split()
    i = 0
    while i < len(words):
        word, value = words[i], words[i + 1] if i + 1 < len(words) else None
        if word in ("protocol", "pref", "chain", "handle", "parent") and value:
            if word == "protocol":
                f.protocol = value
            elif word == "pref":
                f.pref = int(value)
            elif word == "chain":
                f.chain = int(value)
            elif word == "handle":
                f.handle = int(value, 16) if value.startswith("0x") else int(value)
            i += 2
            continue
        if f.kind is None and word not in ("parent",):
            f.kind = word
        i += 1
    return f


def _filter_line(f: TcFilter, line: str) -> bool:
    """Flags and match keys of the filter itself (before its actions)."""
    found = _IN_HW.match(line)
    if found:
        f.in_hw = True
        f.in_hw_count = int(found.group(1)) if found.group(1) else None
        return True
    flag = _FLAG.match(line)
    if flag:
        name = flag.group(1)
        if name == "not_in_hw":
            f.not_in_hw = True
        else:
            setattr(f, name, True)
        return True
    key = _KEY.match(line)
    if key:
        f.keys[key.group(1)] = key.group(2) or ""
        return True
    return False


def _action_line(a: TcAction, number: int, line: str) -> bool:
    """Counters and cookie of an action; any other line is its detail."""
    part = _SENT_PART.match(line)
    if part:
        which, nbytes, packets = part.groups()
        if which == "software":
            a.sw_bytes, a.sw_packets = int(nbytes), int(packets)
        else:
            a.hw_bytes, a.hw_packets = int(nbytes), int(packets)
        return True
    sent = _SENT.match(line)
    if sent:
        a.bytes, a.packets = int(sent.group(1)), int(sent.group(2))
        return True
    cookie = _COOKIE.match(line)
    if cookie:
        a.cookie = cookie.group(1).lower()
        return True
    if line.startswith(("\t", " ")):
        a.detail.append((number, line))
        return True
    return False


def section_header(dev: str, command: list[str], error: str | None = None) -> str:
    """The header line of one device's section, newline included."""
    document = {"dev": dev, "command": command, "error": error}
    return TC_PREFIX + json.dumps(document, ensure_ascii=False) + "\n"


def parse_sections(text: str) -> list[TcDevice]:
    """Every device section of a file written by ``ovsflow collect --tc``.

    Text before the first header (a bare ``tc filter show`` output) is one
    device with an empty name.
    """
    devices = []
    for header, body, first in _sections(text):
        meta: dict[str, Any] = {"dev": ""}
        if header is not None:
            try:
                meta = json.loads(header[len(TC_PREFIX) :])
            except json.JSONDecodeError as exc:
                raise InputError(
                    f"line {first - 1}: expected a JSON object after "
                    f"{TC_PREFIX.strip()!r}: {exc.msg}"
                ) from exc
        device = parse_filters(body, str(meta.get("dev", "")), first)
        device.command = list(meta.get("command") or [])
        device.error = meta.get("error")
        if header is not None or body.strip():
            devices.append(device)
    return devices


def _sections(text: str) -> Iterator[tuple[str | None, str, int]]:
    header: str | None = None
    body: list[str] = []
    first = 1
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith(TC_PREFIX):
            yield header, "\n".join(body), first
            header, body, first = line, [], number + 1
        else:
            body.append(line)
    yield header, "\n".join(body), first


def load(path: str | Path) -> list[TcDevice]:
    """:func:`parse_sections` of a file."""
    try:
        return parse_sections(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read {str(path)!r}: {exc.strerror}") from exc
