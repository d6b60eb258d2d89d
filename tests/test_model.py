"""The model: parameter shapes and initialisation, the forward pass against LAB.md's equations
written in NumPy, and the 0.5 threshold."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from twolayer_jax import activations, model
from twolayer_jax.network import Network


def numpy_sigmoid(t):
    return 1.0 / (1.0 + np.exp(-t))


def numpy_forward(params, x):
    """LAB.md's network, line for line, in NumPy float64."""
    p = {k: np.asarray(v, np.float64) for k, v in params.items()}
    z1 = numpy_sigmoid(x @ p["W1"] + p["b1"])
    z2 = numpy_sigmoid(z1 @ p["W2"] + p["b2"])
    return numpy_sigmoid(z2 @ p["W3"] + p["b3"])


def test_params_are_a_dict_with_the_lab_shapes():
    params = model.init_params(jax.random.key(0), (7, 5), jnp.float64)
    assert tuple(params) == model.PARAM_NAMES
    chex.assert_trees_all_equal_shapes_and_dtypes(
        params,
        {
            "W1": jnp.zeros((2, 7)), "b1": jnp.zeros(7),
            "W2": jnp.zeros((7, 5)), "b2": jnp.zeros(5),
            "W3": jnp.zeros((5, 1)), "b3": jnp.zeros(1),
        },
    )  # fmt: skip


def test_init_is_lecun_normal_with_zero_biases():
    params = model.init_params(jax.random.key(1), (400, 400), jnp.float64)
    for name, fan_in in (("W1", 2), ("W2", 400), ("W3", 400)):
        std = float(jnp.std(params[name]))
        # W1 has only 800 draws, W3 400: allow their sampling error
        assert std * np.sqrt(fan_in) == pytest.approx(1.0, rel=0.1), name
        assert abs(float(jnp.mean(params[name]))) < 4 / np.sqrt(fan_in * params[name].size)
    for name in ("b1", "b2", "b3"):
        assert not jnp.any(params[name])


def test_init_is_deterministic_and_dtype_follows_the_request():
    a = model.init_params(jax.random.key(3), (4, 4), jnp.float32)
    chex.assert_trees_all_equal(a, model.init_params(jax.random.key(3), (4, 4), jnp.float32))
    chex.assert_trees_all_equal_dtypes(a, jax.tree.map(lambda v: v.astype(jnp.float32), a))
    b = model.init_params(jax.random.key(4), (4, 4), jnp.float32)
    assert not np.array_equal(a["W2"], b["W2"])


@given(
    n=st.integers(1, 40),
    h1=st.integers(1, 32),
    h2=st.integers(1, 32),
    seed=st.integers(0, 10_000),
)
def test_forward_matches_the_lab_equations_in_numpy(n, h1, h2, seed):
    rng = np.random.default_rng(seed)
    # random biases too, so a forgotten bias would show
    params = {k: rng.normal(size=shape) for k, shape in model.layer_shapes((h1, h2)).items()}
    x = rng.uniform(size=(n, 2))
    output = jax.jit(model.forward)(params, x)
    assert output.shape == (n, 1) and output.dtype == jnp.float64
    np.testing.assert_allclose(output, numpy_forward(params, x), rtol=1e-13, atol=1e-15)


def test_forward_cache_names_the_lab_quantities():
    params = model.init_params(jax.random.key(0), (3, 4), jnp.float64)
    x = jnp.array([[0.1, 0.9], [0.4, 0.2]])
    cache = model.forward_layers(params, x)
    np.testing.assert_allclose(cache.z1, jax.nn.sigmoid(cache.x1))
    np.testing.assert_allclose(cache.x2, cache.z1 @ params["W2"] + params["b2"])
    np.testing.assert_allclose(cache.y, jax.nn.sigmoid(cache.x3))
    assert cache.x1.shape == (2, 3) and cache.x2.shape == (2, 4) and cache.x3.shape == (2, 1)


def test_an_output_of_exactly_one_half_is_labelled_one():
    output = jnp.array([[0.5], [np.nextafter(0.5, 0.0)], [0.0], [1.0]], jnp.float64)
    np.testing.assert_array_equal(model.predict_labels(output), [[1.0], [0.0], [0.0], [1.0]])
    target = jnp.array([[1.0], [0.0], [1.0], [1.0]])
    assert float(model.accuracy(output, target)) == pytest.approx(0.75)


def test_the_activation_registry_is_the_one_place_to_add_an_activation(monkeypatch):
    monkeypatch.setitem(activations.ACTIVATIONS, "softsign", jax.nn.soft_sign)
    params = model.init_params(jax.random.key(0), (3, 3), jnp.float64)
    x = jnp.ones((2, 2))
    cache = model.forward_layers(params, x, Network("softsign"))
    np.testing.assert_allclose(cache.z1, jax.nn.soft_sign(cache.x1))
    with pytest.raises(
        ValueError, match=r"unknown activation 'swish'; choose from sigmoid, tanh, .*softsign"
    ):
        Network("swish")
