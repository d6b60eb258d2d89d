"""Every activation's hand-written derivative against ``jax.grad`` (float64, near 0 and at large
|t| where naive formulas lose everything), activation specs, and the cross-entropy loss."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from manual import derivatives
from twolayer_jax import activations, losses
from twolayer_jax.network import Network

SPECS = [*activations.ACTIVATIONS, "leaky_relu:0.2"]
T = jnp.concatenate([
    jnp.linspace(-60.0, 60.0, 2001),
    jnp.array([0.0, 1e-300, -1e-300, 1e-12, -1e-12, 1e-8, -1e-8, -700.0, 700.0, -0.7517916]),
])  # fmt: skip


@pytest.mark.parametrize("spec", SPECS)
def test_each_manual_derivative_equals_jax_grad_everywhere(spec):
    f = activations.get_activation(spec)
    expected = jax.vmap(jax.grad(f))(T)
    mine = derivatives.activation_derivative(spec, T, f(T))
    assert mine.dtype == jnp.float64 and np.all(np.isfinite(mine))
    np.testing.assert_allclose(mine, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(("dtype", "bound"), [(jnp.float64, 5e-16), (jnp.float32, 2e-7)])
def test_the_sigmoid_is_the_logistic_function_to_rounding(dtype, bound):
    t = jnp.linspace(-60.0, 60.0, 20001, dtype=dtype)
    np.testing.assert_allclose(activations.sigmoid(t), jax.nn.sigmoid(t), rtol=0, atol=bound)


def test_the_sigmoid_jvp_is_the_logistic_derivative():
    # the custom rule against jax.nn.sigmoid's, which JAX derives for lax.logistic
    expected = jax.vmap(jax.grad(jax.nn.sigmoid))(T)
    np.testing.assert_allclose(jax.vmap(jax.grad(activations.sigmoid))(T), expected, rtol=0, atol=1e-15)


def test_every_activation_has_a_derivative_that_says_what_it_takes():
    assert set(derivatives.DERIVATIVES) == set(activations.ACTIVATIONS)
    for name, derivative in derivatives.DERIVATIVES.items():
        assert derivative.takes in ("output", "pre_activation")
        assert derivative.fn.__name__.endswith(f"_from_{derivative.takes}"), name


def test_feeding_the_sigmoid_derivative_its_pre_activation_is_caught_by_the_same_check():
    wrong = derivatives.sigmoid_derivative_from_output(T)  # the handout's classic mistake
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(wrong, jax.vmap(jax.grad(jax.nn.sigmoid))(T), rtol=1e-12, atol=1e-15)


def test_activation_specs_bind_their_parameter_or_say_what_is_wrong():
    np.testing.assert_allclose(
        activations.get_activation("leaky_relu:0.2")(jnp.array([-1.0, 2.0])), [-0.2, 2.0]
    )
    np.testing.assert_allclose(activations.get_activation("leaky_relu")(jnp.array([-1.0])), [-0.01])
    with pytest.raises(ValueError, match="activation 'tanh' takes no parameter"):
        activations.parse_activation("tanh:0.3")
    for spec in ("leaky_relu:steep", "leaky_relu:"):
        with pytest.raises(ValueError, match="must be a number"):
            activations.parse_activation(spec)
    for spec in ("leaky_relu:nan", "leaky_relu:inf", "leaky_relu:-inf"):
        with pytest.raises(ValueError, match="must be finite"):
            activations.parse_activation(spec)
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        activations.parse_activation("swish")


def test_hidden_layers_take_one_spec_or_one_each():
    assert activations.hidden_activations("relu") == ("relu", "relu")
    assert activations.hidden_activations("gelu,leaky_relu:0.3") == ("gelu", "leaky_relu:0.3")
    with pytest.raises(ValueError, match="one hidden activation or two"):
        activations.hidden_activations("relu,relu,relu")
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        activations.hidden_activations("relu,swish")


def test_cross_entropy_is_computed_from_logits_and_stays_finite():
    logits = jnp.array([[-3.0], [0.5], [2.0]])
    target = jnp.array([[0.0], [1.0], [1.0]])
    p = jax.nn.sigmoid(logits)
    direct = -jnp.mean(target * jnp.log(p) + (1 - target) * jnp.log(1 - p))
    assert float(losses.bce(logits, p, target)) == pytest.approx(float(direct), rel=1e-12)
    extreme = jnp.array([[-1000.0], [1000.0]])
    value = losses.bce(extreme, jax.nn.sigmoid(extreme), jnp.array([[1.0], [0.0]]))
    assert float(value) == pytest.approx(1000.0)  # log σ(−1000) would be −inf from the output


def test_the_cross_entropy_output_delta_is_its_gradient_in_the_logits():
    from twolayer_jax.model import ForwardCache

    logits = jnp.linspace(-30.0, 30.0, 13).reshape(-1, 1)
    target = (jnp.arange(13) % 2).astype(jnp.float64).reshape(-1, 1)
    expected = jax.grad(lambda t: losses.bce(t, jax.nn.sigmoid(t), target))(logits)
    cache = ForwardCache(*(None,) * 5, logits, jax.nn.sigmoid(logits))
    np.testing.assert_allclose(
        derivatives.output_delta(Network(loss="bce"), cache, target), expected, rtol=1e-12
    )


def test_cross_entropy_needs_a_sigmoid_output():
    with pytest.raises(ValueError, match="loss 'bce' needs a sigmoid output, got 'identity'"):
        Network(output_activation="identity", loss="bce")
    Network("relu", loss="bce")  # any hidden activation is fine
