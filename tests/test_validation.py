"""The public functions refuse bad arguments with a TypeError (wrong kind of value) or a ValueError
(wrong shape or range) that names the argument, and keep accepting what they accepted before:
NumPy or JAX arrays, Python or NumPy numbers, raw uint32 keys, traced values under jit and vmap.

The named cases pin one message per mistake; the hypothesis tests throw random wrong values at
each argument (an independent statement of the rules, below, says which values are wrong) and
random valid small inputs at the functions, which must run. Every run here uses one small config,
so the few programs it compiles are reused across examples."""

import contextlib
import dataclasses
import math
import re

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from twolayer_jax import data
from twolayer_jax.config import TrainConfig
from twolayer_jax.many_runs import seed_keys, train_many
from twolayer_jax.model import init_conv_params, init_params, layer_shapes, width_masks
from twolayer_jax.network import Network
from twolayer_jax.one_run import make_fit, make_train
from twolayer_jax.optimizers import HPARAM_RANGES, OPTIMIZERS, HParams

CONFIG = TrainConfig(epochs=1, hidden=(3, 3))  # every run of this file: one epoch, tiny layers
N = 5  # points of the random datasets
X = np.linspace(0.0, 1.0, 2 * N).reshape(N, 2)
Y = (X[:, :1] > X[:, 1:]).astype(np.float64)
XOR = data.xor_easy()
KEYS = seed_keys(0, 2)
TRAIN = jax.jit(make_train(CONFIG))


@contextlib.contextmanager
def refused(error: type[Exception], name: str, match: str | None = None):
    """Expects an ``error`` whose message names ``name`` (as a word) and, if given, matches ``match``."""
    with pytest.raises(error) as raised:
        yield
    assert_names(raised, name)
    if match is not None:
        assert re.search(match, str(raised.value)), (match, str(raised.value))


def assert_names(error: pytest.ExceptionInfo, name: str) -> None:
    """The message holds ``name`` as a word of its own: "x" in "x's n" but not in "max"."""
    assert re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", str(error.value)), (name, str(error.value))


# -- one named case per mistake ---------------------------------------------------------------


def test_widths_wider_than_hidden_are_refused():
    with refused(
        ValueError,
        "widths",
        re.escape("widths must be whole numbers in 1..hidden = (100, 100), got (120, 3)"),
    ):
        train_many(TrainConfig(epochs=1), KEYS, HParams(), XOR.x, XOR.y, widths=(120, 3))


@pytest.mark.parametrize(
    "widths", [(0, 3), (2, -1), np.array([[1, 1], [1, 0]])], ids=["zero", "negative", "row"]
)
def test_widths_of_zero_or_below_are_refused(widths):
    with refused(ValueError, "widths", r"in 1\.\.hidden = \(3, 3\)"):
        train_many(CONFIG, KEYS, HParams(), X, Y, widths=widths)


@pytest.mark.parametrize(
    "widths", [(2.0, 3), np.array([2.5, 3.0]), (True, 2), "23"], ids=["float", "array", "bool", "str"]
)
def test_widths_that_are_not_whole_numbers_are_refused(widths):
    with refused(TypeError, "widths", "pair of whole numbers"):
        train_many(CONFIG, KEYS, HParams(), X, Y, widths=widths)


def test_widths_of_the_wrong_shape_are_refused():
    with refused(ValueError, "widths", r"\(S, 2\) = \(2, 2\).*got shape \(3, 2\)"):
        train_many(CONFIG, KEYS, HParams(), X, Y, widths=np.ones((3, 2), int))
    with refused(ValueError, "widths", r"got shape \(2, 2\)"):
        make_train(CONFIG)(KEYS[0], HParams(), X, Y, np.ones((2, 2), int))  # one run: a pair only


