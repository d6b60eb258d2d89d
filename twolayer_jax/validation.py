"""Argument checks for the public API, each a line in the function it guards.

A check raises a ``TypeError`` when an argument is the wrong kind of value (a float where a count
belongs, a list where an array belongs) and a ``ValueError`` when it is the right kind but the
wrong shape or out of range. Every message names the argument, says what was expected and shows
what came: ``y must have shape (n, 1) like x's n = 21 rows, got (21,)``.

The checks work on traced values too: shapes and dtypes are static under ``jit`` and ``vmap`` and
are always checked; values (a width's range, a learning rate's sign) are checked only when they
are concrete, never on a tracer. A check reads Python attributes and, for small concrete values,
NumPy copies, so it adds no compiled work and runs once per trace inside a compiled program.

Counts are whole numbers: a Python ``int`` or a NumPy integer. A ``bool`` is refused (``True`` is
not a count) and so is every float, a whole one like ``3.0`` included: a float count is almost
always a computed value that went wrong, and JAX's shapes need ints anyway.
"""

import math
from collections.abc import Mapping, Sequence
from functools import cache
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

ARRAY_TYPES = (jax.Array, np.ndarray)  # jax.Array covers tracers
REAL_KINDS = "biuf"  # bool, signed and unsigned integers, floats (np.dtype.kind)
NUMBER_KINDS = "iuf"  # a hyper-parameter: a real number that is not a bool
WHOLE_KINDS = "iu"
SEED_LIMIT = 2**32  # seeds 0..2**32 - 1 draw distinct keys whether or not jax_enable_x64 is set


def is_traced(value) -> bool:
    """Whether ``value`` (or any leaf of it) is a tracer, whose values are unknown until it runs."""
    return any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree.leaves(value))


def is_key_dtype(dtype) -> bool:
    return jnp.issubdtype(dtype, jax.dtypes.prng_key)


def kind(dtype) -> str:
    """``dtype``'s kind as NumPy spells it ("b", "i", "u", "f", "c"), bfloat16 a float and a typed
    key "key"; anything else "other"."""
    if is_key_dtype(dtype):
        return "key"
    for kind_code, family in (("b", jnp.bool_), ("f", jnp.floating), ("c", jnp.complexfloating)):
        if jnp.issubdtype(dtype, family):
            return kind_code
    if jnp.issubdtype(dtype, jnp.signedinteger):
        return "i"
    return "u" if jnp.issubdtype(dtype, jnp.unsignedinteger) else "other"


def plain(values: Sequence) -> tuple:
    """``values`` as a tuple with NumPy scalars as Python numbers, to show in a message."""
    return tuple(value.item() if isinstance(value, np.generic) else value for value in values)


def describe(value) -> str:
    """What a value is, for the "got ..." of a message: its kind and, when short, itself."""
    if value is None:
        return "None"
    if isinstance(value, ARRAY_TYPES):
        traced = "traced " if isinstance(value, jax.core.Tracer) else ""
        if is_key_dtype(value.dtype):
            return f"a {traced}key array of shape {tuple(value.shape)}"
        return f"a {traced}array of shape {tuple(value.shape)} and dtype {value.dtype}"
    if isinstance(value, np.generic):
        return f"a NumPy {value.dtype} ({value.item()!r})"
    if isinstance(value, bool | int | float | complex | str):
        article = "an" if type(value).__name__[0] in "aeiou" else "a"
        return f"{article} {type(value).__name__} ({value!r})"
    if isinstance(value, list | tuple) and all(isinstance(v, int | float | np.number) for v in value):
        shown = repr(type(value)(plain(value)))
        if len(shown) <= 60:
            return f"a {type(value).__name__} {shown}"
    if isinstance(value, Sequence | Mapping):
        return f"a {type(value).__name__} of length {len(value)}"
    return f"a {type(value).__name__}"


class Interval(NamedTuple):
    """A range of real numbers, each end closed or open: ``str`` reads ``[0, 1)``."""

    low: float
    high: float
    low_closed: bool = True
    high_closed: bool = True

    def holds(self, values: np.ndarray) -> np.ndarray:
        above = values >= self.low if self.low_closed else values > self.low
        below = values <= self.high if self.high_closed else values < self.high
        return above & below

    def __str__(self) -> str:
        return (
            f"{'[' if self.low_closed else '('}{self.low:g}, {self.high:g}{']' if self.high_closed else ')'}"
        )


POSITIVE = Interval(0.0, math.inf, low_closed=False, high_closed=False)
NON_NEGATIVE = Interval(0.0, math.inf, high_closed=False)
FRACTION = Interval(0.0, 1.0, high_closed=False)


