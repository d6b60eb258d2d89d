"""The checker's NumPy twins compute what the registry's JAX activations and the hand-written
derivatives of manual/ compute, for every activation the registry knows."""

import jax.numpy as jnp
import numpy as np
import pytest

from manual.derivatives import DERIVATIVES, activation_derivative
from twolayer_jax.activations import ACTIVATIONS, get_activation
from twolayer_jax.checks import numpy_twins

SPECS = [*ACTIVATIONS, "leaky_relu:0.2"]
T = np.concatenate([np.linspace(-12.0, 12.0, 2001), [0.0, -0.0, 1e-300, -1e-300]])


def test_every_registry_activation_has_its_twins():
    assert set(numpy_twins.ACTIVATIONS) == set(ACTIVATIONS) == set(numpy_twins.DERIVATIVES)


@pytest.mark.parametrize("spec", SPECS)
def test_each_twin_computes_the_registry_activation_and_its_derivative(spec):
    mine = numpy_twins.activation(spec)(T)
    np.testing.assert_allclose(mine, np.asarray(get_activation(spec)(jnp.asarray(T))), rtol=1e-13, atol=1e-15)
    name = spec.partition(":")[0]
    quantity = mine if DERIVATIVES[name].takes == "output" else T
    expected = activation_derivative(spec, jnp.asarray(T), jnp.asarray(mine))
    np.testing.assert_allclose(
        numpy_twins.derivative(spec)(quantity), np.asarray(expected), rtol=1e-13, atol=1e-15
    )
