"""How a hand-written backward pass is compared with the references, term by term.

Relative errors are per tensor, ``‖a − b‖ / max(‖a‖, ‖b‖)``, read as cs231n reads them: in float64
≲ 1e-7 is right and ≳ 1e-2 is a real mistake. Each term is compared with ``jax.grad`` and with
centred finite differences (:mod:`twolayer_jax.gradients`), each delta with the autodiff deltas.
"""

import itertools
import math
from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.typing import ArrayLike

from manual import Deltas
from twolayer_jax.checks.terms import DELTA_KEYS
from twolayer_jax.gradients import (
    autodiff_gradient,
    finite_difference_gradient,
    network_loss,
    reference_deltas,
)
from twolayer_jax.model import Params, conv_layer_shapes, layer_shapes
from twolayer_jax.network import Network


def relative_error(a: ArrayLike, b: ArrayLike, floor: float = 0.0) -> float:
    """``‖a − b‖ / max(‖a‖, ‖b‖, floor)`` over the whole tensor; 0 when both are zero, inf when
    the shapes differ (a learner's tensor of the wrong shape is wrong, however close its values)
    or when either holds a NaN or an infinity, so that no comparison ``error <= tolerance`` can
    pass a tensor that is not a finite number. Both are divided by their largest entry first:
    the ratio is unchanged, and entries near the float64 limit cannot overflow the norms.
    The floor keeps a gradient that is exactly zero (a dead ReLU output) from turning finite
    differences' rounding noise into a relative error of 1. Computed on the host in float64,
    where the difference of two float32 arrays is exact and no small program is compiled per
    shape."""
    if np.shape(a) != np.shape(b):
        return math.inf
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return math.inf
    largest = max(np.abs(a).max(initial=0.0), np.abs(b).max(initial=0.0))
    if largest == 0:
        return 0.0
    a, b = a / largest, b / largest
    scale = max(np.linalg.norm(a), np.linalg.norm(b), floor / largest)
    return float(np.linalg.norm(a - b) / scale)


# (batch size, (h1, h2)) of the random problems, cycled: batch 1, non-square widths in both orders
DENSE_SHAPES = ((1, (3, 5)), (7, (6, 2)), (33, (9, 4)), (4, (1, 8)), (12, (5, 5)))
# (batch size, h1, channels, kernel width) of the conv model's problems: odd and even kernels
# (an even one pads unevenly), one channel and several, a width-1 kernel
CONV_SHAPES = ((1, 6, 2, 3), (5, 7, 3, 4), (9, 5, 1, 1), (3, 8, 2, 6))


class Problem(NamedTuple):
    params: Params
    x: Array  # (n, 2)
    y: Array  # (n, 1), 0 or 1


def random_problem(
    key: Array, n: int, hidden: tuple[int, int], dtype=jnp.float64, shapes: dict | None = None
) -> Problem:
    """Random weights (scaled by fan-in), non-zero biases, inputs and 0/1 targets: a point where
    every term of the backward pass is non-trivial. ``shapes`` (e.g. ``conv_layer_shapes(...)``)
    replaces the dense model's. One draw, cut into pieces (cheap to compile)."""
    params_shapes = shapes or layer_shapes(hidden)
    all_shapes = {**params_shapes, "x": (n, 2), "y": (n, 1)}
    sizes = [math.prod(shape) for shape in all_shapes.values()]
    draws = jnp.split(jax.random.normal(key, (sum(sizes),), dtype), list(itertools.accumulate(sizes))[:-1])
    values = {
        name: draw.reshape(shape) for (name, shape), draw in zip(all_shapes.items(), draws, strict=True)
    }
    params = {name: values[name] * parameter_scale(name, shape) for name, shape in params_shapes.items()}
    return Problem(params, values["x"], (values["y"] > 0).astype(dtype))


def parameter_scale(name: str, shape: tuple[int, ...]) -> float:
    """1/√fan-in for weights (a kernel's fan-in is its width), 0.5 for biases."""
    if name.startswith("W"):
        return 1 / math.sqrt(shape[0])
    if name.startswith("K"):
        return 1 / math.sqrt(math.prod(shape[1:]))
    return 0.5


class Tolerance(NamedTuple):
    analytic: float  # hand-written vs jax.grad: both exact, so only rounding separates them
    finite_difference: float  # either vs centred differences, which carry O(h²) + rounding/h error
    step: float  # the finite-difference step h, near the best trade-off for the dtype
    # a norm below which finite differences are compared absolutely: their rounding noise, about
    # ε·L/h per element, would otherwise read as a relative error of 1 on an exactly-zero gradient
    noise_floor: float


# Measured on random problems: float64 analytic ≈ 1e-15 and finite differences ≤ 6e-8; float32
# analytic ≈ 1e-7 and finite differences ≤ 4e-3 for smooth activations, up to 4e-2 where the
# step of 1e-2 crosses a ReLU kink (in float32 the analytic column is the one that decides). A
# real mistake (σ' of the pre-activation, a dropped 2/n, a missing σ') gives errors from 1e-2 up.
TOLERANCES: dict[str, Tolerance] = {
    "float64": Tolerance(analytic=1e-10, finite_difference=1e-6, step=1e-5, noise_floor=1e-5),
    "float32": Tolerance(analytic=1e-5, finite_difference=1e-1, step=1e-2, noise_floor=1e-2),
}

