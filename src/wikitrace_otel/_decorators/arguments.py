"""Call arguments as ``{parameter name: value}``, and any value as plain JSON data.

Only used when content capture is on and the span records, so nothing here runs on the
default path. The signature of each function is computed once, at its first captured call.
"""

from __future__ import annotations

import base64
import dataclasses
import inspect
import math
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any, Final

MAX_DEPTH: Final = 8
"""Deeper values (and reference cycles) become their ``str``."""
MAX_ITEMS: Final = 256
"""Containers keep their first items only; the JSON cap shortens further if needed."""
_MORE = "…[{} more]"
_SELF_NAMES = frozenset({"self", "cls"})
_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
_UNBOUND: Final = object()


class Binder:
    """Binds one function's call arguments to its parameter names.

    Args:
        fn: the function as written (not a wrapper).
        skip_first: the first parameter is a receiver (``cls`` of a classmethod). A first
            parameter named ``self`` or ``cls`` is skipped anyway.
    """

    __slots__ = ("_fn", "_skip_first", "_signature", "_skip")

    def __init__(self, fn: Callable[..., Any], skip_first: bool = False) -> None:
        self._fn = fn
        self._skip_first = skip_first
        self._signature: inspect.Signature | object | None = _UNBOUND
        self._skip: str | None = None

    def bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any] | None:
        """The arguments of one call by name, receiver left out and ``**kwargs`` flattened.

        Returns:
            None when the arguments do not fit the signature (the call itself will raise).
        """
        signature = self._get_signature()
        if signature is None:
            return {"args": list(args), "kwargs": kwargs} if kwargs else {"args": list(args)}
        try:
            bound = signature.bind(*args, **kwargs)  # type: ignore[attr-defined]
        except TypeError:
            return None
        arguments: dict[str, Any] = {}
        for name, value in bound.arguments.items():
            if name == self._skip:
                continue
            if signature.parameters[name].kind is inspect.Parameter.VAR_KEYWORD:  # type: ignore[attr-defined]
                arguments.update(value)
            else:
                arguments[name] = value
        return arguments

    def value(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """The value passed for parameter ``name`` in one call, or None when not passed."""
        if name in kwargs:
            return kwargs[name]
        signature = self._get_signature()
        if signature is None:
            return None
        for index, parameter in enumerate(signature.parameters.values()):  # type: ignore[attr-defined]
            if parameter.name == name:
                return args[index] if parameter.kind in _POSITIONAL and index < len(args) else None
        return None

    def has_parameter(self, name: str) -> bool:
        """True when the function declares a parameter called ``name``."""
        signature = self._get_signature()
        return signature is not None and name in signature.parameters  # type: ignore[attr-defined]

    def _get_signature(self) -> inspect.Signature | None:
        signature = self._signature
        if signature is _UNBOUND:
            try:
                signature = inspect.signature(self._fn)
            except (TypeError, ValueError):  # builtins and odd callables have none
                signature = None
            if signature is not None:
                self._skip = _receiver(signature, self._skip_first)
            self._signature = signature
        return signature  # type: ignore[return-value]


def _receiver(signature: inspect.Signature, skip_first: bool) -> str | None:
    first = next(iter(signature.parameters.values()), None)
    if first is None or first.kind not in _POSITIONAL:
        return None
    return first.name if skip_first or first.name in _SELF_NAMES else None


def json_safe(value: Any, depth: int = 0) -> Any:
    """``value`` as JSON data: dicts with str keys, lists, str, int, finite float, bool, None.

    Pydantic models are dumped, dataclasses become dicts, enums their value, bytes base64, and
    anything else its ``str``. Unknown iterables are never iterated (that could consume them).
    """
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if depth >= MAX_DEPTH:
        return _text(value)
    if isinstance(value, Mapping):
        return _mapping(value, depth)
    if isinstance(value, (list, tuple, set, frozenset)):
        return _sequence(value, depth)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Enum):
        return json_safe(value.value, depth + 1)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _mapping({f.name: getattr(value, f.name, None) for f in dataclasses.fields(value)}, depth)
    dump = getattr(value, "model_dump", None)
    if callable(dump) and not isinstance(value, type):
        try:
            return json_safe(dump(mode="json"), depth + 1)
        except Exception:  # noqa: BLE001 - a failing dump falls back to str()
            pass
    return _text(value)


def _mapping(value: Mapping[Any, Any], depth: int) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for index, (key, item) in enumerate(value.items()):
        if index == MAX_ITEMS:
            result["…"] = _MORE.format(len(value) - MAX_ITEMS)
            break
        result[key if isinstance(key, str) else _text(key)] = json_safe(item, depth + 1)
    return result


def _sequence(value: Any, depth: int) -> list[Any]:
    result = []
    for index, item in enumerate(value):
        if index == MAX_ITEMS:
            result.append(_MORE.format(len(value) - MAX_ITEMS))
            break
        result.append(json_safe(item, depth + 1))
    return result


def _text(value: Any) -> str:
    try:
        return str(value)
    except Exception:  # noqa: BLE001 - a broken __str__ must not break the call
        return f"<{type(value).__qualname__}>"
