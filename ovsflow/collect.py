"""Collect datapath flow dumps from a running Open vSwitch.

:func:`collect_dump` runs ``ovs-appctl dpctl/dump-flows -m`` on the local OVS,
on the daemon behind a given control socket (``target``, as ``ovs-appctl -t``
takes it), or inside a Kubernetes pod through ``kubectl exec`` (Kube-OVN runs
OVS in the ``ovs-ovn`` pods of ``kube-system``).  It returns the dump exactly as
OVS printed it, after a header line that says where and when it was taken::

    # ovsflow-meta: {"node": null, "pod": "ovs-ovn-x7k2p", ..., "type": null}

:func:`collect_series` takes several snapshots a fixed interval apart, so that
rates can be worked out between them.  Failures raise a subclass of
:class:`~ovsflow.errors.CollectError` that names what failed.
"""

from __future__ import annotations

import json
import logging
import re
import shlex
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ovsflow.errors import (
    CollectError,
    CollectPermissionError,
    CollectTimeoutError,
    CollectToolMissingError,
    OvsNotRunningError,
    PodNotFoundError,
    SocketMissingError,
)

__all__ = [
    "DUMP_TYPES",
    "META_PREFIX",
    "Snapshot",
    "Source",
    "collect_dump",
    "collect_ports",
    "collect_series",
    "collect_snapshot",
    "collect_tc",
    "dump_devices",
    "meta_line",
    "snapshot_path",
]

logger = logging.getLogger(__name__)

#: The start of the header line; the rest of the line is one JSON object.
META_PREFIX = "# ovsflow-meta: "

#: The ``type=`` filters ``dpctl/dump-flows`` knows (OVS 3.1, ``lib/dpctl.c``).
DUMP_TYPES = (
    "ovs",
    "tc",
    "dpdk",
    "offloaded",
    "non-offloaded",
    "partially-offloaded",
    "all",
)

#: The namespace Kube-OVN runs its ``ovs-ovn`` pods in.
DEFAULT_NAMESPACE = "kube-system"


