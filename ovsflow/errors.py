"""Exceptions raised by ovsflow.

Every error ovsflow raises on purpose derives from :class:`OvsflowError`, so a
caller (and the CLI) can catch them all at once::

    OvsflowError
    ├── ParseError (also ValueError)       a line of a dump does not parse
    ├── InputError (also ValueError)       a file or stream cannot be read as a dump
    ├── CollectError                       collecting a dump from OVS failed
    │   ├── CollectToolMissingError            ovs-appctl or kubectl is not installed
    │   ├── OvsNotRunningError                 no ovs-vswitchd answers at the target
    │   │   └── SocketMissingError             the control socket does not exist
    │   ├── CollectPermissionError             not allowed to use the control socket
    │   ├── PodNotFoundError                   kubectl found no such pod
    │   └── CollectTimeoutError                the command did not finish in time
    ├── SriovError                         reading or changing SR-IOV state failed
    │   ├── SriovValidationError (ValueError)  an argument was refused before any write
    │   │   ├── SriovNotFoundError             no such device or interface in sysfs
    │   │   └── SriovNotCapableError           the device has no SR-IOV capability
    │   ├── SriovPermissionError               the write was refused (EACCES, EPERM)
    │   ├── SriovBusyError                     the device is in use (EBUSY)
    │   └── SriovDriverError                   the driver refused or did not comply
    └── ManifestError (also ValueError)    a manifest argument or file is invalid
"""

from __future__ import annotations


class OvsflowError(Exception):
    """Root of every error ovsflow raises on purpose."""


class ParseError(OvsflowError, ValueError):
    """A line of a dump does not parse.

    ``line`` and ``column`` are 1-based; ``text`` is the offending line and
    ``expected`` says what the parser would have accepted at ``column``.
    ``str()`` gives one summary line, then the line (cut to a window around
    the column when it is long) with a caret under the column.
    """

    #: How many characters of a long line are shown either side of the caret.
    WINDOW = 60

    def __init__(
        self,
        message: str,
        *,
        text: str,
        line: int = 1,
        column: int = 1,
        expected: str = "",
        source: str | None = None,
    ) -> None:
        self.message = message
        self.text = text
        self.line = line
        self.column = column
        self.expected = expected
        self.source = source
        super().__init__(str(self))

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only arguments need help to cross process boundaries.
        return (_rebuild_parse_error, (self.__dict__.copy(),))

    def __str__(self) -> str:
        where = f"line {self.line}, column {self.column}"
        if self.source:
            where = f"{self.source}: {where}"
        return f"{where}: {self.message}\n{self.excerpt()}"

    def excerpt(self) -> str:
        """The offending text with a caret under the column, two lines."""
        text = self.text
        col = max(self.column - 1, 0)
        start, end = 0, len(text)
        if len(text) > 2 * self.WINDOW + 1:
            start = max(col - self.WINDOW, 0)
            end = min(col + self.WINDOW, len(text))
        shown = text[start:end]
        prefix = "..." if start > 0 else ""
        suffix = "..." if end < len(text) else ""
        # Control characters would move the caret; show them escaped.
        shown = shown.translate(_CONTROL_TO_VISIBLE)
        caret = " " * (len(prefix) + col - start) + "^"
        return f"    {prefix}{shown}{suffix}\n    {caret}"


def _rebuild_parse_error(state: dict[str, object]) -> ParseError:
    err = ParseError.__new__(ParseError)
    err.__dict__.update(state)
    Exception.__init__(err, str(err))
    return err


# Tabs and other control characters are shown as a single visible character so
# that the caret stays under the right column.
_CONTROL_TO_VISIBLE = {c: "?" for c in range(32)} | {127: "?"}


class InputError(OvsflowError, ValueError):
    """A file or stream cannot be read as a dump (missing, binary, truncated...)."""


class CollectError(OvsflowError):
    """Collecting a dump from a running Open vSwitch failed."""


class SriovError(OvsflowError):
    """Reading or changing SR-IOV state through sysfs failed."""


class SriovValidationError(SriovError, ValueError):
    """An SR-IOV argument was refused before anything was written."""


class ManifestError(OvsflowError, ValueError):
    """A manifest argument or a manifest file is invalid."""


class SriovNotFoundError(SriovValidationError):
    """No PCI device or network interface of that name exists under the sysfs root."""


class SriovNotCapableError(SriovValidationError):
    """The device exists but is not an SR-IOV physical function."""


class SriovPermissionError(SriovError):
    """Writing to sysfs was refused for lack of privilege (EACCES, EPERM)."""


class SriovBusyError(SriovError):
    """The device is busy (EBUSY): VFs are in use or a change is under way."""


class SriovDriverError(SriovError):
    """The driver refused a write, or the kernel state after it is not as asked."""


class CollectToolMissingError(CollectError):
    """``ovs-appctl`` (or, for a pod, ``kubectl``) is not on ``PATH``."""


class OvsNotRunningError(CollectError):
    """No ovs-vswitchd answers at the target (no pidfile, connection refused)."""


class SocketMissingError(OvsNotRunningError):
    """The control socket given with ``--target`` does not exist."""


class CollectPermissionError(CollectError):
    """The control socket (or the pod) refused us for lack of privilege."""


class PodNotFoundError(CollectError):
    """``kubectl`` reports that the pod does not exist in that namespace."""


class CollectTimeoutError(CollectError):
    """The collection command did not finish within the time-out."""
