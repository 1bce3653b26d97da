"""The JSON Canonicalization Scheme (RFC 8785): one byte string for one JSON value.

Keys are sorted by their UTF-16 code units, strings are escaped minimally and numbers are
written as ECMAScript writes an IEEE 754 double, so two parties that hold equal JSON get
equal bytes to hash and sign (the `eddsa-jcs-2022` cryptosuite signs these bytes).
"""

from __future__ import annotations

import json
import math
from typing import Any

from federation.errors import ValidationError

_SAFE_INTEGER = 2**53


def canonicalize(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 form of a JSON value (dicts, lists, str, numbers...)."""
    parts: list[str] = []
    _write(value, parts)
    try:
        return "".join(parts).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationError("JSON text holds a lone surrogate: it cannot be canonical") \
            from exc


def _write(value: Any, out: list[str]) -> None:
    if value is None or value is True or value is False:
        out.append({None: "null", True: "true", False: "false"}[value])
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, int):
        out.append(str(value) if abs(value) < _SAFE_INTEGER else number(float(value)))
    elif isinstance(value, float):
        out.append(number(value))
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    elif isinstance(value, dict):
        _write_object(value, out)
    else:
        raise ValidationError(f"not a JSON value: {type(value).__name__}")


def _write_object(value: dict[Any, Any], out: list[str]) -> None:
    if not all(isinstance(key, str) for key in value):
        raise ValidationError("JSON object keys are strings")
    out.append("{")
    for i, key in enumerate(sorted(value, key=lambda k: k.encode("utf-16-be",
                                                                  "surrogatepass"))):
        if i:
            out.append(",")
        out.append(json.dumps(key, ensure_ascii=False))
        out.append(":")
        _write(value[key], out)
    out.append("}")


def number(value: float) -> str:
    """A double as ECMAScript's Number.prototype.toString writes it (RFC 8785 3.2.2.3)."""
    if math.isnan(value) or math.isinf(value):
        raise ValidationError("NaN and Infinity are not JSON numbers")
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    # repr gives the shortest digits that round-trip, as ECMAScript requires.
    mantissa, _, exp = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    raw = whole + fraction
    lead = len(raw) - len(raw.lstrip("0"))
    point = len(whole) + int(exp or 0) - lead  # digits before the decimal point
    digits = raw[lead:].rstrip("0")
    k, n = len(digits), point
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * -n + digits
    else:
        e = n - 1
        head = digits[0] + ("." + digits[1:] if k > 1 else "")
        text = f"{head}e{'+' if e >= 0 else '-'}{abs(e)}"
    return sign + text