@dataclass(frozen=True, slots=True)
class Source:
    """Where an OVS is and how to reach it.

    With neither ``target`` nor ``pod`` this is the local ``ovs-vswitchd``.
    ``target`` is passed to ``ovs-appctl -t``: a control socket path, or a
    daemon name looked up in the run directory.  With ``pod`` the command runs
    in that pod through ``kubectl exec``, in ``namespace`` and, when given,
    ``container`` and kubeconfig ``context``; ``target`` then names a socket
    inside the pod.  ``db`` is the OVSDB remote ``ovs-vsctl --db`` takes, for
    the port table (default: ovs-vsctl's own default).
    """

    target: str | None = None
    pod: str | None = None
    namespace: str = DEFAULT_NAMESPACE
    container: str | None = None
    context: str | None = None
    kubectl: str = "kubectl"
    appctl: str = "ovs-appctl"
    vsctl: str = "ovs-vsctl"
    tc: str = "tc"
    db: str | None = None

    def argv(self, *appctl_args: str) -> list[str]:
        """The full command line that runs ``ovs-appctl appctl_args...``."""
        command = [self.appctl]
        if self.target:
            command += ["-t", self.target]
        return self.wrap([*command, *appctl_args])

    def vsctl_argv(self, *vsctl_args: str) -> list[str]:
        """The full command line that runs ``ovs-vsctl [--db=DB] args...``."""
        command = [self.vsctl]
        if self.db:
            command.append(f"--db={self.db}")
        return self.wrap([*command, *vsctl_args])

    def wrap(self, command: Sequence[str]) -> list[str]:
        """``command`` as it runs at this source: itself, or in the pod."""
        if not self.pod:
            return list(command)
        prefix = [self.kubectl]
        if self.context:
            prefix += ["--context", self.context]
        prefix += ["exec", "-n", self.namespace, self.pod]
        if self.container:
            prefix += ["-c", self.container]
        return [*prefix, "--", *command]

    def where(self) -> str:
        """A short human description, for error messages."""
        daemon = repr(self.target) if self.target else "ovs-vswitchd"
        place = f"pod {self.namespace}/{self.pod}" if self.pod else "this host"
        return f"{daemon} on {place}"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One collected dump: the text (header included) and its metadata."""

    text: str
    meta: Mapping[str, Any] = field(default_factory=dict)
    time: datetime = field(default_factory=lambda: datetime.now(UTC))


def collect_dump(
    source: Source | None = None, *, types: str | None = None, timeout: float = 30.0
) -> str:
    """The ``dpctl/dump-flows -m`` text of ``source``, after a metadata header.

    ``types`` is a ``type=`` filter such as ``"offloaded"`` or
    ``"ovs,offloaded"``.  Raises a :class:`~ovsflow.errors.CollectError`
    subclass naming what failed (OVS not running, socket missing, permission
    denied, kubectl missing, pod not found, time-out).
    """
    return collect_snapshot(source, types=types, timeout=timeout).text


def collect_snapshot(
    source: Source | None = None, *, types: str | None = None, timeout: float = 30.0
) -> Snapshot:
    """Like :func:`collect_dump`, but also returns the metadata and the time.

    1. Ask for the OVS version first: it proves the daemon answers.
    2. Take the dump, noting the time just before.
    3. Put the header line in front of OVS's text, unchanged.
    """
    source = source or Source()
    args = ["dpctl/dump-flows", "-m"]
    if types:
        args.append(f"type={_check_types(types)}")

    # 1. Version
    version = _run(source, source.argv("version"), timeout).splitlines()
    ovs_version = version[0].strip() if version else ""

    # 2. Dump
    command = source.argv(*args)
    when = datetime.now(UTC)
    dump = _run(source, command, timeout)

    # 3. Header
    meta: dict[str, Any] = {
        "node": None if source.pod else socket.gethostname(),
        "pod": source.pod,
        "namespace": source.namespace if source.pod else None,
        "container": source.container,
        "context": source.context,
        "target": source.target,
        "time": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "ovs_version": ovs_version,
        "command": command,
        "type": types,
    }
    return Snapshot(text=meta_line(meta) + dump, meta=meta, time=when)


def collect_series(
    source: Source | None = None,
    *,
    count: int,
    every: float,
    types: str | None = None,
    timeout: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Snapshot]:
    """``count`` snapshots, started ``every`` seconds apart.

    The starts keep to a fixed grid, so a slow dump does not push the later
    ones back; a dump slower than ``every`` makes the next start at once.
    """
    if count < 1:
        raise CollectError(f"the count of snapshots must be at least 1, not {count}")
    if every < 0:
        raise CollectError(f"the interval must not be negative, not {every}")
    start = time.monotonic()
    for n in range(count):
        delay = start + n * every - time.monotonic()
        if n and delay > 0:
            sleep(delay)
        yield collect_snapshot(source, types=types, timeout=timeout)


def collect_ports(
    source: Source | None = None, *, timeout: float = 30.0
) -> dict[str, Any]:
    """The port table of ``source``, as the document ``ovsflow.ports.load`` reads.

    It holds ``ovs-vsctl --format=json list Interface`` (parsed), and the
    text of ``dpctl/show`` and ``dpif/show``, which give the datapath port
    numbers that dumps use (they differ from OpenFlow port numbers).
    """
    from ovsflow.ports import PORTS_FORMAT

    source = source or Source()
    list_interfaces = source.vsctl_argv("--format=json", "list", "Interface")
    text = _run(source, list_interfaces, timeout)
    try:
        interfaces = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CollectError(
            f"ovs-vsctl printed no JSON ({exc.msg}); command: "
            f"{shlex.join(list_interfaces)}"
        ) from exc
    return {
        "format": PORTS_FORMAT,
        "time": _now(),
        "interfaces": interfaces,
        "dpctl_show": _run(source, source.argv("dpctl/show"), timeout),
        "dpif_show": _run(source, source.argv("dpif/show"), timeout),
    }


def collect_tc(
    devices: Sequence[str], source: Source | None = None, *, timeout: float = 30.0
) -> str:
    """``tc -s filter show dev DEV ingress`` for each device, one section each.

    Each section starts with a header line (:func:`ovsflow.tc.section_header`).
    A device tc cannot show (gone, not a netdev) gets its error in the header
    and an empty body; a missing ``tc`` program is an error for the whole call.
    """
    from ovsflow.tc import section_header

    source = source or Source()
    out = []
    for dev in devices:
        command = source.wrap(
            [source.tc, "-s", "filter", "show", "dev", dev, "ingress"]
        )
        try:
            body, error = _run(source, command, timeout), None
        except CollectToolMissingError:
            raise
        except CollectError as exc:
            body, error = "", str(exc)
        out.append(section_header(dev, command, error) + body)
    return "".join(out)


def dump_devices(
    dump: str, source: Source | None = None, *, timeout: float = 30.0
) -> list[str]:
    """The input ports of the flows in ``dump``, as device names, in order.

    Numbered ports are named through ``dpctl/show`` of ``source`` (asked only
    when the dump has numbers); a number it does not list is left out.
    """
    from ovsflow.dump import DumpReader
    from ovsflow.ports import parse_dpctl_show

    seen: dict[object, None] = {}
    for flow in DumpReader(dump, "skip", "<collected>"):
        if flow.match.in_port is not None:
            seen.setdefault(flow.match.in_port, None)
    numbered = [p for p in seen if isinstance(p, int)]
    names = {}
    if numbered:
        shown = _run(
            source or Source(), (source or Source()).argv("dpctl/show"), timeout
        )
        names = {n: name for n, (name, _) in parse_dpctl_show(shown).items()}
    out: list[str] = []
    for port in seen:
        name = names.get(port) if isinstance(port, int) else str(port)
        if name is not None and name not in out:
            out.append(name)
    return out


def _now() -> str:
    when = datetime.now(UTC)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def meta_line(meta: Mapping[str, Any]) -> str:
    """The header line for ``meta``, newline included.

    >>> meta_line({"pod": None, "time": "2024-05-01T10:00:00.000Z"})
    '# ovsflow-meta: {"pod": null, "time": "2024-05-01T10:00:00.000Z"}\\n'
    """
    return META_PREFIX + json.dumps(dict(meta), ensure_ascii=False) + "\n"


def snapshot_path(pattern: str | Path, n: int, when: datetime) -> Path:
    """Where snapshot ``n`` (from 1) taken at ``when`` goes.

    ``pattern`` is a directory (then ``dump-NNN-TIME.txt`` inside it) or a
    file name with ``{n}`` and/or ``{time}`` (``{n:03d}`` works too); ``time``
    is UTC in the compact ISO form ``20240501T100000Z``.
    """
    stamp = when.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    text = str(pattern)
    if Path(text).is_dir() or text.endswith("/"):
        return Path(text, f"dump-{n:03d}-{stamp}.txt")
    if "{n" not in text and "{time" not in text:
        raise CollectError(
            f"output {text!r} for a series needs {{n}} or {{time}}, or a directory"
        )
    try:
        return Path(text.format(n=n, time=stamp))
    except (KeyError, IndexError, ValueError) as exc:
        raise CollectError(f"output pattern {text!r} is not valid: {exc}") from exc


def _check_types(types: str) -> str:
    unknown = [t for t in types.split(",") if t not in DUMP_TYPES]
    if unknown:
        known = ", ".join(DUMP_TYPES)
        raise CollectError(f"unknown dump type {unknown[0]!r}; known types: {known}")
    return types


def _run(source: Source, command: Sequence[str], timeout: float) -> str:
    """Run ``command``; its stdout, or the error that says what failed."""
    shown = shlex.join(command)
    logger.debug("running %s", shown)
    try:
        done = subprocess.run(
            list(command),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except FileNotFoundError as exc:
        tool = command[0]
        why = "kubectl is needed for --pod" if source.pod else "is OVS installed?"
        raise CollectToolMissingError(
            f"{tool!r} was not found on PATH ({why}); command: {shown}"
        ) from exc
    except PermissionError as exc:
        raise CollectPermissionError(
            f"{command[0]!r} cannot be run: permission denied; command: {shown}"
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise CollectTimeoutError(
            f"timed out after {timeout:g}s waiting for {source.where()}; "
            f"command: {shown}"
        ) from exc
    if done.returncode != 0:
        raise _failure(source, shown, done.returncode, done.stderr)
    return done.stdout


# What ovs-appctl and kubectl print on failure, and what it means.  The
# ovs-appctl texts come from lib/unixctl.c and utilities/ovs-appctl.c.
_POD_NOT_FOUND = re.compile(r"NotFound\)?: pods? \"?([^\"\s]*)\"? not found")
_NOT_RUNNING = re.compile(r"cannot read pidfile|Connection refused")
_SOCKET_MISSING = re.compile(r"cannot connect to .*No such file or directory")
_PERMISSION = re.compile(r"Permission denied|Operation not permitted|Forbidden")
_KUBECTL_TIMEOUT = re.compile(r"Client\.Timeout|i/o timeout|deadline exceeded")


def _failure(source: Source, shown: str, status: int, stderr: str) -> CollectError:
    """The error for a command that exited ``status`` having printed ``stderr``."""
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    last = lines[-1] if lines else f"exit status {status}"
    detail = f"{last} (command: {shown})"
    if source.pod and _POD_NOT_FOUND.search(stderr):
        return PodNotFoundError(
            f"pod {source.pod!r} not found in namespace {source.namespace!r}: {detail}"
        )
    if _SOCKET_MISSING.search(stderr):
        return SocketMissingError(
            f"the control socket of {source.where()} does not exist; "
            f"is ovs-vswitchd running? {detail}"
        )
    if _NOT_RUNNING.search(stderr):
        return OvsNotRunningError(f"OVS is not running at {source.where()}: {detail}")
    if _PERMISSION.search(stderr):
        return CollectPermissionError(
            f"permission denied talking to {source.where()}: {detail}"
        )
    if _KUBECTL_TIMEOUT.search(stderr):
        return CollectTimeoutError(f"timed out reaching {source.where()}: {detail}")
    return CollectError(f"collecting from {source.where()} failed: {detail}")
