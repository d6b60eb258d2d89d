"""The initialisation registry: each entry's shapes and scale over many draws, masked widths,
determinism, spec checking, lecun_normal equal bit for bit to the project's original draw, and
a run from the handout's N(0, 1) weights on the handout's points against a NumPy loop."""

import math

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from twolayer_jax import initialisations, model
from twolayer_jax.config import TrainConfig
from twolayer_jax.data import linear_handout
from twolayer_jax.one_run import make_train
from twolayer_jax.optimizers import HParams

SPECS = (
    "lecun_normal",
    "normal",
    "normal:0.5",
    "uniform",
    "uniform:2",
    "xavier_uniform",
    "glorot",
    "he_normal",
)
DRAWS = (400, 250)  # a (400, 250) weight: 1e5 draws, fan-in 400, fan-out 250


def original_init(key, hidden, dtype, widths=None):
    """The project's draw before the registry, written out: one key of split(key, 3) per layer,
    W = normal / sqrt(fan_in), zero biases, the fan-ins of the used widths, unused units masked."""
    shapes = model.layer_shapes(hidden)
    fan_ins = (2, *hidden) if widths is None else (2, widths[0], widths[1])
    params = {}
    for layer, layer_key in enumerate(jax.random.split(key, 3), start=1):
        normal = jax.random.normal(layer_key, shapes[f"W{layer}"], dtype)
        params[f"W{layer}"] = normal / jnp.sqrt(jnp.asarray(fan_ins[layer - 1], dtype))
        params[f"b{layer}"] = jnp.zeros(shapes[f"b{layer}"], dtype)
    if widths is not None:
        params = jax.tree.map(jnp.multiply, params, model.width_masks(widths, hidden, dtype))
    return params


def original_conv_init(key, h1, channels, kernel_size, dtype):
    shapes = model.conv_layer_shapes(h1, channels, kernel_size)
    fan_ins = {"W1": 2, "K2": kernel_size, "W3": channels * h1}
    params = {}
    for (name, fan_in), layer_key in zip(fan_ins.items(), jax.random.split(key, 3), strict=True):
        params[name] = jax.random.normal(layer_key, shapes[name], dtype) / jnp.sqrt(
            jnp.asarray(fan_in, dtype)
        )
        params["b" + name[-1]] = jnp.zeros(shapes["b" + name[-1]], dtype)
    return params


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
@pytest.mark.parametrize("widths", [None, (3, 5)])
def test_lecun_normal_is_the_original_draw_bit_for_bit(dtype, widths):
    for seed in (0, 7):
        key = jax.random.key(seed)
        chex.assert_trees_all_equal(
            model.init_params(key, (6, 8), dtype, widths), original_init(key, (6, 8), dtype, widths)
        )
        chex.assert_trees_all_equal(
            TrainConfig().architecture.init_params(key), original_init(key, (100, 100), jnp.float32)
        )
    chex.assert_trees_all_equal(
        model.init_conv_params(jax.random.key(2), 12, 3, 5, dtype),
        original_conv_init(jax.random.key(2), 12, 3, 5, dtype),
    )


def draw(spec, fan_in=DRAWS[0], fan_out=DRAWS[1], key=0):
    return np.asarray(
        initialisations.init_weights(spec, jax.random.key(key), DRAWS, fan_in, fan_out, jnp.float64)
    )


def within_sampling_error(sample, std):
    """The sample's mean near 0 and its std near ``std``: five standard errors of each."""
    n = sample.size
    assert abs(sample.mean()) < 5 * std / math.sqrt(n)
    assert sample.std() == pytest.approx(std, abs=5 * std / math.sqrt(2 * n) * 1.5)


@pytest.mark.parametrize(
    ("spec", "std"),
    [
        ("lecun_normal", 1 / math.sqrt(DRAWS[0])),
        ("normal", 1.0),
        ("normal:0.5", 0.5),
        ("he_normal", math.sqrt(2 / DRAWS[0])),
    ],
)
def test_normal_entries_have_their_scale(spec, std):
    sample = draw(spec)
    assert sample.shape == DRAWS
    within_sampling_error(sample, std)
    # normal, not uniform: about 4.6 % of draws lie beyond two standard deviations
    assert np.mean(np.abs(sample) > 2 * std) == pytest.approx(0.0455, abs=0.005)


