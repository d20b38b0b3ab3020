"""Limits that keep one hostile line from taking the machine down.

Every reader of a line (the fast path, the Lark grammar and the dump reader)
checks against these same numbers, so they cannot disagree on what is too
big.  They are far above anything Open vSwitch prints.
"""

from __future__ import annotations

#: Longest flow line accepted, in characters.  OVS's own tests print
#: userspace actions with about 131,000 characters of userdata; a datapath
#: key is at most 640 bytes (ODPUTIL_FLOW_KEY_BYTES in lib/odp-util.h).
MAX_LINE_LENGTH = 1 << 20

#: Deepest nesting of parentheses accepted.  OVS refuses to parse more than
#: 32 nested attributes (MAX_ODP_NESTED in lib/odp-util.c); a key inside an
#: action such as ``set(tunnel(geneve(...)))`` adds a few levels on top.
MAX_NESTING = 64
