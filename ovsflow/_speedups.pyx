# cython: language_level=3, boundscheck=False, wraparound=False
"""The fast path's commonest case, compiled: a line laid out as OVS prints it.

``flow()`` reads ``[ufid:UUID SEP]key,key,...,key SEP packets:N SEP
NAME:VALUE SEP ... actions:ACTIONS[, dp-extra-info:TEXT]`` in one pass over
the characters: it finds each top-level key by counting parentheses, looks
it up among the keys already built, reads the statistics and the trailer,
looks the actions up, and makes the records.  What is new is built here
the way ovsflow/parse.py builds it, into the same caches: keys of several
flat arguments, nested keys, calls and action lists, arguments, ufids.
What is rarer (a key of one argument, flag keys, Geneve options, typed
tokens, ``used:`` texts, the class of an action) is built by parse.py's own
functions, handed over once with :func:`setup`.  Anything else (another
layout, non-ASCII text, odd nesting, an item given twice) gives None or
raises what parse.py raises, and the Python fast path, then the grammar,
decide, as without this module.

tests/test_speedups.py checks that the three give identical records.
"""

from cpython.dict cimport PyDict_Clear, PyDict_GetItemWithError, PyDict_SetItem
from cpython.object cimport PyObject, PyTypeObject
from cpython.ref cimport Py_INCREF


cdef extern from "Python.h":
    const char* PyUnicode_AsUTF8AndSize(object, Py_ssize_t*) except NULL
    bint PyUnicode_IS_ASCII(object)
    object PyUnicode_Substring(object, Py_ssize_t, Py_ssize_t)
    object PyType_GenericAlloc(PyTypeObject*, Py_ssize_t)
    object PyLong_FromString(const char*, char**, int)
    void PyObject_GC_UnTrack(void*)
    bint PyObject_IS_GC(object)

    ctypedef struct PyMemberDef:
        const char* name
        int type
        Py_ssize_t offset

    ctypedef struct PyMemberDescrObject:
        PyMemberDef* d_member


# Character classes of the layout (ASCII; the caller's text is ASCII).
cdef unsigned char NAME_START = 1  # [A-Za-z_]
cdef unsigned char NAME_CHAR = 2  # [A-Za-z0-9_.-]
cdef unsigned char VALUE_CHAR = 4  # [^\s,(){}], \s as Python's re reads it
cdef unsigned char WORD_CHAR = 8  # [^\s,()/={}<]: a flat argument's words
cdef unsigned char CLASSES[128]


cdef void _classes():
    cdef int c
    for c in range(128):
        CLASSES[c] = 0
        if (65 <= c <= 90) or (97 <= c <= 122) or c == 95:
            CLASSES[c] |= NAME_START | NAME_CHAR
        elif (48 <= c <= 57) or c == 46 or c == 45:
            CLASSES[c] |= NAME_CHAR
        # Whitespace for re's \s: \t \n \v \f \r, \x1c-\x1f and space.
        if not ((9 <= c <= 13) or (28 <= c <= 32) or c == 44 or c == 40
                or c == 41 or c == 123 or c == 125):
            CLASSES[c] |= VALUE_CHAR
            if not (c == 47 or c == 61 or c == 60):
                CLASSES[c] |= WORD_CHAR


_classes()

# Parentheses deeper than this in one key: left to the Python fast path.
cdef enum:
    MAX_KEY_DEPTH = 8


# ---- Records, made as ovsflow.records.new_* makes them ---------------------
#
# The records are frozen dataclasses with __slots__: an empty instance has
# every slot NULL, and a slot is written once, at its offset (what the
# member descriptor's __set__ does, less the call).

cdef Py_ssize_t _offset(type cls, str name) except -1:
    descr = cls.__dict__[name]
    # A slot of a Python class holds any object (T_OBJECT_EX, 16).
    if type(descr).__name__ != "member_descriptor" or (
        (<PyMemberDescrObject*>descr).d_member.type != 16
    ):
        raise TypeError(f"{cls.__name__}.{name} is not a slot")
    return (<PyMemberDescrObject*>descr).d_member.offset


