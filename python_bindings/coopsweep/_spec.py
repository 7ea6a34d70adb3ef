"""Sweep specs from Python: a path, TOML text, or a dict shaped like the TOML file."""

from __future__ import annotations

import math
import numbers
import os
import pathlib
import re
from collections.abc import Mapping
from typing import Any, Union

import numpy as np

SpecLike = Union[str, "os.PathLike[str]", Mapping[str, Any]]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def spec_text(spec: SpecLike) -> tuple[str, str]:
    """The TOML text of `spec` and its source for messages.

    A mapping is written as TOML; an ``os.PathLike`` is read; a ``str`` is TOML
    text when it holds a newline, ``=`` or ``[``, and a file path otherwise.
    """
    if isinstance(spec, Mapping):
        return to_toml(spec), "<dict>"
    if isinstance(spec, os.PathLike):
        return _read(pathlib.Path(spec))
    if isinstance(spec, str):
        if spec == "" or any(c in spec for c in "\n=["):
            return spec, "<string>"
        return _read(pathlib.Path(spec))
    raise TypeError(f"spec must be a path, TOML text or a dict, not {type(spec).__name__}")


def _read(path: pathlib.Path) -> tuple[str, str]:
    path = path.expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"spec file '{path}' does not exist")
    return path.read_text(encoding="utf-8"), str(path)


def to_toml(spec: Mapping[str, Any]) -> str:
    """Write a dict shaped like a spec file as TOML text.

    This is what `coopsweep.run` does with a dict; the text is what the
    results file stores in its ``spec`` attribute.

    Parameters
    ----------
    spec : mapping
        Top-level scalars (``seed``, ``replicates``) and mappings, which become
        tables (``[model]``, ``[grid]``, ``[output]``). Mappings inside tables
        become inline tables (``{ start = 0.0, stop = 1.0, num = 5 }``); lists,
        tuples, ranges and NumPy arrays become arrays; NumPy scalars their
        Python values; NaN and infinities TOML's ``nan`` and ``inf``.

    Returns
    -------
    str
        TOML text that `tomllib.loads` reads back to `spec`.

    Raises
    ------
    TypeError
        A key that is not a string, or a value of another type (None, ...);
        the message names the key. Names and values are not checked against
        the model here: `coopsweep.run` does that and names what is wrong.

    Examples
    --------
    >>> print(coopsweep.to_toml({"seed": 1, "grid": {"scope": [0.2, 0.8]}}), end="")
    seed = 1
    <BLANKLINE>
    [grid]
    scope = [0.2, 0.8]
    """
    lines: list[str] = []
    tables: list[tuple[str, Mapping[str, Any]]] = []
    for key, value in spec.items():
        if isinstance(value, Mapping):
            tables.append((key, value))
        else:
            lines.append(f"{_key(key)} = {_value(value, key)}")
    for name, table in tables:
        if lines:
            lines.append("")
        lines.append(f"[{_key(name)}]")
        for key, value in table.items():
            lines.append(f"{_key(key)} = {_value(value, f'{name}.{key}')}")
    return "\n".join(lines) + "\n"


def _key(key: Any) -> str:
    if not isinstance(key, str):
        raise TypeError(f"spec keys must be strings, not {type(key).__name__} ({key!r})")
    return key if _BARE_KEY.fullmatch(key) else _string(key)


def _string(text: str) -> str:
    out = ['"']
    for c in text:
        if c == '"':
            out.append('\\"')
        elif c == "\\":
            out.append("\\\\")
        elif c == "\n":
            out.append("\\n")
        elif c == "\t":
            out.append("\\t")
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            out.append(f"\\u{ord(c):04X}")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def _value(value: Any, where: str) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        x = float(value)
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return repr(x)  # the shortest text that reads back to x, always with '.' or an exponent
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v, f'{where}.{k}')}" for k, v in value.items()) + " }"
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple, range)):
        return "[" + ", ".join(_value(v, f"{where}[{i}]") for i, v in enumerate(value)) + "]"
    raise TypeError(f"spec value '{where}' = {value!r} has type {type(value).__name__}; "
                    "allowed: a number, a boolean, a string, a list of these or a dict")