@pytest.mark.parametrize(
    ("options", "name", "error"),
    [
        ({"hidden": (100.5, 3)}, "hidden", TypeError),
        ({"hidden": (True, 3)}, "hidden", TypeError),
        ({"hidden": 100}, "hidden", TypeError),
        ({"hidden": (4, 4, 4)}, "hidden", ValueError),
        ({"epochs": 2.5}, "epochs", TypeError),
        ({"epochs": 3.0}, "epochs", TypeError),  # a whole float is still refused (validation.py says why)
        ({"epochs": True}, "epochs", TypeError),
        ({"epochs": "5"}, "epochs", TypeError),
        ({"epochs": 2**31}, "epochs", ValueError),  # the epoch counter is an int32
        ({"channels": 0}, "channels", ValueError),
        ({"kernel_size": 2.0}, "kernel_size", TypeError),
        ({"dtype": np.float32}, "dtype", TypeError),
        ({"optimizer": ["sgd"]}, "optimizer", TypeError),
        ({"optimizer_impl": "numpy"}, "optimizer_impl", ValueError),
        ({"grad": None}, "grad", TypeError),
        ({"model": "rnn"}, "model", ValueError),
    ],
)
def test_a_config_field_of_the_wrong_type_or_range_is_refused(options, name, error):
    with refused(error, name, "got|unknown"):
        TrainConfig(**options)


def test_a_config_takes_numpy_integers_and_stays_frozen_and_hashable():
    config = TrainConfig(
        epochs=np.int32(7), hidden=np.array([3, 4]), channels=np.uint8(2), kernel_size=np.int64(3)
    )
    assert config == TrainConfig(epochs=7, hidden=(3, 4), channels=2, kernel_size=3)
    assert hash(config) == hash(TrainConfig(epochs=7, hidden=(3, 4), channels=2, kernel_size=3))
    assert type(config.epochs) is int and all(type(width) is int for width in config.hidden)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.epochs = 8


def test_zero_keys_are_refused():
    with refused(ValueError, "keys", r"shape \(S,\) with S >= 1"):
        train_many(CONFIG, seed_keys(0, 1)[:0], HParams(), X, Y)


@pytest.mark.parametrize(
    "keys",
    [list(KEYS), (0, 1), np.arange(2), jnp.zeros(2, jnp.int32), None],
    ids=["list", "tuple", "int-array", "int32-array", "none"],
)
def test_keys_that_are_not_a_key_array_are_refused(keys):
    with refused(TypeError, "keys", "from seed_keys or jax.random.split"):
        train_many(CONFIG, keys, HParams(), X, Y)


def test_keys_as_a_list_say_so():
    with pytest.raises(
        TypeError, match=r"^keys must be a JAX key array of shape \(S,\) with S >= 1 .*got a list"
    ):
        train_many(CONFIG, list(KEYS), HParams(), X, Y)


@pytest.mark.parametrize(
    "keys", [seed_keys(0, 4).reshape(2, 2), jax.random.key_data(KEYS)[:, :1], jax.random.key_data(KEYS)[0]]
)
def test_keys_of_the_wrong_shape_are_refused(keys):
    with refused(ValueError, "keys"):
        train_many(CONFIG, keys, HParams(), X, Y)


@pytest.mark.parametrize(
    ("chunk_size", "error"),
    [(-1, ValueError), (0, ValueError), (2.0, TypeError), (True, TypeError), ("4", TypeError)],
)
def test_a_chunk_size_that_is_not_a_positive_whole_number_is_refused(chunk_size, error):
    with refused(error, "chunk_size", ">= 1"):
        train_many(CONFIG, KEYS, HParams(), X, Y, chunk_size=chunk_size)


def test_labels_of_shape_n_are_refused_with_the_expected_shape():
    with pytest.raises(
        ValueError, match=re.escape("y must have shape (n, 1) like x's n = 21 rows, got (21,)")
    ):
        train_many(CONFIG, KEYS, HParams(), XOR.x, XOR.y[:, 0])


