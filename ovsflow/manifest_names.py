"""Checks for the names a user gives before they go into a manifest.

Each ``check_*`` function returns the value unchanged when it is valid and
raises :class:`ManifestError` saying what was expected otherwise; each
``*_problem`` function returns that message, or ``None``, for code that
collects findings instead of stopping.

Where the rules come from:

- object names and namespaces: Kubernetes' DNS-1123 subdomain and label;
- resource prefix: the prefix of an extended resource, a DNS subdomain that is
  not ``kubernetes.io`` or below it (those names are native resources);
- resource name: the SR-IOV device plugin's ``ValidResourceName``
  (``[a-zA-Z0-9_]+``, and ``-`` from v3.6.0) together with Kubernetes'
  qualified-name rule for the part after ``/`` (at most 63 characters,
  starting and ending with a letter or digit).
"""

from __future__ import annotations

import re

from ovsflow.errors import ManifestError, SriovValidationError
from ovsflow.sriov import parse_ifname, parse_pci_address, parse_pci_id

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS_SUBDOMAIN = re.compile(
    r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
)
_PLUGIN_VERSION = re.compile(r"v?(\d+)\.(\d+)(?:\.(\d+))?")
# "p0#0-3,5": a PF name or address, then VF indexes and ranges.
_VF_RANGES = re.compile(r"\d+(-\d+)?(,\d+(-\d+)?)*")

#: The first device plugin release whose resource names may hold "-" and whose
#: ``selectors`` may be a list of objects.
PLUGIN_LIST_SELECTORS = (3, 6, 0)


def parse_plugin_version(text: str) -> tuple[int, int, int]:
    """``'v3.6.2'`` (or ``'3.6'``) as ``(3, 6, 2)``."""
    match = _PLUGIN_VERSION.fullmatch(text)
    if match is None:
        raise ManifestError(
            f"expected a device plugin version like 'v3.6.2', got {_shown(text)}"
        )
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch or 0)


def dns_label_problem(value: str, what: str) -> str | None:
    if len(value) <= 63 and _DNS_LABEL.fullmatch(value):
        return None
    return (
        f"{what} {_shown(value)} is not a DNS label (at most 63 lowercase letters,"
        " digits and '-', starting and ending with a letter or digit)"
    )


def dns_subdomain_problem(value: str, what: str) -> str | None:
    if len(value) <= 253 and _DNS_SUBDOMAIN.fullmatch(value):
        return None
    return (
        f"{what} {_shown(value)} is not a DNS subdomain (at most 253 lowercase"
        " letters, digits, '-' and '.', starting and ending with a letter or digit)"
    )


def resource_prefix_problem(value: str) -> str | None:
    problem = dns_subdomain_problem(value, "resource prefix")
    if problem:
        return problem
    if value == "kubernetes.io" or value.endswith(".kubernetes.io"):
        return (
            f"resource prefix {value!r} is reserved: names under kubernetes.io are"
            " native resources, not extended ones"
        )
    return None


def resource_name_problem(value: str, plugin: tuple[int, int, int]) -> str | None:
    hyphen = plugin >= PLUGIN_LIST_SELECTORS
    allowed = "A-Za-z0-9_-" if hyphen else "A-Za-z0-9_"
    pattern = rf"[A-Za-z0-9]([{allowed}]*[A-Za-z0-9])?"
    if len(value) <= 63 and re.fullmatch(pattern, value):
        return None
    if not hyphen and "-" in value and resource_name_problem(value, (3, 6, 0)) is None:
        version = ".".join(map(str, plugin))
        return (
            f"resource name {value!r} has '-', which the device plugin allows only"
            f" from v3.6.0 (this is v{version})"
        )
    extra = ", '-'" if hyphen else ""
    return (
        f"resource name {_shown(value)} must be 1-63 letters, digits, '_'{extra},"
        " starting and ending with a letter or digit"
    )


def resource_problem(value: str, plugin: tuple[int, int, int]) -> str | None:
    """A full extended resource name ``prefix/name``."""
    prefix, slash, name = value.partition("/")
    if not slash:
        return f"resource {_shown(value)} has no prefix: write it as 'prefix/name'"
    return resource_prefix_problem(prefix) or resource_name_problem(name, plugin)


def pci_id_problem(value: object, what: str) -> str | None:
    if isinstance(value, str):
        try:
            parse_pci_id(value, what)
            return None
        except SriovValidationError as exc:
            return str(exc)
    return f"expected {what} as a string of four lowercase hex digits, got {value!r}"


def check(problem: str | None) -> None:
    """Raise :class:`ManifestError` with ``problem`` when there is one."""
    if problem:
        raise ManifestError(problem)


def check_namespaced(value: str, what: str) -> tuple[str, str]:
    """``'kube-system/test'`` as ``('kube-system', 'test')``; both checked."""
    namespace, slash, name = value.rpartition("/")
    if not slash:
        raise ManifestError(
            f"{what} {_shown(value)} needs a namespace: write it as 'namespace/name'"
        )
    check(dns_label_problem(namespace, f"{what} namespace"))
    check(dns_subdomain_problem(name, f"{what} name"))
    return namespace, name


def check_pci_id(value: str, what: str) -> str:
    check(pci_id_problem(value, what))
    return value


def check_vf_selector(value: str, kind: str) -> str:
    """A ``pfNames`` or ``rootDevices`` entry, with an optional ``#0-3`` range."""
    base, hash_, ranges = value.partition("#")
    try:
        if kind == "pfNames":
            parse_ifname(base)
        else:
            if parse_pci_address(base) != base:
                raise SriovValidationError(f"write PCI address {base!r} in lowercase")
    except SriovValidationError as exc:
        raise ManifestError(f"{kind} entry: {exc}") from None
    if hash_ and not _VF_RANGES.fullmatch(ranges):
        raise ManifestError(
            f"{kind} entry {_shown(value)}: after '#' give VF indexes and ranges"
            " like '0-3,5'"
        )
    for part in ranges.split(",") if hash_ else ():
        first, _, last = part.partition("-")
        if last and int(last) < int(first):
            raise ManifestError(f"{kind} entry {value!r}: range {part!r} runs down")
    return value


def check_ifaces(value: str) -> str:
    """Kube-OVN's ``IFACE``: interface names separated by commas."""
    try:
        for name in value.split(","):
            parse_ifname(name)
    except SriovValidationError as exc:
        raise ManifestError(f"IFACE: {exc}") from None
    # The env file is read by a shell: keep to characters it takes literally.
    if not re.fullmatch(r"[A-Za-z0-9_.@,-]+", value):
        raise ManifestError(
            f"IFACE {_shown(value)}: use letters, digits and '_.@-' only"
        )
    return value


def check_image(value: str) -> str:
    if not value or len(value) > 1024 or re.search(r"[\s'\"\\]", value):
        raise ManifestError(
            f"expected a container image reference, got {_shown(value)}"
        )
    return value


def _shown(text: str, limit: int = 40) -> str:
    if len(text) > limit:
        return f"{text[:limit]!r}... ({len(text)} characters)"
    return repr(text)