# Records and the tuples in them are never part of a reference cycle: they
# are immutable and built from the inside out, so nothing they hold can hold
# them.  They are untracked by the cycle collector, which would otherwise
# walk every cached key, argument and action (and every flow a caller keeps)
# again and again: a fifth of the time on inputs of many new keys.


cdef inline object _new(type cls):
    """An empty record of ``cls``, untracked."""
    record = PyType_GenericAlloc(<PyTypeObject*>cls, 0)
    PyObject_GC_UnTrack(<void*>record)
    return record


cdef inline tuple _frozen(tuple items):
    """``items``, untracked (see above)."""
    PyObject_GC_UnTrack(<void*>items)
    return items


cdef inline object _untracked(object record):
    """A record built in Python (a Key, an Action), untracked (see above)."""
    if PyObject_IS_GC(record):
        PyObject_GC_UnTrack(<void*>record)
    return record


cdef inline void _keep(dict cache, object key, object value):
    """``cache[key] = value``; a cache at its limit is emptied first, as
    parse.py's caches are."""
    if len(cache) >= CACHE_LIMIT:
        cache.clear()
    cache[key] = value


cdef inline void _put(object record, Py_ssize_t offset, object value):
    """Fill an empty slot of a record made by _new()."""
    Py_INCREF(value)
    (<PyObject**>((<char*><PyObject*>record) + offset))[0] = <PyObject*>value


cdef type Flow, Stats, Match, Node, Key, Field, Masked
cdef Py_ssize_t N_NAME, N_ARGS, D_NAME, D_VALUE, V_VALUE, V_MASK, V_TEXT
cdef Py_ssize_t F_MATCH, F_ACTIONS, F_STATS, F_UFID, F_OFFLOADED, F_DP
cdef Py_ssize_t F_EXTRA_INFO, F_ATTRS, F_LINE, F_SECTION, F_LAYOUT
cdef Py_ssize_t S_PACKETS, S_BYTES, S_USED, S_FLAGS, S_EXTRA, M_KEYS
cdef type UUID, IPv4Address
cdef Py_ssize_t U_INT, U_SAFE, A_IP, TYPED_LIMIT
cdef object SAFE_UNKNOWN

# The caches and builders of ovsflow/parse.py (see setup()).
cdef dict KEYS, ACTION_LISTS, ACTIONS, ARGS, FITTING, NODES
cdef dict FIELD_WIDTHS, FLAG_KINDS, KIND_TYPES
cdef object USED, TYPED  # Memos: a miss makes the value
cdef object new_key, new_actions, counter, ufid_value
cdef object field, check_field, Unsure, node, key, make_action, delegated
cdef Py_ssize_t CACHE_LIMIT
cdef tuple KEY_COMMA, KEY_SPACE, KEY_COMMA_SPACE
cdef Py_ssize_t MAX_NESTING


