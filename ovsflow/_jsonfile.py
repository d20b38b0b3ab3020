"""Reading a JSON file a user hands us, with errors that say where."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ovsflow.errors import InputError


def read_json_file(path: str | os.PathLike[str], what: str) -> Any:
    """The parsed document of a JSON file.

    Raises :class:`~ovsflow.errors.InputError` naming ``what`` the file is
    (``"rule file"``, ``"port file"``), the path and, for bad JSON, the line
    and column.
    """
    name = os.fspath(path)
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read {what} {name!r}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{what} {name!r} is not UTF-8 text: {exc.reason}") from exc
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{what} {name!r}: line {exc.lineno}, column {exc.colno}: "
            f"expected JSON: {exc.msg}"
        ) from exc