# BackwardFn: the contract of ``manual.backward_with_deltas``
BackwardFn = Callable[[Params, Array, Array, Network], tuple[Params, Deltas]]
COLUMNS = ("manual vs jax.grad", "manual vs finite diff", "jax.grad vs finite diff")


class TermCheck(NamedTuple):
    errors: dict[str, float]  # comparison (one of COLUMNS) → relative error
    note: str = ""  # why a term could not be compared at all (a missing term, a wrong shape)


def compare(
    mine, reference: Array, columns: tuple[str, ...], numeric: Array | None = None, floor=0.0
) -> TermCheck:
    """``mine`` against ``reference``, and both against ``numeric`` finite differences if given."""
    if mine is None or jnp.shape(mine) != reference.shape:
        found = "nothing" if mine is None else f"shape {tuple(jnp.shape(mine))}"
        return TermCheck(dict.fromkeys(columns, math.inf), f"expected shape {reference.shape}, got {found}")
    errors = [relative_error(mine, reference)]
    if numeric is not None:
        errors += [relative_error(mine, numeric, floor), relative_error(reference, numeric, floor)]
    return TermCheck(dict(zip(columns, errors, strict=True)))


@partial(jax.jit, static_argnums=(1, 2))
def reference_gradients(problem: Problem, network: Network, step: float):
    """``jax.grad``'s gradients, finite differences and the reference deltas of one problem, in
    one compiled program (cached per shape and network)."""
    autodiff_grads, _ = autodiff_gradient(network)(*problem)
    loss_of = network_loss(network)
    numeric = finite_difference_gradient(lambda p: loss_of(p, problem.x, problem.y), problem.params, step)
    return autodiff_grads, numeric, reference_deltas(*problem, network)._asdict()


@partial(jax.jit, static_argnums=(1, 2))
def hand_written_terms(problem: Problem, backward_fn: BackwardFn, network: Network):
    """The checked pass's gradients and deltas, as one dict."""
    grads, deltas = backward_fn(*problem, network)
    return grads | deltas._asdict()


def backward_order(params: Params) -> list[str]:
    """Parameter names in the order the backward pass reaches them: layer 3, 2, 1, weight first."""
    return sorted(params, key=lambda name: (-int(name[-1]), name.startswith("b")))


def compare_terms(
    returned: dict, problem: Problem, network: Network, tolerance: Tolerance
) -> dict[str, TermCheck]:
    """Every parameter gradient of ``returned`` (vs ``jax.grad`` and finite differences) and every
    delta (vs :func:`reference_deltas`) of one problem, keyed ``"W3", "b3", ..., "delta3", ...``;
    a term missing from ``returned`` fails with a note."""
    autodiff_grads, numeric, deltas = reference_gradients(problem, network, tolerance.step)
    floor = tolerance.noise_floor
    checks = {
        name: compare(returned.get(name), autodiff_grads[name], COLUMNS, numeric[name], floor)
        for name in backward_order(problem.params)
    }
    for name in DELTA_KEYS[::-1]:
        checks[name] = compare(returned.get(name), deltas[name], COLUMNS[:1])
    return checks


def check_terms(
    backward_fn: BackwardFn, problem: Problem, network: Network, tolerance: Tolerance
) -> dict[str, TermCheck]:
    """:func:`compare_terms` of ``backward_fn``'s own answer, computed in this process."""
    return compare_terms(hand_written_terms(problem, backward_fn, network), problem, network, tolerance)


def passes(check: TermCheck, tolerance: Tolerance) -> bool:
    limits = dict(zip(COLUMNS, (tolerance.analytic, tolerance.finite_difference, tolerance.finite_difference),
                      strict=True))  # fmt: skip
    return not check.note and all(error <= limits[column] for column, error in check.errors.items())


def worst_case(checks: list[dict[str, TermCheck]]) -> dict[str, TermCheck]:
    """Per term, the largest error of each comparison over all problems (and any note)."""
    merged = {}
    for name in checks[0]:
        errors = {column: max(c[name].errors[column] for c in checks) for column in checks[0][name].errors}
        notes = sorted({c[name].note for c in checks if c[name].note})
        merged[name] = TermCheck(errors, "; ".join(notes))
    return merged


def checked_problems(count: int, seed: int, dtype: str) -> tuple[list[Problem], list[Problem], str]:
    """Dense and conv problems, cycling through their shapes, and a line describing them."""
    keys = jax.random.split(jax.random.key(seed), 2 * count)
    dense = [DENSE_SHAPES[i % len(DENSE_SHAPES)] for i in range(count)]
    conv = [CONV_SHAPES[i % len(CONV_SHAPES)] for i in range(count)]
    dense_problems = [
        random_problem(k, n, hidden, dtype) for k, (n, hidden) in zip(keys[:count], dense, strict=True)
    ]
    conv_problems = [
        random_problem(k, n, (h1, h1), dtype, conv_layer_shapes(h1, channels, width))
        for k, (n, h1, channels, width) in zip(keys[count:], conv, strict=True)
    ]
    dense_text = [f"batch {n} with widths {h1} and {h2}" for n, (h1, h2) in dense]
    conv_text = [f"batch {n} with h1 {h1}, {c} channels and kernel {k}" for n, h1, c, k in conv]
    description = f"dense: {', '.join(dense_text)}; conv: {', '.join(conv_text)}"
    return dense_problems, conv_problems, description