@pytest.mark.parametrize(
    ("x", "y", "name", "error"),
    [
        (XOR.x[:, :1], XOR.y, "x", ValueError),
        (XOR.x[:0], XOR.y[:0], "x", ValueError),
        (XOR.x.tolist(), XOR.y, "x", TypeError),
        (XOR.x.astype(complex), XOR.y, "x", TypeError),
        (XOR.x.astype(str), XOR.y, "x", TypeError),
        (XOR.x, XOR.y[:20], "y", ValueError),
        (XOR.x, XOR.y.T, "y", ValueError),
        (XOR.x, None, "y", TypeError),
    ],
    ids=["one-column", "no-rows", "list", "complex", "str", "rows", "transposed", "none"],
)
def test_data_of_the_wrong_shape_or_type_is_refused(x, y, name, error):
    with refused(error, name):
        train_many(CONFIG, KEYS, HParams(), x, y)
    with refused(error, name):
        make_train(CONFIG)(KEYS[0], HParams(), x, y)


@pytest.mark.parametrize(
    ("hparams", "name", "error", "match"),
    [
        (HParams(lr=math.nan), "hparams.lr", ValueError, "finite"),
        (HParams(b2=np.array([0.9, math.inf])), "hparams.b2", ValueError, "finite"),
        (HParams(lr=-0.5), "hparams.lr", ValueError, r"in \(0, inf\)"),
        (HParams(lr=0), "hparams.lr", ValueError, r"in \(0, inf\)"),
        (HParams(momentum=1.0), "hparams.momentum", ValueError, r"in \[0, 1\)"),
        (HParams(eps=0.0), "hparams.eps", ValueError, r"in \(0, inf\)"),
        (HParams(weight_decay=-1e-4), "hparams.weight_decay", ValueError, r"in \[0, inf\)"),
        (HParams(lr=True), "hparams.lr", TypeError, "real number"),
        (HParams(lr="0.1"), "hparams.lr", TypeError, "real number"),
        (HParams(lr=[0.1, 0.2]), "hparams.lr", TypeError, "real number"),
        (HParams(lr=1j), "hparams.lr", TypeError, "real number"),
        (HParams(lr=None), "hparams.lr", TypeError, "real number"),
        (HParams(decay=np.ones((2, 1))), "hparams.decay", ValueError, r"shape \(S,\) = \(2,\)"),
        (HParams(lr=np.ones(3)), "hparams.lr", ValueError, r"got shape \(3,\)"),
        (HParams(lr=np.ones(1)), "hparams.lr", ValueError, r"got shape \(1,\)"),
        ((1.0, 0.9, 0.9, 0.999, 1e-8, 0.9, 1e-4), "hparams", TypeError, "HParams"),
        ({"lr": 1.0}, "hparams", TypeError, "HParams"),
    ],
)
def test_hyper_parameters_that_are_not_finite_in_range_numbers_are_refused(hparams, name, error, match):
    with refused(error, name, match):
        train_many(CONFIG, KEYS, hparams, X, Y)


def test_train_checks_its_arguments_before_drawing_initial_params(monkeypatch):
    train = make_train(CONFIG)
    monkeypatch.setattr(TrainConfig, "architecture", property(lambda _: pytest.fail("params drawn first")))
    for arguments, name in [((KEYS, HParams(), X, Y), "key"), ((KEYS[0], HParams(), X, Y[:, 0]), "y")]:
        with refused(ValueError, name):
            train(*arguments)


def test_one_run_takes_one_value_per_hyper_parameter():
    with refused(ValueError, "hparams.lr", "vmap it, or use train_many"):
        make_train(CONFIG)(KEYS[0], HParams(lr=np.ones(2)), X, Y)


@pytest.mark.parametrize(
    ("options", "name"), [({"grad_fn": "manual"}, "grad_fn"), ({"progress": 100}, "progress")]
)
def test_hooks_that_are_not_callable_are_refused(options, name):
    with refused(TypeError, name, "callable"):
        train_many(CONFIG, KEYS, HParams(), X, Y, **options)
    if name == "grad_fn":  # one run has no progress hook: its whole run is one program
        with refused(TypeError, name, "callable"):
            make_fit(CONFIG, **options)


@pytest.mark.parametrize("config", [{"epochs": 1}, None, "lab"], ids=["dict", "none", "str"])
def test_a_config_that_is_not_a_train_config_is_refused(config):
    with refused(TypeError, "config", "TrainConfig"):
        train_many(config, KEYS, HParams(), X, Y)
    with refused(TypeError, "config", "TrainConfig"):
        make_train(config)


