"""``manual/``: every term of the hand-written backward pass against autodiff in float64, one test
per term of LAB.md's derivation; the planted mistakes of LAB.md must fail those same checks."""

from operator import attrgetter

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import manual
from manual import derivatives
from twolayer_jax import activations, data
from twolayer_jax.checks.comparison import Problem, random_problem, relative_error
from twolayer_jax.checks.terms import BACKWARD_ORDER
from twolayer_jax.config import TrainConfig
from twolayer_jax.gradients import autodiff_gradient, reference_deltas
from twolayer_jax.many_runs import seed_keys, train_many
from twolayer_jax.model import layer_shapes
from twolayer_jax.network import LAB_NETWORK, Network
from twolayer_jax.optimizers import HParams

NETWORK = LAB_NETWORK
# Rounding alone separates the two in float64 (observed ≤ 1e-15); a real mistake is ≥ 1e-2 off.
FLOAT64_TOLERANCE = 1e-12
# batch 1, odd batches and non-square widths in both orders: a missing transpose cannot hide
SHAPES = ((1, (3, 5)), (7, (6, 2)), (33, (9, 4)))


def terms_of(problem, network):
    """term → (hand-written value, autodiff value)."""
    grads, deltas = manual.backward_with_deltas(*problem, network)
    reference_grads, _ = autodiff_gradient(network)(*problem)
    reference = reference_deltas(*problem, network)
    terms = {name: (grads[name], reference_grads[name]) for name in reference_grads}
    terms |= {name: (getattr(deltas, name), getattr(reference, name)) for name in deltas._fields}
    return terms


# compiled once per shape and network; the registries are read while tracing
manual_and_reference_terms = jax.jit(terms_of, static_argnums=1)


def assert_term_matches(term, problem, network=NETWORK, tolerance=FLOAT64_TOLERANCE, terms=None):
    terms = terms or manual_and_reference_terms(problem, network)
    mine, reference = terms[term]
    assert mine.shape == reference.shape, f"{term}: shape {mine.shape}, expected {reference.shape}"
    error = relative_error(mine, reference)
    assert error <= tolerance, f"{term}: relative error {error:.2e} > {tolerance:.0e}"


make_problem = jax.jit(random_problem, static_argnums=(1, 2, 3))


def problems(dtype=jnp.float64):
    keys = jax.random.split(jax.random.key(0), len(SHAPES))
    return [make_problem(key, n, hidden, dtype) for key, (n, hidden) in zip(keys, SHAPES, strict=True)]


@pytest.mark.parametrize("term", BACKWARD_ORDER)
@pytest.mark.parametrize(
    "network",
    [
        NETWORK,
        Network("identity"),
        Network(output_activation="identity"),
        Network("tanh", loss="bce"),
        Network("leaky_relu:0.1"),
        Network("gelu", "elu"),
    ],
    ids=attrgetter("spec"),
)
def test_each_term_of_the_derivation_matches_autodiff(term, network):
    for problem in problems():
        assert_term_matches(term, problem, network)


def test_backward_returns_the_structure_of_jax_grad():
    problem = problems()[1]
    grads = manual.backward(*problem)
    chex.assert_trees_all_equal_shapes_and_dtypes(grads, autodiff_gradient(NETWORK)(*problem)[0])


def test_float32_terms_agree_to_float32_rounding():
    for problem in problems(jnp.float32):
        for term, (mine, reference) in manual_and_reference_terms(problem, NETWORK).items():
            assert mine.dtype == jnp.float32
            assert relative_error(mine, reference) <= 1e-5, term


@settings(max_examples=15)  # each example compiles new shapes
@given(
    n=st.integers(1, 64),
    h1=st.integers(1, 128),
    h2=st.integers(1, 128),
    seed=st.integers(0, 2**31 - 1),
    activation=st.sampled_from(["sigmoid", "identity", "tanh", "relu", "gelu"]),
)
def test_every_term_matches_for_random_batches_widths_and_params(n, h1, h2, seed, activation):
    rng = np.random.default_rng(seed)  # NumPy draws: no compilation per example
    params = {k: rng.normal(size=shape) / np.sqrt(shape[0]) for k, shape in layer_shapes((h1, h2)).items()}
    problem = Problem(params, rng.uniform(-1, 2, (n, 2)), rng.integers(0, 2, (n, 1)).astype(float))
    terms = manual_and_reference_terms(problem, Network(activation))
    for term, (mine, reference) in terms.items():
        assert relative_error(mine, reference) <= 1e-11, term