@pytest.mark.parametrize(
    ("spec", "bound"),
    [
        ("uniform", 1.0),
        ("uniform:2", 2.0),
        ("xavier_uniform", math.sqrt(6 / sum(DRAWS))),
        ("glorot", math.sqrt(6 / sum(DRAWS))),
    ],
)
def test_uniform_entries_stay_inside_their_bound_with_variance_a_squared_over_3(spec, bound):
    sample = draw(spec)
    assert sample.shape == DRAWS
    assert np.all(np.abs(sample) <= bound) and np.abs(sample).max() > 0.999 * bound
    within_sampling_error(sample, bound / math.sqrt(3))


def test_glorot_is_xavier_uniform_and_entries_are_deterministic_per_key():
    np.testing.assert_array_equal(draw("glorot"), draw("xavier_uniform"))
    for spec in SPECS:
        np.testing.assert_array_equal(draw(spec, key=3), draw(spec, key=3))
        assert not np.array_equal(draw(spec, key=3), draw(spec, key=4)), spec


@pytest.mark.parametrize("spec", SPECS)
def test_every_entry_gives_the_lab_shapes_zero_biases_and_a_deterministic_draw(spec):
    key = jax.random.key(5)
    params = model.init_params(key, (7, 5), jnp.float32, init=spec)
    chex.assert_trees_all_equal_shapes_and_dtypes(params, original_init(key, (7, 5), jnp.float32))
    chex.assert_trees_all_equal(params, model.init_params(key, (7, 5), jnp.float32, init=spec))
    assert not any(jnp.any(params[b]) for b in ("b1", "b2", "b3"))
    conv = model.init_conv_params(key, 12, 3, 5, jnp.float32, init=spec)
    chex.assert_trees_all_equal_shapes_and_dtypes(conv, original_conv_init(key, 12, 3, 5, jnp.float32))


@pytest.mark.parametrize("spec", SPECS)
@given(w1=st.integers(1, 6), w2=st.integers(1, 6), seed=st.integers(0, 2**31))
def test_masked_widths_draw_with_the_narrow_networks_fans_and_zero_unused_units(spec, w1, w2, seed):
    hidden, key = (6, 6), jax.random.key(seed)
    masked = model.init_params(key, hidden, jnp.float64, jnp.array([w1, w2]), init=spec)
    keys = jax.random.split(key, 3)
    fans = (2, w1, w2, 1)
    for layer, (rows, columns) in enumerate(((2, w1), (w1, w2), (w2, 1)), start=1):
        weights = np.asarray(masked[f"W{layer}"])
        # the used block is what the entry draws for the padded shape with the narrow fans
        full = initialisations.init_weights(
            spec, keys[layer - 1], weights.shape, fans[layer - 1], fans[layer], jnp.float64
        )
        np.testing.assert_array_equal(weights[:rows, :columns], np.asarray(full)[:rows, :columns])
        assert not weights[rows:].any() and not weights[:, columns:].any()
    assert not masked["b1"].any() and not masked["b2"].any()