def test_masked_widths_on_the_conv_model_still_name_the_widths():
    config = TrainConfig(epochs=1, model="conv", hidden=(6, 6), kernel_size=3)
    with pytest.raises(ValueError, match=r"^masked widths need the dense model"):
        train_many(config, KEYS, HParams(), X, Y, widths=(2, 2))


@pytest.mark.parametrize(
    ("key", "error"),
    [(KEYS, ValueError), (0, TypeError), (np.zeros(2, np.int32), TypeError), ([0, 0], TypeError)],
    ids=["many", "int", "int32", "list"],
)
def test_one_run_takes_one_key(key, error):
    with refused(error, "key", "one JAX PRNG key"):
        make_train(CONFIG)(key, HParams(), X, Y)
    with refused(error, "key"):
        init_params(key, (3, 3))
    with refused(error, "key"):
        data.linear(key, 4)


def test_fit_refuses_params_and_masks_that_do_not_fit_the_config():
    fit = make_fit(CONFIG)
    params = {name: jnp.zeros(shape) for name, shape in layer_shapes((3, 3)).items()}
    with refused(TypeError, "params", "dict of floating arrays: W1 \\(2, 3\\)"):
        fit(list(params.values()), HParams(), X, Y)
    with refused(ValueError, "params", "exactly the keys W1, b1, W2, b2, W3, b3"):
        fit({k: v for k, v in params.items() if k != "b3"}, HParams(), X, Y)
    with refused(ValueError, "params['W2']", r"must have shape \(3, 3\).*got \(3, 4\)"):
        fit({**params, "W2": jnp.zeros((3, 4))}, HParams(), X, Y)
    with refused(TypeError, "params['b1']", r"a floating array of shape \(3,\)"):
        fit({**params, "b1": np.zeros(3, int)}, HParams(), X, Y)
    with refused(ValueError, "masks", r"must have shape \(3,\)"):
        fit(params, HParams(), X, Y, {**width_masks((2, 2), (3, 3)), "b2": jnp.ones(4)})
    with refused(ValueError, "hparams.lr"):
        fit(params, HParams(lr=np.ones(2)), X, Y)


@pytest.mark.parametrize(
    ("call", "name", "error"),
    [
        (lambda: init_params(KEYS[0], (3.0, 3)), "hidden", TypeError),
        (lambda: init_params(KEYS[0], (3, 0)), "hidden", ValueError),
        (lambda: init_params(KEYS[0], (3, 3), jnp.int32), "dtype", TypeError),
        (lambda: init_params(KEYS[0], (3, 3), "complex64"), "dtype", TypeError),
        (lambda: init_params(KEYS[0], (3, 3), widths=(4, 1)), "widths", ValueError),
        (lambda: init_params(KEYS[0], (3, 3), widths=(2.5, 1)), "widths", TypeError),
        (lambda: init_conv_params(KEYS[0], 6, 2, 6), "kernel_size", ValueError),
        (lambda: init_conv_params(KEYS[0], 6, 0, 3), "channels", ValueError),
        (lambda: init_conv_params(KEYS[0], 6.0, 2, 3), "h1", TypeError),
        (lambda: init_conv_params(KEYS[0], 6, 2, 3, "int8"), "dtype", TypeError),
        (lambda: seed_keys(0.0, 2), "first_seed", TypeError),
        (lambda: seed_keys(-1, 2), "first_seed", ValueError),
        (lambda: seed_keys(2**32 - 1, 2), "count", ValueError),
        (lambda: seed_keys(0, 0), "count", ValueError),
        (lambda: seed_keys(0, np.float64(2)), "count", TypeError),
        (lambda: data.linear(KEYS[0], 0), "n", ValueError),
        (lambda: data.linear(KEYS[0], 2.5), "n", TypeError),
        (lambda: data.linear_handout(0), "n", ValueError),
        (lambda: data.linear_handout(10, seed=-1), "seed", ValueError),
        (lambda: data.linear_handout(10, seed=1.5), "seed", TypeError),
        (lambda: data.load_dataset(3, KEYS[0]), "name", TypeError),
        (lambda: data.load_dataset("xor_easy", None), "key", TypeError),
        (lambda: data.load_dataset("linear", KEYS[0], n_linear=-2), "n_linear", ValueError),
    ],
)
def test_the_initialisers_and_datasets_refuse_bad_arguments(call, name, error):
    with refused(error, name, "got"):
        call()


