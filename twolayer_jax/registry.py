"""Name → object tables (activations, losses, optimizers, gradients) share one lookup."""

from collections.abc import Mapping
from typing import TypeVar

T = TypeVar("T")


def lookup(table: Mapping[str, T], kind: str, name: str) -> T:
    """``table[name]``, or a one-line ``ValueError`` that names the ``kind`` and the choices."""
    try:
        return table[name]
    except KeyError:
        raise ValueError(f"unknown {kind} {name!r}; choose from {', '.join(table)}") from None