def setup(
    flow: type,
    stats: type,
    match: type,
    node_cls: type,
    key_cls: type,
    field_: type,
    masked: type,
    caches: dict,
    builders: dict,
    key_layout: dict,
    max_nesting: int,
    cache_limit: int,
) -> None:
    """Hand over the record classes, the caches, tables and builders."""
    global Flow, Stats, Match, Node, Key, Field, Masked
    global N_NAME, N_ARGS, D_NAME, D_VALUE, V_VALUE, V_MASK, V_TEXT
    global KEYS, ACTION_LISTS, ACTIONS, ARGS, FITTING, USED, TYPED
    global FIELD_WIDTHS, FLAG_KINDS, KIND_TYPES, CACHE_LIMIT
    global new_key, new_actions, counter, ufid_value
    global field, check_field, Unsure, node, key, make_action, delegated, NODES
    global KEY_COMMA, KEY_SPACE, KEY_COMMA_SPACE, MAX_NESTING
    global F_MATCH, F_ACTIONS, F_STATS, F_UFID, F_OFFLOADED, F_DP
    global F_EXTRA_INFO, F_ATTRS, F_LINE, F_SECTION, F_LAYOUT
    global S_PACKETS, S_BYTES, S_USED, S_FLAGS, S_EXTRA, M_KEYS
    global UUID, U_INT, U_SAFE, SAFE_UNKNOWN, IPv4Address, A_IP, TYPED_LIMIT
    F_MATCH = _offset(flow, "match")
    F_ACTIONS = _offset(flow, "actions")
    F_STATS = _offset(flow, "stats")
    F_UFID = _offset(flow, "ufid")
    F_OFFLOADED = _offset(flow, "offloaded")
    F_DP = _offset(flow, "dp")
    F_EXTRA_INFO = _offset(flow, "dp_extra_info")
    F_ATTRS = _offset(flow, "attrs")
    F_LINE = _offset(flow, "line")
    F_SECTION = _offset(flow, "section")
    F_LAYOUT = _offset(flow, "layout")
    S_PACKETS = _offset(stats, "packets")
    S_BYTES = _offset(stats, "bytes")
    S_USED = _offset(stats, "used")
    S_FLAGS = _offset(stats, "flags")
    S_EXTRA = _offset(stats, "extra")
    M_KEYS = _offset(match, "keys")
    from uuid import UUID as uuid_cls, SafeUUID
    UUID = uuid_cls
    U_INT = _offset(UUID, "int")
    U_SAFE = _offset(UUID, "is_safe")
    SAFE_UNKNOWN = SafeUUID.unknown
    from ipaddress import IPv4Address as address_cls
    IPv4Address = address_cls
    A_IP = _offset(IPv4Address, "_ip")
    N_NAME = _offset(node_cls, "name")
    N_ARGS = _offset(node_cls, "args")
    D_NAME = _offset(field_, "name")
    D_VALUE = _offset(field_, "value")
    V_VALUE = _offset(masked, "value")
    V_MASK = _offset(masked, "mask")
    V_TEXT = _offset(masked, "text")
    if not issubclass(key_cls, node_cls) or key_cls.__slots__:
        raise TypeError("Key must be a Node without slots of its own")
    Flow, Stats, Match = flow, stats, match
    Node, Key, Field, Masked = node_cls, key_cls, field_, masked
    KEYS = caches["keys"]
    ACTION_LISTS = caches["action_lists"]
    ACTIONS = caches["actions"]
    ARGS = caches["args"]
    FITTING = caches["fitting"]
    NODES = caches["nodes"]
    USED = caches["used"]
    TYPED = caches["typed"]
    if not isinstance(TYPED, dict):
        raise TypeError("the typed tokens' memo must be a dict")
    TYPED_LIMIT = TYPED.limit
    FIELD_WIDTHS = caches["field_widths"]
    FLAG_KINDS = caches["flag_kinds"]
    KIND_TYPES = caches["kind_types"]
    CACHE_LIMIT = cache_limit
    new_key = builders["key"]
    new_actions = builders["actions"]
    counter = builders["counter"]
    ufid_value = builders["ufid"]
    field = builders["field"]
    check_field = builders["check_field"]
    Unsure = builders["unsure"]
    node = builders["node"]
    key = builders["key_of"]
    make_action = builders["make_action"]
    delegated = builders["delegated"]
    KEY_COMMA = key_layout[","]
    KEY_SPACE = key_layout[" "]
    KEY_COMMA_SPACE = key_layout[", "]
    MAX_NESTING = max_nesting


# ---- The line --------------------------------------------------------------


cdef inline bint _is(const char* s, Py_ssize_t i, const char* word, Py_ssize_t n):
    cdef Py_ssize_t j
    for j in range(n):
        if s[i + j] != word[j]:
            return False
    return True


cdef inline Py_ssize_t _name_end(const char* s, Py_ssize_t i, Py_ssize_t end):
    """Where the NAME at ``i`` ends, or -1 if none starts there."""
    if i >= end or not (CLASSES[<unsigned char>s[i]] & NAME_START):
        return -1
    i += 1
    while i < end and CLASSES[<unsigned char>s[i]] & NAME_CHAR:
        i += 1
    return i


cdef inline Py_ssize_t _value_end(const char* s, Py_ssize_t i, Py_ssize_t end):
    """Where the VALUE at ``i`` ends, or -1 if none starts there."""
    cdef Py_ssize_t j = i
    while j < end and CLASSES[<unsigned char>s[j]] & VALUE_CHAR:
        j += 1
    return j if j > i else -1