def test_the_sigmoid_derivative_takes_the_output_not_the_pre_activation():
    t = jnp.linspace(-6.0, 6.0, 101)
    expected = jax.vmap(jax.grad(jax.nn.sigmoid))(t)
    np.testing.assert_allclose(
        derivatives.sigmoid_derivative_from_output(jax.nn.sigmoid(t)), expected, rtol=1e-12
    )
    np.testing.assert_allclose(
        derivatives.activation_derivative("sigmoid", t, jax.nn.sigmoid(t)), expected, rtol=1e-12
    )


# --- planted mistakes: each must fail the per-term check, first at the term where it enters ----


def first_failing_term(problem, network=NETWORK):
    # a fresh program, traced after the registries were patched (a cached one would not see them)
    terms = jax.jit(lambda p: terms_of(p, network))(problem)
    for term in BACKWARD_ORDER:
        try:
            assert_term_matches(term, problem, network, terms=terms)
        except AssertionError:
            return term
    return None


PLANTED = {
    "σ' applied to the pre-activation (x·(1−x) fed x)": (
        derivatives.DERIVATIVES,
        "sigmoid",
        derivatives.Derivative("pre_activation", derivatives.sigmoid_derivative_from_output),
        "delta3",
    ),
    "σ' applied twice": (
        derivatives.DERIVATIVES,
        "sigmoid",
        derivatives.Derivative("output", lambda z: (z * (1 - z)) ** 2),
        "delta3",
    ),
    "the 2/n of the MSE gradient dropped": (
        derivatives.OUTPUT_DELTAS,
        "mse",
        lambda cache, target, out: (cache.y - target) * derivatives.sigmoid_derivative_from_output(cache.y),
        "delta3",
    ),
    "the 2/n of the MSE gradient doubled": (
        derivatives.OUTPUT_DELTAS,
        "mse",
        lambda cache, target, out: 2 * derivatives.mse_output_delta(cache, target, out),
        "delta3",
    ),
}


@pytest.mark.parametrize("mistake", PLANTED)
def test_a_planted_mistake_fails_the_check_where_it_enters(monkeypatch, mistake):
    table, key, wrong, expected_first = PLANTED[mistake]
    monkeypatch.setitem(table, key, wrong)
    for problem in problems():
        assert first_failing_term(problem) == expected_first


def test_a_hidden_layer_mistake_leaves_the_output_layer_right(monkeypatch):
    """σ' of the pre-activation in the hidden layers only: δ3, ∂W3, ∂b3 stay right, δ2 is wrong."""
    monkeypatch.setitem(activations.ACTIVATIONS, "planted", jax.nn.sigmoid)
    wrong = derivatives.Derivative("pre_activation", derivatives.sigmoid_derivative_from_output)
    monkeypatch.setitem(derivatives.DERIVATIVES, "planted", wrong)
    assert first_failing_term(problems()[2], Network("planted")) == "delta2"


# --- training with the hand-written gradients ---------------------------------------------------


@pytest.mark.slow  # a whole run: make test-slow (CI)
@pytest.mark.parametrize("dataset", [data.linear(jax.random.key(0)), data.xor_easy()], ids=data.DATASET_NAMES)
def test_training_with_manual_gradients_matches_autodiff_and_learns(dataset):
    """Same key, float64, the lab's default run (5000 epochs, lr 1): the same loss history to 1e-9
    relative at every epoch (observed ≈ 1e-14), and both reach 100 %."""
    results = {}
    for grad in ("autodiff", "manual"):
        config = TrainConfig(grad=grad, dtype="float64")
        results[grad] = train_many(config, seed_keys(0, 1), HParams(lr=1.0), dataset.x, dataset.y)
    np.testing.assert_allclose(results["manual"].loss, results["autodiff"].loss, rtol=1e-9)
    for result in results.values():
        assert result.accuracy[0, -1] == 1.0