def is_whole(value) -> bool:
    """A Python int or a NumPy integer, and not a bool."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def whole_number(name: str, value, low: int = 1, high: int | None = None, expected: str | None = None) -> int:
    """``value`` as an int, if it is a whole number in ``low..high``; ``expected`` replaces the
    default description ("a whole number >= 1") in the message."""
    if expected is None:
        expected = f"a whole number >= {low}" if high is None else f"a whole number in {low}..{high}"
    if not is_whole(value):
        raise TypeError(f"{name} must be {expected}, got {describe(value)}")
    if value < low or (high is not None and value > high):
        raise ValueError(f"{name} must be {expected}, got {value}")
    return int(value)


def whole_numbers(name: str, value, count: int, expected: str, low: int = 1) -> tuple[int, ...]:
    """``value`` (a tuple, list or 1-D integer array) as a tuple of ``count`` whole numbers >= ``low``."""
    if isinstance(value, np.ndarray) and value.ndim == 1:
        value = tuple(value)
    if not isinstance(value, tuple | list):
        raise TypeError(f"{name} must be {expected}, got {describe(value)}")
    if not all(is_whole(number) for number in value):
        raise TypeError(f"{name} must be {expected}, got {plain(value)}")
    numbers = tuple(int(number) for number in value)
    if len(numbers) != count or min(numbers, default=low - 1) < low:
        raise ValueError(f"{name} must be {expected}, got {numbers}")
    return numbers


def seed_number(name: str, value) -> int:
    """A seed: a whole number in 0..2**32 - 1, the seeds that draw distinct keys in any mode."""
    return whole_number(name, value, low=0, high=SEED_LIMIT - 1)


def seeds(first_seed, count) -> None:
    """Seeds ``first_seed .. first_seed + count - 1``, count >= 1, all of them in 0..2**32 - 1."""
    first_seed = seed_number("first_seed", first_seed)
    room = SEED_LIMIT - first_seed
    whole_number(
        "count", count, high=room, expected=f"a whole number in 1..{room} (the last seed below 2**32)"
    )


def text(name: str, value, choices: Sequence[str]) -> str:
    """A str; the caller looks it up among ``choices``, which the message lists."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, one of {', '.join(choices)}, got {describe(value)}")
    return value


def optional_callable(name: str, value) -> None:
    if value is not None and not callable(value):
        raise TypeError(f"{name} must be None or callable, got {describe(value)}")


def array(name: str, value, expected: str, kinds: str = REAL_KINDS) -> tuple[tuple[int, ...], str]:
    """The shape and dtype kind of a NumPy or JAX array (traced or not) whose dtype is of one of
    ``kinds``. Lists are refused, as JAX's own functions refuse them: an array's shape and dtype
    must be its own, not guessed from nested Python values."""
    if not isinstance(value, ARRAY_TYPES) or kind(value.dtype) not in kinds:
        raise TypeError(f"{name} must be {expected}, got {describe(value)}")
    return tuple(value.shape), kind(value.dtype)


def data(x, y) -> None:
    """``x`` of shape (n, 2), n >= 1, and ``y`` of shape (n, 1): real-valued NumPy or JAX arrays."""
    x_shape, _ = array("x", x, "a NumPy or JAX array of real numbers, shape (n, 2)")
    if len(x_shape) != 2 or x_shape[1] != 2 or x_shape[0] < 1:
        raise ValueError(f"x must have shape (n, 2) with n >= 1 points, got {x_shape}")
    n = x_shape[0]
    y_shape, _ = array("y", y, f"a NumPy or JAX array of real numbers, shape (n, 1) like x's n = {n} rows")
    if y_shape != (n, 1):
        raise ValueError(f"y must have shape (n, 1) like x's n = {n} rows, got {y_shape}")


@cache
def raw_key_shape_of(implementation: str) -> tuple[int, ...]:
    """Keyed on the default implementation's name, so that changing it is seen."""
    return jax.eval_shape(lambda: jax.random.key_data(jax.random.key(0))).shape


def raw_key_shape() -> tuple[int, ...]:
    """The trailing shape of one raw uint32 key of the default PRNG: (2,) for threefry."""
    return raw_key_shape_of(str(jax.config.jax_default_prng_impl))


def key_batch_shape(name: str, value, expected: str) -> tuple[int, ...]:
    """The shape of the batch of keys ``value`` holds: a typed key array's own shape, or a raw
    uint32 key array's shape less its trailing key data (``jax.random.PRNGKey``'s format)."""
    if not isinstance(value, ARRAY_TYPES):
        raise TypeError(f"{name} must be {expected}, got {describe(value)}")
    if is_key_dtype(value.dtype):
        return tuple(value.shape)
    if value.dtype != np.uint32:
        raise TypeError(f"{name} must be {expected}, got {describe(value)}")
    raw = raw_key_shape()
    shape = tuple(value.shape)
    if shape[len(shape) - len(raw) :] != raw:
        raise ValueError(f"{name} must be {expected}; raw uint32 keys end in {raw}, got shape {shape}")
    return shape[: len(shape) - len(raw)]


def single_key(name: str, value) -> None:
    """One PRNG key: ``jax.random.key(seed)`` (shape ()) or a raw uint32 ``PRNGKey`` (shape (2,))."""
    expected = "one JAX PRNG key (from jax.random.key)"
    if key_batch_shape(name, value, expected) != ():
        raise ValueError(f"{name} must be {expected}, got {describe(value)}")