cdef inline Py_ssize_t _sep_end(const char* s, Py_ssize_t i, Py_ssize_t end):
    """Where the separator (", ", "," or " ") at ``i`` ends, or -1."""
    if i < end and s[i] == b",":
        if i + 1 < end and s[i + 1] == b" ":
            return i + 2
        return i + 1
    if i < end and s[i] == b" ":
        return i + 1
    return -1


cdef inline object _count(str name, str text):
    """counter(): the usual case (under 20 digits) here, the rest in Python."""
    cdef Py_ssize_t n = len(text), i
    if 0 < n < 20:
        for i in range(n):
            if not (48 <= <Py_UCS4>text[i] <= 57):
                return counter(name, text)
        return int(text)
    return counter(name, text)


def flow(object line_text, Py_ssize_t end, object line, object section):
    """The Flow of ``line_text``, whose first "actions:" is at ``end``; or None
    (also for anything but a str).

    1. An optional ``ufid:VALUE SEP``.
    2. The keys, found by counting parentheses and looked up by their text.
    3. The ``NAME:VALUE SEP`` items up to ``actions:``.
    4. The actions, and the ``dp-extra-info`` trailer after them.
    5. The statistics every flow has, then the optional ones.
    6. The records.

    The caller has checked the line's length and that it holds no line end.
    Builders may raise what they raise on the Python fast path.
    """
    cdef Py_ssize_t size, i, j, start, depth, item, open_at
    cdef const char* s
    if type(line_text) is not str or not PyUnicode_IS_ASCII(line_text):
        return None
    cdef str text = line_text
    s = PyUnicode_AsUTF8AndSize(text, &size)
    if end <= 0 or end > size - 8 or not _is(s, end, b"actions:", 8):
        return None
    cdef Py_ssize_t trailer = text.find("dp-extra-info:")
    if 0 <= trailer < end:
        return None  # inside a key or a statistic: the Python path decides

    cdef list layout = []
    cdef dict named = {}
    cdef list keys = []
    cdef tuple entry

    # 1. An optional ufid:VALUE SEP.
    i = 0
    if _is(s, 0, b"ufid:", 5):
        j = _value_end(s, 5, end)
        start = _sep_end(s, j, end) if j > 0 else -1
        if start < 0:
            return None
        entry = _frozen(("ufid", PyUnicode_Substring(text, 5, j),
                         PyUnicode_Substring(text, j, start)))
        named["ufid"] = entry[1]
        layout.append(entry)
        i = start

    # 2. Keys NAME(...) joined by ",", up to the separator before "packets:".
    while True:
        start = i
        i = _name_end(s, i, end)
        if i < 0 or i >= end or s[i] != b"(":
            return None
        open_at = i
        depth = 1
        i += 1
        while depth:
            if i >= end:
                return None
            if s[i] == b"(":
                depth += 1
                if depth > MAX_KEY_DEPTH:
                    return None
            elif s[i] == b")":
                depth -= 1
            i += 1
        piece = PyUnicode_Substring(text, start, i)
        k = KEYS.get(piece)
        if k is None:
            k = _new_key(piece, s, start, open_at, i - 1)
        keys.append(k)
        # The separator: before "packets:" any of the three, else ",".
        j = _sep_end(s, i, end)
        if j < 0:
            return None
        if j + 8 <= end and _is(s, j, b"packets:", 8):
            if j == i + 2:
                layout.append(KEY_COMMA_SPACE)
            else:
                layout.append(KEY_SPACE if s[i] == b" " else KEY_COMMA)
            i = j
            break
        if j != i + 1 or s[i] != b",":
            return None
        layout.append(KEY_COMMA)
        i = j

    # 3. NAME:VALUE SEP items, up to "actions:".
    while i < end:
        j = _name_end(s, i, end)
        if j < 0 or j >= end or s[j] != b":":
            return None
        item = _value_end(s, j + 1, end)
        start = _sep_end(s, item, end) if item > 0 else -1
        if start < 0:
            return None
        name = PyUnicode_Substring(text, i, j)
        if name in named:
            return None  # an item given twice: the grammar path reports it
        value = PyUnicode_Substring(text, j + 1, item)
        named[name] = value
        layout.append(_frozen((name, value, PyUnicode_Substring(text, item, start))))
        i = start

    # 4. The actions, and the dp-extra-info trailer after them.
    extra_info = None
    if trailer < 0:
        rest = PyUnicode_Substring(text, end + 8, size)
    else:  # after ", " or "," (trailer >= end + 8: both can be read)
        if s[trailer - 1] == b",":
            start = trailer - 1
        elif s[trailer - 1] == b" " and s[trailer - 2] == b",":
            start = trailer - 2
        else:
            return None
        if start < end + 8:
            return None  # no room for actions: the Python path decides
        extra_info = PyUnicode_Substring(text, trailer + 14, size)
        if (
            not extra_info
            or "dp-extra-info:" in extra_info
            or extra_info.count("(") + extra_info.count("{") > MAX_NESTING
        ):
            return None  # the Python path decides, or the grammar reports it
        rest = PyUnicode_Substring(text, end + 8, start)
        trailer_sep = PyUnicode_Substring(text, start, trailer)
    actions = ACTION_LISTS.get(rest)
    if actions is None:
        actions = _new_actions(rest, s, end + 8, end + 8 + len(rest))

    # 5. The statistics every flow has, then the optional ones.
    packets_text = named.pop("packets", None)
    bytes_text = named.pop("bytes", None)
    used_text = named.pop("used", None)
    if packets_text is None or bytes_text is None or used_text is None:
        return None
    packets = _count("packets", packets_text)
    nbytes = _count("bytes", bytes_text)
    used = USED[used_text]
    ufid_text = named.pop("ufid", None)
    flags = named.pop("flags", None)
    offloaded = named.pop("offloaded", None)
    dp = named.pop("dp", None)
    cdef list extra = []
    cdef list attrs = []
    cdef str value_text
    for name, value_text in named.items():
        if value_text.isascii() and value_text.isdigit():
            extra.append(_frozen((name, _count(name, value_text))))
        else:
            attrs.append(_frozen((name, value_text)))

    # 6. The records.
    if extra_info is not None:
        layout.append(_frozen(("dp-extra-info", extra_info, trailer_sep)))
    match = _new(Match)
    _put(match, M_KEYS, _frozen(tuple(keys)))
    stats = _new(Stats)
    _put(stats, S_PACKETS, packets)
    _put(stats, S_BYTES, nbytes)
    _put(stats, S_USED, used)
    _put(stats, S_FLAGS, flags)
    _put(stats, S_EXTRA, _frozen(tuple(extra)))
    record = _new(Flow)
    _put(record, F_MATCH, match)
    _put(record, F_ACTIONS, actions)
    _put(record, F_STATS, stats)
    _put(record, F_UFID, None if ufid_text is None else _ufid(ufid_text))
    _put(record, F_OFFLOADED, offloaded)
    _put(record, F_DP, dp)
    _put(record, F_EXTRA_INFO, extra_info)
    _put(record, F_ATTRS, _frozen(tuple(attrs)))
    _put(record, F_LINE, line)
    _put(record, F_SECTION, section)
    _put(record, F_LAYOUT, _frozen(tuple(layout)))
    return record