# -- what stays accepted, traced values included ----------------------------------------------


def test_raw_uint32_keys_are_still_accepted_and_train_as_their_typed_keys():
    hparams, widths = HParams(lr=np.array([0.5, 1.0])), np.array([2, 3])
    typed = train_many(CONFIG, KEYS, hparams, X, Y, widths)
    raw = np.asarray(jax.random.key_data(KEYS))  # jax.random.PRNGKey's format, as NumPy
    chex.assert_trees_all_equal(train_many(CONFIG, raw, hparams, X, Y, widths), typed)
    assert data.linear(jax.random.PRNGKey(0), np.int64(3)).x.shape == (3, 2)


def test_numpy_numbers_integer_data_and_one_raw_key_are_still_accepted():
    """Traced without running (what is checked is whether the checks let them through)."""
    hparams = HParams(
        lr=np.array([0.5, 1.0], np.float32), momentum=np.float32(0.5), b1=0, eps=np.float64(1e-6)
    )
    x, y = (X > 0.5).astype(np.int32), Y.astype(bool)
    widths = [np.int64(2), np.uint8(3)]
    many = jax.eval_shape(lambda: train_many(CONFIG, KEYS, hparams, x, y, widths, chunk_size=np.int64(1)))
    assert many.loss.shape == (2, CONFIG.epochs + 1)
    one = jax.eval_shape(TRAIN, jax.random.PRNGKey(0), HParams(lr=jnp.float32(1)), jnp.asarray(x), y, (2, 3))
    assert one.loss.shape == (CONFIG.epochs + 1,)
    assert seed_keys(np.int64(2**32 - 2), 2).shape == (2,)


def test_the_checks_see_shapes_under_jit_and_vmap_and_leave_traced_values_alone():
    train = make_train(CONFIG)
    with refused(ValueError, "y", re.escape("got (5,)")):
        jax.jit(train)(KEYS[0], HParams(), X, Y[:, 0])
    with refused(ValueError, "hparams.lr"):
        jax.vmap(lambda key, lr: train(key, HParams(lr=lr), X, Y))(KEYS, jnp.ones((2, 2)))
    # Traced widths and rates have no values to check when the program is traced: both run.
    runs = jax.jit(jax.vmap(lambda key, lr, widths: train(key, HParams(lr=lr), X, Y, widths)))
    result = runs(KEYS, jnp.array([0.5, 1.0]), jnp.array([[1, 2], [3, 3]]))
    assert result.loss.shape == (2, 2) and np.isfinite(result.loss).all()


# -- random wrong arguments: a TypeError or ValueError naming the argument, nothing else --------
#
# What each argument accepts, stated apart from the implementation.


def is_array(value) -> bool:
    return isinstance(value, np.ndarray | jax.Array)


def is_real_array(value) -> bool:
    return (
        is_array(value)
        and not jnp.issubdtype(value.dtype, jax.dtypes.prng_key)
        and value.dtype.kind in "biuf"
    )


def is_whole(value) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def valid_keys(value) -> bool:
    if not is_array(value):
        return False
    if jnp.issubdtype(value.dtype, jax.dtypes.prng_key):
        return value.ndim == 1 and value.shape[0] >= 1
    return value.dtype == np.uint32 and value.ndim == 2 and value.shape[0] >= 1 and value.shape[1] == 2


def valid_hparam(value, field: str, runs: int) -> bool:
    if isinstance(value, bool) or not (isinstance(value, int | float | np.number) or is_real_array(value)):
        return False
    if np.ndim(value) and (np.shape(value) != (runs,) or np.asarray(value).dtype.kind == "b"):
        return False
    values = np.asarray(value)
    if values.dtype.kind not in "iuf":
        return False
    values = values.astype(np.float64)
    return bool(np.isfinite(values).all() and HPARAM_RANGES[field].holds(values).all())