def test_masked_xavier_bounds_use_the_used_widths():
    """A (20, 30) network padded to (300, 300): each layer's bound is sqrt(6 / (fan_in + fan_out))
    of the narrow network, W2's sqrt(6/50), not the padded sqrt(6/600)."""
    params = model.init_params(jax.random.key(0), (300, 300), jnp.float64, (20, 30), init="xavier_uniform")
    for name, (rows, columns) in (("W1", (2, 20)), ("W2", (20, 30)), ("W3", (30, 1))):
        used = np.abs(np.asarray(params[name])[:rows, :columns])
        bound = math.sqrt(6 / (rows + columns))
        assert 0.9 * bound < used.max() <= bound, name


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("orthogonal", "unknown initialisation 'orthogonal'; choose from lecun_normal, normal, uniform"),
        ("normal:abc", "initialisation parameter must be a number"),
        ("normal:nan", "must be positive and finite"),
        ("uniform:inf", "must be positive and finite"),
        ("normal:0", "must be positive and finite"),
        ("uniform:-1", "must be positive and finite"),
        ("he_normal:2", "takes no parameter"),
        ("", "unknown initialisation ''"),
    ],
)
def test_a_bad_spec_is_a_value_error_everywhere(spec, message):
    with pytest.raises(ValueError, match=message):
        initialisations.parse_initialisation(spec)
    with pytest.raises(ValueError, match=message):
        TrainConfig(init=spec)
    with pytest.raises(ValueError, match=message):
        model.init_params(jax.random.key(0), (3, 3), init=spec)
    with pytest.raises(ValueError, match=message):
        model.init_conv_params(jax.random.key(0), 6, 2, 3, init=spec)


def test_a_spec_that_is_not_a_string_is_a_type_error():
    with pytest.raises(TypeError, match="init must be a str"):
        TrainConfig(init=0.5)


def test_the_architecture_includes_the_init():
    """The compiled init program is keyed on the Architecture: configs that differ only in init
    must not share it."""
    a, b = TrainConfig(), TrainConfig(init="normal")
    assert a.architecture != b.architecture and hash(a) != hash(b)
    key = jax.random.key(0)
    assert not np.array_equal(a.architecture.init_params(key)["W2"], b.architecture.init_params(key)["W2"])


def numpy_sigmoid(t):
    return 1.0 / (1.0 + np.exp(-t))


def numpy_lab_run(params, x, y, lr, epochs):
    """The handout's loop in NumPy float64: forward, MSE, backpropagation, a gradient step. The
    loss history has one entry per update, of the params before it, then the final params'."""
    p = {name: np.array(value, np.float64) for name, value in params.items()}
    n, losses = len(x), []

    def forward(p):
        z1 = numpy_sigmoid(x @ p["W1"] + p["b1"])
        z2 = numpy_sigmoid(z1 @ p["W2"] + p["b2"])
        return z1, z2, numpy_sigmoid(z2 @ p["W3"] + p["b3"])

    for _ in range(epochs):
        z1, z2, out = forward(p)
        losses.append(np.mean((out - y) ** 2))
        delta3 = 2 / n * (out - y) * out * (1 - out)
        delta2 = delta3 @ p["W3"].T * z2 * (1 - z2)
        delta1 = delta2 @ p["W2"].T * z1 * (1 - z1)
        grads = {"W3": z2.T @ delta3, "b3": delta3.sum(0), "W2": z1.T @ delta2, "b2": delta2.sum(0),
                 "W1": x.T @ delta1, "b1": delta1.sum(0)}  # fmt: skip
        p = {name: p[name] - lr * grads[name] for name in p}
    losses.append(np.mean((forward(p)[2] - y) ** 2))
    return p, np.array(losses)


def test_a_students_run_is_reproduced_from_the_same_weights_and_points():
    """--init normal on --linear-data handout, in float64: the engine's loss history and final
    params are those of a plain NumPy loop started from the engine's initial weights."""
    epochs, lr = 300, 1.0
    data = linear_handout(100, seed=3)
    config = TrainConfig(epochs=epochs, hidden=(20, 20), dtype="float64", init="normal")
    key = jax.random.key(0)
    initial = config.architecture.init_params(key)
    result = jax.jit(make_train(config))(key, HParams(lr=lr), data.x, data.y)
    expected_params, expected_loss = numpy_lab_run(initial, data.x, data.y, lr, epochs)
    np.testing.assert_allclose(np.asarray(result.loss), expected_loss, rtol=1e-9)
    assert expected_loss[-1] < 0.5 * expected_loss[0]  # it learned: the comparison covers a real run
    for name, value in expected_params.items():
        np.testing.assert_allclose(np.asarray(result.params[name]), value, rtol=1e-9, atol=1e-12)