# ---- New keys, arguments and action lists -----------------------------------
#
# What ovsflow/parse.py's _new_key, _new_flat_key, _new_arg and _new_actions
# do, for their commonest cases; the rest is handed to them.


cdef inline bint _word(const char* s, Py_ssize_t i):
    return CLASSES[<unsigned char>s[i]] & WORD_CHAR


cdef inline Py_ssize_t _word_end(const char* s, Py_ssize_t i, Py_ssize_t b):
    """Where the word at ``i`` ends, or -1 if none starts there."""
    if i >= b or not _word(s, i):
        return -1
    while i < b and _word(s, i):
        i += 1
    return i


cdef Py_ssize_t _flat_args(const char* s, Py_ssize_t a, Py_ssize_t b):
    """How many arguments s[a:b] holds if they are flat (``W[=W][/W]``
    joined by ","), else 0."""
    cdef Py_ssize_t i = a, n = 0
    while True:
        i = _word_end(s, i, b)
        if i < 0:
            return 0
        if i < b and s[i] == b"=":
            i = _word_end(s, i + 1, b)
            if i < 0:
                return 0
        if i < b and s[i] == b"/":
            i = _word_end(s, i + 1, b)
            if i < 0:
                return 0
        n += 1
        if i == b:
            return n
        if s[i] != b",":
            return 0
        i += 1


