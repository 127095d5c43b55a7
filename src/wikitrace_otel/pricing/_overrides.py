"""Per-model prices given by the user: a dict, a JSON or TOML file, or the file ``WIKITRACE_PRICES`` names.

The format is one entry per model, keyed by ``"model"`` (any provider) or ``"provider/model"``
(``provider`` being a ``gen_ai.provider.name`` value), with USD per million tokens::

    {"gpt-4o": {"input": 2.5, "output": 10, "cache_read": 1.25},
     "azure.ai.openai/my-deployment": {"input": 2.0, "output": 8.0}}

TOML files hold the same entries as tables (``["azure.ai.openai/my-deployment"]``). ``input``
and ``output`` are required (use 0 for the output of an embeddings model); ``cache_read``,
``cache_write`` and ``reasoning`` default to the input and output rates.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from wikitrace_otel import environment_variables as env
from wikitrace_otel.pricing._price import ModelPrice

PRICES_ENV: Final = env.WIKITRACE_PRICES
"""Environment variable naming a JSON or TOML file of price overrides."""

_REQUIRED = ("input", "output")
_OPTIONAL = ("cache_read", "cache_write", "reasoning")
_FIELDS = frozenset(_REQUIRED + _OPTIONAL)

Overrides = Mapping[str, Mapping[str, float]] | str | os.PathLike[str]
"""What ``PriceTable(overrides=...)`` and ``CostSpanProcessor(prices=...)`` accept."""


def load_overrides(overrides: Overrides | None) -> dict[str, ModelPrice]:
    """Parse explicit overrides, or the file named by ``WIKITRACE_PRICES`` when there are none.

    Explicit overrides replace the environment variable entirely (argument, then environment).

    Returns:
        Lower-case ``"model"`` / ``"provider/model"`` keys to prices.

    Raises:
        ValueError: the overrides or their file are unreadable or malformed; the message names
            the file (or ``prices``) and the entry at fault.
    """
    if overrides is None:
        path = os.environ.get(PRICES_ENV, "").strip()
        if not path:
            return {}
        return _parse(_read_file(Path(path), f"{PRICES_ENV}={path}"), f"{PRICES_ENV}={path}")
    if isinstance(overrides, (str, os.PathLike)):
        path = Path(overrides)
        return _parse(_read_file(path, str(path)), str(path))
    if isinstance(overrides, Mapping):
        return _parse(overrides, "prices")
    raise ValueError(f"prices={overrides!r}: expected a dict of model prices or the path of a JSON or TOML file")


def _read_file(path: Path, source: str) -> Any:
    suffix = path.suffix.lower()
    if suffix not in (".json", ".toml"):
        raise ValueError(f"{source}: price overrides must be a .json or .toml file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"{source}: cannot read price overrides: {exc.strerror or exc}") from None
    if suffix == ".json":
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise ValueError(f"{source}: not valid JSON: {exc}") from None
    return _parse_toml(raw, source)


def _parse_toml(raw: bytes, source: str) -> Any:
    try:
        import tomllib  # Python 3.11+
    except ImportError:  # Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ImportError:
            raise ValueError(
                f"{source}: reading TOML needs Python 3.11+ or the 'tomli' package; use a .json file instead"
            ) from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{source}: not valid TOML: {exc}") from None


def _parse(data: Any, source: str) -> dict[str, ModelPrice]:
    if not isinstance(data, Mapping):
        raise ValueError(f"{source}: expected a table of model prices, got {type(data).__name__}")
    prices: dict[str, ModelPrice] = {}
    for key, entry in data.items():
        if not isinstance(key, str) or not key.strip():
            raise ValueError(f"{source}: model names must be non-empty strings, got {key!r}")
        name = key.strip().lower()
        prices[name] = _entry(entry, f"{source}: {key!r}", name)
    return prices


def _entry(entry: Any, where: str, name: str) -> ModelPrice:
    if not isinstance(entry, Mapping):
        raise ValueError(f"{where}: expected a table like {{'input': 2.5, 'output': 10}}, got {entry!r}")
    unknown = sorted(str(k) for k in entry if k not in _FIELDS)
    if unknown:
        raise ValueError(f"{where}: unknown price field(s) {unknown}; known: {sorted(_FIELDS)}")
    missing = [k for k in _REQUIRED if k not in entry]
    if missing:
        raise ValueError(f"{where}: missing {missing} (USD per million tokens; use 0 for an embeddings output)")
    rates = {k: _rate(entry[k], f"{where}.{k}") for k in entry}
    return ModelPrice(**rates, source="override", matched=name)


def _rate(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{where}: expected a non-negative number of USD per million tokens, got {value!r}")
    return float(value)
