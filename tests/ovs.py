"""A private Open vSwitch for the tests: ovsdb-server and ovs-vswitchd in a tmp dir.

The sandbox runs Debian's ``openvswitch-switch`` binaries with every ``OVS_*DIR``
pointing into its own directory, so its database, sockets, pidfiles and logs
never meet the system's.  ``ovs-vswitchd`` runs with ``--enable-dummy
--disable-system --disable-system-route``: bridges must say
``datapath_type=dummy`` and ports are dummy or tunnel ports of the userspace
datapath, so nothing touches a real interface, kernel module or network.  (The
``=override`` form of ``--enable-dummy`` would turn tunnel ports into plain
dummies and lose ``tnl_push``/``tnl_pop``.)

Both daemons are children of this process (``Popen``, no ``--detach``) and
:meth:`OvsSandbox.stop` ends exactly those two pids.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

SCHEMA = Path("/usr/share/openvswitch/vswitch.ovsschema")
DAEMONS = ("ovsdb-server", "ovs-vswitchd")
TOOLS = ("ovsdb-tool", "ovs-vsctl", "ovs-ofctl", "ovs-appctl")

#: Interface types a sandbox bridge may hold; ``internal`` is each bridge's
#: own local port, which the dummy datapath shows as ``dummy-internal``.
ALLOWED_PORT_TYPES = frozenset({"dummy", "internal", "geneve", "vxlan"})


class OvsUnavailable(RuntimeError):
    """The Open vSwitch binaries or schema are not installed."""


def find_program(name: str) -> str | None:
    """Where ``name`` is, also looking in the sbin dirs a non-root PATH lacks."""
    found = shutil.which(name)
    if found:
        return found
    for folder in ("/usr/sbin", "/usr/local/sbin", "/sbin"):
        candidate = Path(folder, name)
        if os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def missing_programs() -> list[str]:
    """The OVS programs (and the schema) this machine lacks, empty when ready."""
    missing = [name for name in DAEMONS + TOOLS if find_program(name) is None]
    if not SCHEMA.exists():
        missing.append(str(SCHEMA))
    return missing


class OvsSandbox:
    """One private ovsdb-server plus ovs-vswitchd under ``base``."""

    def __init__(
        self, base: Path, timeout: float = 30.0, max_idle_ms: int = 3_600_000
    ) -> None:
        self.base = base
        self.timeout = timeout
        self.max_idle_ms = max_idle_ms
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.env = dict(os.environ)
        for var in ("RUNDIR", "LOGDIR", "DBDIR", "SYSCONFDIR", "PKGDATADIR"):
            self.env[f"OVS_{var}"] = str(base)
        # ovs-vsctl and friends read this to find the database socket.
        self.env["DB_SOCK"] = str(self.db_socket)

    @property
    def db_socket(self) -> Path:
        return self.base / "db.sock"

    @property
    def control_socket(self) -> Path:
        """ovs-vswitchd's unixctl socket, the path ``ovs-appctl -t`` accepts."""
        pid = self.processes["ovs-vswitchd"].pid
        return self.base / f"ovs-vswitchd.{pid}.ctl"

    # -- life cycle --------------------------------------------------------

    def start(self) -> None:
        """Create the database, start both daemons and wait until they answer.

        Raises :class:`OvsUnavailable` when OVS is not installed and
        ``RuntimeError`` when a daemon does not come up.
        """
        missing = missing_programs()
        if missing:
            raise OvsUnavailable(f"Open vSwitch is not installed: {missing}")

        # 1. A fresh database from the packaged schema, next to a copy of it.
        self.base.mkdir(parents=True, exist_ok=True)
        shutil.copy(SCHEMA, self.base / SCHEMA.name)
        self._run("ovsdb-tool", "create", str(self.base / "conf.db"), str(SCHEMA))

        # 2. ovsdb-server on a private unix socket only.
        self._spawn(
            "ovsdb-server",
            str(self.base / "conf.db"),
            f"--remote=punix:{self.db_socket}",
        )
        self._wait_for(self.db_socket)
        self.vsctl("--no-wait", "init")

        # 3. ovs-vswitchd with the userspace dummy datapath only.
        self._spawn(
            "ovs-vswitchd",
            f"unix:{self.db_socket}",
            "--enable-dummy",
            "--disable-system",
            "--disable-system-route",
        )
        self._wait_for(self.control_socket)

        # 4. Flows idle for less than max_idle_ms stay in the datapath, so a
        #    dump taken after the packets still shows them.  Without --no-wait
        #    ovs-vsctl also waits for ovs-vswitchd to apply it: a readiness check.
        self.vsctl(
            f"--timeout={int(self.timeout)}",
            "set",
            "Open_vSwitch",
            ".",
            f"other_config:max-idle={self.max_idle_ms}",
        )

    def stop(self) -> None:
        """End the daemons this sandbox started (by pid), vswitchd first."""
        for name in reversed(DAEMONS):
            process = self.processes.pop(name, None)
            if process is None or process.poll() is not None:
                continue
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def __enter__(self) -> OvsSandbox:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- tools -------------------------------------------------------------

    def appctl(self, *args: str) -> str:
        return self._run("ovs-appctl", *args)

    def vsctl(self, *args: str) -> str:
        return self._run("ovs-vsctl", *args)

    def ofctl(self, *args: str) -> str:
        return self._run("ovs-ofctl", *args)

    def receive(self, port: str, packet: bytes | str) -> None:
        """Inject one frame (bytes) or odp flow text into the dummy ``port``."""
        text = packet.hex() if isinstance(packet, bytes) else packet
        self.appctl("netdev-dummy/receive", port, text)

    def interface_types(self) -> dict[str, str]:
        """Every interface in the database and its type (``""`` means system)."""
        out = self.vsctl(
            "--format=csv", "--no-headings", "--columns=name,type", "list", "Interface"
        )
        types = {}
        for row in out.splitlines():
            name, _, kind = row.partition(",")
            types[name.strip('"')] = kind.strip('"')
        return types

    def _run(
        self, program: str, *args: str, env: Mapping[str, str] | None = None
    ) -> str:
        argv = [find_program(program) or program, *args]
        done = subprocess.run(
            argv,
            env=dict(env or self.env),
            capture_output=True,
            text=True,
            timeout=self.timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{' '.join(argv)} exited {done.returncode}: {done.stderr.strip()}"
            )
        return done.stdout

    def _spawn(self, program: str, *args: str) -> None:
        argv = [
            find_program(program) or program,
            *args,
            "--pidfile",
            "--no-chdir",
            "--log-file",
            "-vconsole:off",
        ]
        log = (self.base / f"{program}.stderr").open("wb")
        self.processes[program] = subprocess.Popen(
            argv,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            cwd=self.base,
        )
        log.close()

    def _wait_for(self, path: Path) -> None:
        deadline = time.monotonic() + self.timeout
        while not path.exists():
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(
                        f"{name} exited {process.returncode}; "
                        f"see {self.base / (name + '.log')}"
                    )
            if time.monotonic() > deadline:
                raise RuntimeError(f"{path} did not appear in {self.timeout}s")
            time.sleep(0.05)