cdef object _new_key(str piece, const char* s, Py_ssize_t start,
                     Py_ssize_t open_at, Py_ssize_t close):
    """The key of ``piece`` (s[start:close + 1]), built and cached."""
    cdef Py_ssize_t base = start, n = _flat_args(s, open_at + 1, close)
    if n == 1 or open_at + 1 == close:
        return _untracked(new_key(piece))  # one argument or none: in Python
    name = PyUnicode_Substring(piece, 0, open_at - base)
    if name in FLAG_KINDS:
        return _untracked(new_key(piece))
    if n == 0:  # nested
        try:
            inner = _nested(piece, s + base, open_at + 1 - base, close - base, 1)
        except Unsure:
            return _untracked(new_key(piece))  # the careful loop decides
        k = _node(Key, name, inner)
        _keep(KEYS, piece, k)
        return k
    cdef dict widths = FIELD_WIDTHS.get(name)
    cdef dict fitting = None
    if widths is not None:
        fitting = FITTING.get(name)
        if fitting is None or len(fitting) >= CACHE_LIMIT:
            fitting = FITTING[name] = {}
    cdef list args = []
    cdef Py_ssize_t a = open_at + 1 - base, b, stop = close - base
    while True:
        b = piece.find(",", a, stop)
        if b < 0:
            b = stop
        text = PyUnicode_Substring(piece, a, b)
        if fitting is None:
            arg = ARGS.get(text)
            if arg is None:
                arg = _new_arg(text)
        else:
            arg = fitting.get(text)
            if arg is None:
                arg = ARGS.get(text)
                if arg is None:
                    arg = _new_arg(text)
                _check(name, arg, widths)
                fitting[text] = arg
        args.append(arg)
        if b == stop:
            break
        a = b + 1
    k = _new(Key)
    _put(k, N_NAME, name)
    _put(k, N_ARGS, _frozen(tuple(args)))
    _keep(KEYS, piece, k)
    return k


cdef object _new_arg(str text):
    """``name=value/mask``, ``value/mask`` or ``value``, built and cached."""
    cdef Py_ssize_t eq = text.find("="), slash
    rest = text if eq < 0 else PyUnicode_Substring(text, eq + 1, len(text))
    slash = rest.find("/")
    if slash < 0:
        value = _typed(rest)
        mask = None
    else:
        value = _typed(PyUnicode_Substring(rest, 0, slash))
        mask = _typed(PyUnicode_Substring(rest, slash + 1, len(rest)))
    masked = _new(Masked)
    _put(masked, V_VALUE, value)
    _put(masked, V_MASK, mask)
    _put(masked, V_TEXT, rest)
    if eq < 0:
        built = masked
    else:
        name = PyUnicode_Substring(text, 0, eq)
        if name == "frag":
            built = field(name, masked)  # decoded to a Frag
        else:
            built = _new(Field)
            _put(built, D_NAME, name)
            _put(built, D_VALUE, masked)
    _keep(ARGS, text, built)
    return built


cdef object _typed(str text):
    """values.typed(): the commonest new tokens (ports, addresses) are made
    here and kept as its memo keeps them; anything else by the memo."""
    cdef PyObject* hit = PyDict_GetItemWithError(TYPED, text)
    if hit != NULL:
        return <object>hit
    value = _number_or_address(text)
    if value is None:
        return TYPED[text]
    if len(TYPED) >= TYPED_LIMIT:
        PyDict_Clear(TYPED)
    PyDict_SetItem(TYPED, text, value)
    return value