def valid_widths(value, hidden: tuple[int, int], runs: int | None) -> bool:
    if value is None:
        return True
    if isinstance(value, list | tuple):
        flat = [w for row in value for w in (row if isinstance(row, list | tuple) else [row])]
        if not value or not all(is_whole(w) for w in flat):
            return False
        try:
            value = np.array(value, dtype=np.int64)
        except ValueError:  # ragged rows
            return False
    elif (
        not is_array(value)
        or jnp.issubdtype(value.dtype, jax.dtypes.prng_key)
        or value.dtype.kind not in "iu"
    ):
        return False
    if np.shape(value) != (2,) and (runs is None or np.shape(value) != (runs, 2)):
        return False
    rows = np.asarray(value).reshape(-1, 2)
    return bool(((rows >= 1) & (rows <= np.asarray(hidden))).all())


def valid_key(value) -> bool:
    """One key: typed of shape (), or raw uint32 of shape (2,)."""
    if not is_array(value):
        return False
    if jnp.issubdtype(value.dtype, jax.dtypes.prng_key):
        return value.shape == ()
    return value.dtype == np.uint32 and value.shape == (2,)


numeric_arrays = hnp.arrays(
    dtype=st.sampled_from([np.bool_, np.int32, np.int64, np.uint32, np.float32, np.float64, np.complex64]),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3),
)
text_arrays = hnp.arrays(
    hnp.unicode_string_dtypes(max_len=2), hnp.array_shapes(min_dims=0, max_dims=2, max_side=3)
)
key_arrays = st.builds(
    lambda seed, shape: jax.random.split(jax.random.key(seed), math.prod(shape)).reshape(shape),
    st.integers(0, 9),
    hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3),
)
wrong_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.complex_numbers(max_magnitude=10),
    st.text(max_size=3),
    st.lists(st.integers(-3, 5), max_size=3),
    st.tuples(st.integers(-3, 5), st.integers(-3, 5)),
    st.lists(st.tuples(st.integers(-3, 5), st.integers(-3, 5)), min_size=1, max_size=3),
    st.tuples(st.floats(0, 4), st.integers(1, 3)),
    st.dictionaries(st.sampled_from(["lr", "W1"]), st.floats(0, 1), max_size=2),
    numeric_arrays,
    text_arrays,
    numeric_arrays.map(jnp.asarray),
    key_arrays,
    key_arrays.map(jax.random.key_data),
)
MANY_RUNS_ARGUMENTS = ["config", "keys", "x", "y", "widths", "chunk_size", "grad_fn", "progress"] + [
    f"hparams.{field}" for field in HParams._fields
]


def valid_many_runs_argument(name: str, value) -> bool:
    runs = KEYS.shape[0]
    if name == "config":
        return isinstance(value, TrainConfig)
    if name == "keys":
        return valid_keys(value)
    if name in ("x", "y"):
        return is_real_array(value) and np.shape(value) == (N, 2 if name == "x" else 1)
    if name == "widths":
        return valid_widths(value, CONFIG.hidden, runs)
    if name == "chunk_size":
        return value is None or (is_whole(value) and value >= 1)
    if name in ("grad_fn", "progress"):
        return value is None or callable(value)
    return valid_hparam(value, name.removeprefix("hparams."), runs)


@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from(MANY_RUNS_ARGUMENTS), value=wrong_values)
def test_train_many_refuses_any_wrong_argument_by_name(name, value):
    assume(not valid_many_runs_argument(name, value))
    arguments = {"config": CONFIG, "keys": KEYS, "x": X, "y": Y, "widths": None, "chunk_size": None}
    hparams = HParams()
    if name.startswith("hparams."):
        hparams = hparams._replace(**{name.removeprefix("hparams."): value})
    else:
        arguments[name] = value
    with pytest.raises((TypeError, ValueError)) as error:
        train_many(hparams=hparams, **arguments)
    assert_names(error, name)