def many_keys(name: str, value) -> int:
    """S >= 1 PRNG keys, one per run: a key array of shape (S,) (raw uint32 keys: (S, 2)). Returns S."""
    expected = "a JAX key array of shape (S,) with S >= 1 (from seed_keys or jax.random.split)"
    shape = key_batch_shape(name, value, expected)
    if len(shape) != 1 or shape[0] < 1:
        raise ValueError(f"{name} must be {expected}, got {describe(value)}")
    return shape[0]


def number_spec(value) -> tuple[tuple[int, ...], str] | None:
    """The shape and dtype kind of a number or an array; None for anything else."""
    if isinstance(value, bool | np.bool_):
        return (), "b"
    if isinstance(value, int | float):
        return (), "i" if isinstance(value, int) else "f"
    if isinstance(value, np.generic | np.ndarray | jax.Array):
        return tuple(value.shape), kind(value.dtype)
    return None


def numbers(name: str, value, interval: Interval, runs: int | None) -> None:
    """A hyper-parameter: a real number (Python, NumPy or JAX; not a bool), for one run or shared by
    all, or, when ``runs`` is S, an array of shape (S,), one per run. Concrete values must be
    finite and inside ``interval``."""
    shapes = [()] if runs is None else [(), (runs,)]
    wanted = "a real number" if runs is None else f"a real number or an array of shape (S,) = ({runs},)"
    spec = number_spec(value)
    if spec is None or spec[1] not in NUMBER_KINDS:
        raise TypeError(f"{name} must be {wanted}, got {describe(value)}")
    if spec[0] not in shapes:
        one_run = " (one run: vmap it, or use train_many, for one value per run)" if runs is None else ""
        raise ValueError(f"{name} must be {wanted}{one_run}, got shape {spec[0]}")
    if is_traced(value):
        return
    values = np.asarray(value, np.float64).reshape(-1)
    bad = ~np.isfinite(values)
    if bad.any():
        raise ValueError(f"{name} must be finite, got {values[bad][0]}")
    outside = ~interval.holds(values)
    if outside.any():
        raise ValueError(f"{name} must be in {interval}, got {values[outside][0]:g}")


def whole_array_spec(value) -> tuple[tuple[int, ...], str] | None:
    """The shape and kind of an array, or of a tuple or list of numbers or of equal-length rows
    of them (possibly traced); None when it is none of these."""
    if isinstance(value, tuple | list):
        parts = [whole_array_spec(item) for item in value]
        if not parts or None in parts or len({shape for shape, _ in parts}) != 1:
            return None
        shape = (len(parts), *parts[0][0])
        kinds = {part_kind for _, part_kind in parts}
        if kinds <= set(WHOLE_KINDS):  # integers of any size and signedness mix freely
            return shape, "i"
        return shape, kinds.pop() if len(kinds) == 1 else "mixed"
    return number_spec(value)


def widths(name: str, value, hidden: tuple[int, int], runs: int | None) -> None:
    """None, a pair ``(w1, w2)`` of whole numbers, or, when ``runs`` is S, an (S, 2) array of them
    (one row per run); each concrete width in 1..its layer's width in ``hidden``."""
    if value is None:
        return
    expected = "None or a pair of whole numbers (w1, w2)"
    if runs is not None:
        expected += f", or an (S, 2) = ({runs}, 2) array of them, one row per run"
    spec = whole_array_spec(value)
    if spec is None or spec[1] not in WHOLE_KINDS:
        raise TypeError(f"{name} must be {expected}, got {describe(value)}")
    if spec[0] != (2,) and (runs is None or spec[0] != (runs, 2)):
        raise ValueError(f"{name} must be {expected}, got shape {spec[0]}")
    if is_traced(value):
        return
    rows = np.asarray(value).reshape(-1, 2)
    outside = ~((rows >= 1) & (rows <= np.asarray(hidden))).all(axis=1)
    if outside.any():
        row = int(np.argmax(outside))
        where = f" in row {row}" if np.ndim(value) == 2 else ""
        got = tuple(int(width) for width in rows[row])
        raise ValueError(f"{name} must be whole numbers in 1..hidden = {tuple(hidden)}, got {got}{where}")


def array_tree(name: str, tree, shapes: Mapping[str, tuple[int, ...]], kinds: str, what: str) -> None:
    """A dict with exactly the keys of ``shapes``, each a NumPy or JAX array of that shape whose
    dtype is of one of ``kinds``; ``what`` names such an array in messages ("floating")."""
    layout = ", ".join(f"{key} {shape}" for key, shape in shapes.items())
    if not isinstance(tree, Mapping):
        raise TypeError(f"{name} must be a dict of {what} arrays: {layout}; got {describe(tree)}")
    if set(tree) != set(shapes):
        got = ", ".join(map(str, tree))
        raise ValueError(f"{name} must have exactly the keys {', '.join(shapes)}, got {got or 'none'}")
    for key, shape in shapes.items():
        leaf_shape, _ = array(f"{name}[{key!r}]", tree[key], f"a {what} array of shape {shape}", kinds)
        if leaf_shape != shape:
            raise ValueError(f"{name}[{key!r}] must have shape {shape} ({layout}), got {leaf_shape}")