cdef object _number_or_address(str text):
    """Up to 18 decimal digits as an int, or four dotted octets as an
    IPv4Address (as values._ipv4 reads them: no octet past 255, no leading
    zero); None for anything else, which the memo's maker decides on."""
    cdef Py_ssize_t n, i = 0, digits
    cdef const char* s = PyUnicode_AsUTF8AndSize(text, &n)
    cdef unsigned long address = 0, octet
    cdef int part
    if n == 0 or n > 18:
        return None
    while i < n and b"0" <= s[i] <= b"9":
        i += 1
    if i == n:
        return int(text)
    i = 0
    for part in range(4):
        if part:
            if i >= n or s[i] != b".":
                return None
            i += 1
        octet = digits = 0
        while i < n and b"0" <= s[i] <= b"9" and digits < 4:
            octet = octet * 10 + <unsigned long>(s[i] - 48)
            digits += 1
            i += 1
        if digits == 0 or digits > 3 or octet > 255:
            return None
        if digits > 1 and s[i - digits] == b"0":  # a leading zero
            return None
        address = address << 8 | octet
    if i != n:
        return None
    record = _new(IPv4Address)
    _put(record, A_IP, address)
    return record


cdef void _check(str name, object arg, dict widths) except *:
    """check_field(): a quick yes here, anything else in Python."""
    if type(arg) is Field and not _field_fits(arg, widths):
        check_field(name, arg, widths)


cdef object _new_actions(str rest, const char* s, Py_ssize_t a, Py_ssize_t b):
    """The actions of ``rest`` (s[a:b]), built and cached; cut as _nested
    cuts arguments, and left to parse._new_actions when not plain."""
    cdef Py_ssize_t i = a, e
    cdef list parts = []
    while True:
        e = _part_end(s, i, b)
        if e <= i:  # no action at all, an empty one, or odd brackets
            return new_actions(rest)
        part = PyUnicode_Substring(rest, i - a, e - a)
        action = ACTIONS.get(part)
        if action is None:
            try:
                action = _new_action(part, s + i, e - i)
            except Unsure:
                return new_actions(rest)  # the careful loop decides
        parts.append(action)
        if e == b:
            break
        i = e + 1
    actions = _frozen(tuple(parts))
    _keep(ACTION_LISTS, rest, actions)
    return actions


cdef enum:
    PIECE_DEPTH = 6  # parse._PIECE_DEPTH: calls nested deeper go to Python


cdef Py_ssize_t _part_end(const char* s, Py_ssize_t i, Py_ssize_t b):
    """Where the part at ``i`` of s[:b] ends (a top-level "," or ``b``), as
    parse._PIECES reads it; -1 if its brackets do not balance or nest too
    deep for it."""
    cdef char stack[PIECE_DEPTH + 1]
    cdef int depth = 0
    cdef char c
    while i < b:
        c = s[i]
        if c == b"(" or c == b"{":
            if depth > PIECE_DEPTH:
                return -1
            stack[depth] = b")" if c == b"(" else b"}"
            depth += 1
        elif c == b")" or c == b"}":
            if depth == 0 or stack[depth - 1] != c:
                return -1
            depth -= 1
        elif c == b"," and depth == 0:
            return i
        i += 1
    return -1 if depth else b


cdef bint _has(const char* s, Py_ssize_t a, Py_ssize_t b, char c):
    cdef Py_ssize_t i
    for i in range(a, b):
        if s[i] == c:
            return True
    return False


cdef bint _words(const char* s, Py_ssize_t a, Py_ssize_t b):
    """Whether s[a:b] is all word characters (parse._CALL_NAME)."""
    cdef Py_ssize_t i
    for i in range(a, b):
        if not _word(s, i):
            return False
    return True


cdef tuple _nested(str whole, const char* s, Py_ssize_t a, Py_ssize_t b,
                   int depth):
    """parse._nested_args: the arguments in whole[a:b] (``s`` is its text),
    inside a call ``depth`` levels deep.  Raises Unsure as it does."""
    cdef Py_ssize_t i = a, e
    cdef list args = []
    if a == b:
        return ()
    while True:
        e = _part_end(s, i, b)
        if e <= i:
            raise Unsure
        part = PyUnicode_Substring(whole, i, e)
        arg = ARGS.get(part)
        if arg is None:
            arg = NODES.get(part)
            if arg is None:
                if s[e - 1] == b")":
                    arg = _new_node(part, s + i, e - i, depth)
                elif _has(s, i, e, b"{"):
                    arg = delegated(part, depth)
                elif _flat_args(s, i, e) == 1:
                    arg = _new_arg(part)
                else:
                    raise Unsure
        args.append(arg)
        if e == b:
            return _frozen(tuple(args))
        i = e + 1


