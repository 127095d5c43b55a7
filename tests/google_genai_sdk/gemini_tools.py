"""A Python tool for automatic function calling tests. No ``from __future__ import annotations``
here: older SDK releases read the annotations as real types, not strings."""


def get_weather(city: str) -> str:
    """Current weather of a city."""
    return f"Sunny in {city}"
