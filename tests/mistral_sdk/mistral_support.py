"""Helpers of the Mistral SDK tests: the client class of either SDK layout, a sync/async
driver."""

from __future__ import annotations

import importlib
from operator import attrgetter
from typing import Any

from sdk_support import SdkDriver

MODEL = "mistral-small-fake"
EMBED_MODEL = "mistral-embed"
USER = [{"role": "user", "content": "Hello"}]
SCOPE = "wikitrace_otel.instrumentors.mistral"


def sdk_module(name: str) -> Any:
    """``mistralai.client.<name>`` (2.x on) or ``mistralai.<name>`` (1.x)."""
    try:
        return importlib.import_module(f"mistralai.client.{name}")
    except ImportError:
        return importlib.import_module(f"mistralai.{name}")


def mistral_class() -> type:
    """The SDK's ``Mistral`` client class."""
    try:
        return importlib.import_module("mistralai.client").Mistral  # type: ignore[no-any-return]
    except (ImportError, AttributeError):
        return importlib.import_module("mistralai").Mistral  # type: ignore[no-any-return]


def sdk_error_class() -> type:
    """The SDK's HTTP error class (``SDKError``, or its newer base)."""
    for name in ("client.errors", "models"):
        try:
            module = importlib.import_module(f"mistralai.{name}")
        except ImportError:
            continue
        return getattr(module, "MistralError", None) or module.SDKError  # type: ignore[no-any-return]
    raise ImportError("no mistralai error class")


class MistralSdk(SdkDriver):
    """A client used through its sync or its async methods, behind one awaitable interface."""

    async def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """``client.<method>(*args, **kwargs)``, or ``<method>_async`` awaited."""
        if self.is_async:
            return await attrgetter(f"{method}_async")(self.client)(*args, **kwargs)
        return attrgetter(method)(self.client)(*args, **kwargs)
