"""The lab's backward-pass terms, in one table: the key a backward pass returns each under, the
symbol the checkers print, and the equation that computes it, in the order the pass computes
them (layer 3 down to layer 1, each layer's δ first). Every checker, its hints and its tests
read the names, the order and the equations from here.
"""

import math
from typing import NamedTuple

from manual import Deltas
from twolayer_jax.model import PARAM_NAMES


class Term(NamedTuple):
    key: str  # as returned by a backward pass: a parameter's name, or deltaK
    symbol: str
    equation: str


TERMS = (
    Term("delta3", "δ3", "δ3 = ∂L/∂y_pred ⊙ σ'(x3) with ∂L/∂y_pred = (2/n)(y_pred − y)"),
    Term("W3", "∂W3", "∂W3 = z2ᵀ·δ3"),
    Term("b3", "∂b3", "∂b3 = Σ_rows δ3"),
    Term("delta2", "δ2", "δ2 = (δ3·W3ᵀ) ⊙ σ'(x2)"),
    Term("W2", "∂W2", "∂W2 = z1ᵀ·δ2"),
    Term("b2", "∂b2", "∂b2 = Σ_rows δ2"),
    Term("delta1", "δ1", "δ1 = (δ2·W2ᵀ) ⊙ σ'(x1)"),
    Term("W1", "∂W1", "∂W1 = xᵀ·δ1"),
    Term("b1", "∂b1", "∂b1 = Σ_rows δ1"),
)
# the conv model's layer 2 has a kernel where the dense model has W2 (manual/conv.py)
CONV_KERNEL = Term("K2", "∂K2", "∂K2[c, 0, j] = Σ_n,i δ2[n, c, i]·ẑ1[n, i + j]")

BACKWARD_ORDER = tuple(term.key for term in TERMS)
PARAM_KEYS = PARAM_NAMES  # the dense model's parameters, layer 1 first
DELTA_KEYS = Deltas._fields  # delta1, delta2, delta3
SYMBOLS = {term.key: term.symbol for term in (*TERMS, CONV_KERNEL)}
EQUATIONS = {term.key: term.equation for term in (*TERMS, CONV_KERNEL)}


def accepted_shapes(term: str, expected: tuple[int, ...]) -> set[tuple[int, ...]]:
    """The shapes that hold ``term``'s values unambiguously: a bias as (h,), (1, h) or (h, 1),
    and ∂W3, one column, as (h2, 1) or (h2,). A weight matrix is never reshaped, so a transposed
    ∂W stays wrong (∂W3 as (1, h2) included)."""
    if term.startswith("b"):
        units = math.prod(expected)  # a bias given as a column (the column convention) too
        return {(units,), (1, units), (units, 1)}
    if term == "W3":
        return {expected, expected[:1]}
    return {expected}