ONE_RUN_ARGUMENTS = ["key", "x", "y", "widths", "hparams.lr", "hparams.eps"]


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(ONE_RUN_ARGUMENTS), value=wrong_values)
def test_train_refuses_any_wrong_argument_by_name(name, value):
    if name == "key":
        valid = valid_key(value)
    elif name == "widths":
        valid = valid_widths(value, CONFIG.hidden, None)
    elif name.startswith("hparams."):
        valid = valid_hparam(value, name.removeprefix("hparams."), runs=0) and np.ndim(value) == 0
    else:
        valid = valid_many_runs_argument(name, value)
    assume(not valid)
    arguments = {"key": KEYS[0], "hparams": HParams(), "x": X, "y": Y, "widths": None}
    if name.startswith("hparams."):
        arguments["hparams"] = HParams()._replace(**{name.removeprefix("hparams."): value})
    else:
        arguments[name] = value
    with pytest.raises((TypeError, ValueError)) as error:
        make_train(CONFIG)(**arguments)
    assert_names(error, name)


CONFIG_FIELDS = [
    "epochs",
    "hidden",
    "channels",
    "kernel_size",
    "dtype",
    "optimizer",
    "optimizer_impl",
    "grad",
    "model",
    "network",
]


def valid_config_field(name: str, value) -> bool:
    if name == "epochs":
        return is_whole(value) and 1 <= value < 2**31
    if name == "hidden":
        if isinstance(value, np.ndarray) and value.ndim == 1:
            value = tuple(value)
        return (
            isinstance(value, list | tuple) and len(value) == 2 and all(is_whole(w) and w >= 1 for w in value)
        )
    if name in ("channels", "kernel_size"):
        return is_whole(value) and value >= 1
    if name == "network":
        return isinstance(value, Network)
    choices = {
        "dtype": ("float32", "float64"),
        "optimizer": tuple(OPTIMIZERS),
        "optimizer_impl": ("optax", "manual"),
        "grad": ("manual", "autodiff"),
        "model": ("dense", "conv"),
    }
    return isinstance(value, str) and value in choices[name]


@settings(max_examples=100, deadline=None)
@given(
    name=st.sampled_from(CONFIG_FIELDS),
    value=wrong_values | st.sampled_from(["sgd", "conv", "float64", "adam"]),
)
def test_a_config_refuses_any_wrong_field_by_name(name, value):
    assume(not valid_config_field(name, value))
    with pytest.raises((TypeError, ValueError)) as error:
        TrainConfig(**{name: value})
    assert_names(error, name)


@settings(max_examples=80, deadline=None)
@given(
    name=st.sampled_from(
        [
            "init_params.key",
            "init_params.hidden",
            "init_params.widths",
            "init_conv_params.channels",
            "init_conv_params.kernel_size",
            "seed_keys.first_seed",
            "seed_keys.count",
            "linear.n",
            "linear_handout.seed",
            "load_dataset.name",
        ]
    ),
    value=wrong_values,
)
def test_the_initialisers_and_datasets_refuse_any_wrong_argument_by_name(name, value):
    function, argument = name.split(".")
    valid = {
        "key": lambda: valid_key(value),
        "hidden": lambda: valid_config_field("hidden", value),
        "widths": lambda: valid_widths(value, (3, 3), None),
        "channels": lambda: is_whole(value) and value >= 1,
        "kernel_size": lambda: is_whole(value) and 1 <= value < 6,
        "first_seed": lambda: is_whole(value) and 0 <= value <= 2**32 - 2,
        "count": lambda: is_whole(value) and 1 <= value <= 2**32,
        "n": lambda: is_whole(value) and value >= 1,
        "seed": lambda: value is None or (is_whole(value) and 0 <= value < 2**32),
        "name": lambda: isinstance(value, str) and value in data.DATASET_NAMES,
    }[argument]()
    assume(not valid)
    calls = {
        "init_params": lambda: init_params(**{"key": KEYS[0], "hidden": (3, 3), argument: value}),
        "init_conv_params": lambda: init_conv_params(
            **{"key": KEYS[0], "h1": 6, "channels": 2, "kernel_size": 3, argument: value}
        ),
        "seed_keys": lambda: seed_keys(**{"first_seed": 0, "count": 2, argument: value}),
        "linear": lambda: data.linear(KEYS[0], value),
        "linear_handout": lambda: data.linear_handout(3, value),
        "load_dataset": lambda: data.load_dataset(value, KEYS[0]),
    }
    with pytest.raises((TypeError, ValueError)) as error:
        calls[function]()
    assert_names(error, argument)