cdef object _new_node(str text, const char* s, Py_ssize_t n, int depth):
    """parse._new_node: the call or group ``text`` (``s[:n]``), built and
    cached."""
    cdef Py_ssize_t o = 0
    while s[o] != b"(":
        o += 1
    if depth >= PIECE_DEPTH or not _words(s, 0, o):
        raise Unsure
    name = PyUnicode_Substring(text, 0, o)
    if o + 1 < n - 1 and s[o + 1] == b"{":
        built = delegated(text, depth)  # Geneve options: in Python
    else:
        args = _nested(text, s, o + 1, n - 1, depth + 1)
        built = _node(Node, name, args)
    _keep(NODES, text, built)
    return built


cdef object _node(type cls, str name, tuple args):
    """_build.node (or key, for cls Key): a quick yes to the widths here,
    anything else (flags, a value that may not fit) in Python."""
    cdef dict widths
    if name:
        if name in FLAG_KINDS:
            return (key if cls is Key else node)(name, args)
        widths = FIELD_WIDTHS.get(name)
        if widths is not None and not _fit(widths, args):
            return (key if cls is Key else node)(name, args)
    built = _new(cls)
    _put(built, N_NAME, name)
    _put(built, N_ARGS, args)
    return built


cdef bint _fit(dict widths, tuple args) except -1:
    """Whether every argument plainly fits its width (_build._check_widths
    has the last word when not)."""
    for arg in args:
        if type(arg) is Field:
            if not _field_fits(arg, widths):
                return False
        elif isinstance(arg, Masked) and len(args) == 1:
            want = widths.get("")
            if want is not None and not _fits(want, arg):
                return False
    return True


cdef bint _field_fits(object arg, dict widths) except -1:
    """Whether a Field plainly fits its width, or has none to fit."""
    want = widths.get(arg.name)
    masked = arg.value
    return want is None or not isinstance(masked, Masked) or _fits(want, masked)


cdef bint _fits(object want, object masked) except -1:
    value = masked.value
    mask = masked.mask
    if type(want) is int:
        return type(value) is int and not (value >> want) and (
            mask is None or (type(mask) is int and not (mask >> want))
        )
    kind = KIND_TYPES[want]
    return isinstance(value, kind) and (mask is None or isinstance(mask, kind))


cdef object _new_action(str text, const char* s, Py_ssize_t n):
    """parse._new_action: one action (``s[:n]``), built and cached."""
    cdef Py_ssize_t o = 0
    if s[n - 1] == b")":
        while s[o] != b"(":
            o += 1
        if o == 0 or _has(s, 0, o, b"{"):
            raise Unsure  # a group or Geneve options as an action
        arg = NODES.get(text)
        if arg is None:
            arg = _new_node(text, s, n, 1)
        if not isinstance(arg, Node):
            raise Unsure
    elif _words(s, 0, n):
        arg = ARGS.get(text)
        if arg is None:
            arg = _new_arg(text)
    else:
        raise Unsure
    action = make_action(arg)
    _untracked(action)
    _keep(ACTIONS, text, action)
    return action


cdef object _ufid(str text):
    """_build.ufid_value: the usual form (8-4-4-4-12 hex digits) here, made as
    it makes it; any other text in Python."""
    cdef char digits[33]
    cdef Py_ssize_t i, n = 0
    cdef const char* s
    cdef Py_ssize_t size
    if len(text) != 36 or not PyUnicode_IS_ASCII(text):
        return ufid_value(text)
    s = PyUnicode_AsUTF8AndSize(text, &size)
    for i in range(36):
        if i == 8 or i == 13 or i == 18 or i == 23:
            if s[i] != b"-":
                return ufid_value(text)
        elif (b"0" <= s[i] <= b"9") or (b"a" <= s[i] <= b"f") or (b"A" <= s[i] <= b"F"):
            digits[n] = s[i]
            n += 1
        else:
            return ufid_value(text)
    digits[32] = 0
    uuid = _new(UUID)
    _put(uuid, U_INT, PyLong_FromString(digits, NULL, 16))
    _put(uuid, U_SAFE, SAFE_UNKNOWN)
    return uuid
