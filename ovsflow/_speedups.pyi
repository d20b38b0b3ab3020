# The compiled fast path (ovsflow/_speedups.pyx); see ovsflow/parse.py.
from collections.abc import Callable
from typing import Any

from ovsflow.records import Flow

def setup(
    flow: type,
    stats: type,
    match: type,
    node_cls: type,
    key_cls: type,
    field_: type,
    masked: type,
    caches: dict[str, Any],
    builders: dict[str, Callable[..., Any] | type[BaseException]],
    key_layout: dict[str, tuple[str, None, str]],
    max_nesting: int,
    cache_limit: int,
) -> None: ...
def flow(
    line_text: object, end: int, line: int, section: str | None
) -> Flow | None: ...