# -- random valid small inputs: they run ------------------------------------------------------

fractions = st.floats(0.0, 0.99)
valid_hparams = st.builds(
    HParams, lr=st.floats(1e-3, 4.0), momentum=fractions, b1=fractions, b2=fractions,
    eps=st.floats(1e-8, 1.0), decay=fractions, weight_decay=st.floats(0.0, 1.0),
)  # fmt: skip
points = hnp.arrays(np.float64, (N, 2), elements=st.floats(-2.0, 2.0))
labels = hnp.arrays(np.float64, (N, 1), elements=st.sampled_from([0.0, 1.0]))
pairs = st.tuples(st.integers(1, 3), st.integers(1, 3))


@settings(max_examples=8, deadline=None)
@given(
    first_seed=st.integers(0, 2**32 - 3),
    hparams=valid_hparams,
    rates=st.lists(st.floats(1e-3, 4.0), min_size=2, max_size=2),
    widths=st.lists(pairs, min_size=2, max_size=2),
    x=points,
    y=labels,
)
def test_train_many_runs_on_random_valid_inputs(first_seed, hparams, rates, widths, x, y):
    keys = seed_keys(first_seed, 2)
    result = train_many(CONFIG, keys, hparams._replace(lr=np.array(rates)), x, y, np.array(widths, np.int32))
    assert result.loss.shape == result.accuracy.shape == (2, CONFIG.epochs + 1)
    assert np.all((result.accuracy >= 0) & (result.accuracy <= 1))


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), hparams=valid_hparams, widths=pairs, x=points, y=labels)
def test_train_runs_on_random_valid_inputs(seed, hparams, widths, x, y):
    result = TRAIN(jax.random.key(seed), hparams, x, y, widths)
    assert result.loss.shape == (CONFIG.epochs + 1,)


@settings(max_examples=12, deadline=None)
@given(
    epochs=st.integers(1, 2**31 - 1),
    hidden=st.tuples(st.integers(4, 9), st.integers(1, 9)),
    kernel_size=st.integers(1, 3),
    channels=st.integers(1, 3),
    model=st.sampled_from(["dense", "conv"]),
    as_numpy=st.booleans(),
    widths=st.none() | pairs,
)
def test_configs_and_initial_params_accept_random_valid_arguments(
    epochs, hidden, kernel_size, channels, model, as_numpy, widths
):
    whole = np.int64 if as_numpy else int
    widths = None if widths is None else (min(widths[0], hidden[0]), min(widths[1], hidden[1]))
    config = TrainConfig(
        epochs=whole(epochs), hidden=tuple(map(whole, hidden)), channels=whole(channels),
        kernel_size=whole(kernel_size), model=model,
    )  # fmt: skip
    assert config == TrainConfig(
        epochs=epochs, hidden=hidden, channels=channels, kernel_size=kernel_size, model=model
    )
    assert hash(config) == hash(dataclasses.replace(config))
    shapes = config.param_shapes
    # Traced, not run, so that each new shape costs no compile; the checks see the concrete values.
    if model == "dense":
        params = jax.eval_shape(lambda: init_params(KEYS[0], config.hidden, jnp.float32, widths))
        assert {name: leaf.shape for name, leaf in params.items()} == layer_shapes(config.hidden) == shapes
    else:
        params = jax.eval_shape(
            lambda: init_conv_params(KEYS[0], config.hidden[0], config.channels, config.kernel_size)
        )
        assert {name: leaf.shape for name, leaf in params.items()} == shapes
