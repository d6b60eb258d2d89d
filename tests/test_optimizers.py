"""Each hand-written optimizer of ``manual/optimizers.py`` against its optax twin, and training
with every optimizer's state vmapped over seeds."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from manual import optimizers as manual_optimizers
from twolayer_jax import data
from twolayer_jax.checks.comparison import relative_error
from twolayer_jax.config import TrainConfig
from twolayer_jax.many_runs import seed_keys, train_many
from twolayer_jax.model import init_params
from twolayer_jax.optimizers import OPTIMIZERS, HParams

# non-default values, so a hyper-parameter read from the wrong field shows
HPARAMS = HParams(lr=0.05, momentum=0.8, b1=0.85, b2=0.99, eps=1e-6, decay=0.7, weight_decay=0.03)


def gradient_stream(params, steps, key):
    """``steps`` random gradients shaped like ``params``, some entries exactly zero."""
    for step_key in jax.random.split(key, steps):
        leaves = jax.random.split(step_key, len(params))
        grads = {
            k: jax.random.normal(leaf, v.shape, v.dtype)
            for (k, v), leaf in zip(params.items(), leaves, strict=True)
        }
        yield {k: jnp.where(jnp.abs(g) < 0.05, 0.0, g) for k, g in grads.items()}


def test_both_implementations_know_the_same_optimizers():
    assert list(manual_optimizers.OPTIMIZERS) == list(OPTIMIZERS)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_each_manual_optimizer_matches_optax_for_100_steps(name):
    params = init_params(jax.random.key(0), (5, 3), jnp.float64)
    mine, theirs = manual_optimizers.OPTIMIZERS[name](HPARAMS), OPTIMIZERS[name](HPARAMS)
    mine_state, their_state = mine.init(params), theirs.init(params)
    mine_params, their_params = params, params
    update_mine, update_theirs = jax.jit(mine.update), jax.jit(theirs.update)
    for step, grads in enumerate(gradient_stream(params, 100, jax.random.key(1))):
        mine_updates, mine_state = update_mine(grads, mine_state, mine_params)
        their_updates, their_state = update_theirs(grads, their_state, their_params)
        for key in params:
            error = relative_error(mine_updates[key], their_updates[key])
            assert error <= 1e-12, f"{name}, step {step}, {key}: {error:.1e}"
        mine_params = optax.apply_updates(mine_params, mine_updates)
        their_params = optax.apply_updates(their_params, their_updates)
    assert not np.allclose(mine_params["W1"], params["W1"])  # it really moved


def test_a_planted_bias_correction_mistake_is_caught():
    """Adam with β1ᵗ⁻¹ in place of β1ᵗ (an off-by-one step count) must fail the same check."""
    params = init_params(jax.random.key(0), (4, 4), jnp.float64)
    theirs = OPTIMIZERS["adam"](HPARAMS)
    state_theirs = theirs.init(params)
    mine = manual_optimizers.adam(HPARAMS)
    state_mine = mine.init(params)
    grads = next(gradient_stream(params, 2, jax.random.key(2)))
    wrong, _ = mine.update(grads, state_mine._replace(count=state_mine.count + 1), params)
    right, _ = theirs.update(grads, state_theirs, params)
    assert relative_error(wrong["W2"], right["W2"]) > 1e-2


# what each optimizer steps along, read off the lab's formulas rather than its factories
DIRECTIONS = {
    "sgd": manual_optimizers.gradient,
    "momentum": manual_optimizers.velocity,
    "nesterov": lambda h: manual_optimizers.velocity(h, nesterov=True),
    "adagrad": manual_optimizers.adagrad_direction,
    "rmsprop": manual_optimizers.rmsprop_direction,
    "adam": manual_optimizers.adam_direction,
    "adamw": manual_optimizers.adamw_direction,
}


@settings(max_examples=10)  # eager steps on small trees: each example is cheap, seven names
@given(lr=st.floats(1e-4, 10.0))
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_each_manual_optimizer_steps_by_minus_lr_times_its_direction(name, lr):
    """Every update is −lr·u, with u the direction alone, built here with another lr: so no
    direction reads lr, and the step is the same for all. Eager, so equal to the last bit."""
    params = init_params(jax.random.key(0), (5, 3), jnp.float64)
    optimizer = manual_optimizers.OPTIMIZERS[name](HPARAMS._replace(lr=lr))
    direction = DIRECTIONS[name](HPARAMS)
    state, direction_state = optimizer.init(params), direction.init(params)
    for grads in gradient_stream(params, 3, jax.random.key(3)):
        updates, state = optimizer.update(grads, state, params)
        u, direction_state = direction.update(grads, direction_state, params)
        chex.assert_trees_all_equal(updates, jax.tree.map(lambda u: -lr * u, u))
        chex.assert_trees_all_equal(state, direction_state)  # the step keeps no state of its own
        params = optax.apply_updates(params, updates)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_training_with_every_optimizer_vmaps_over_seeds(name):
    xor = data.xor_easy()
    adaptive = name.startswith("adam") or name == "rmsprop"
    # rmsprop's ε sits inside the square root: at 1e-8 it turns the rounding noise of near-zero
    # gradients (which differs between a batched and a single run) into full-size steps
    hparams = HParams(lr=0.01 if adaptive else 0.5, eps=1e-4 if name == "rmsprop" else 1e-8)
    results = {}
    for impl in ("optax", "manual"):
        config = TrainConfig(epochs=60, hidden=(8, 8), optimizer=name, optimizer_impl=impl, dtype="float64")
        results[impl] = train_many(config, seed_keys(0, 3), hparams, xor.x, xor.y)
    alone = train_many(config, seed_keys(2, 1), hparams, xor.x, xor.y)  # the manual state, unbatched
    chex.assert_trees_all_close(jax.tree.map(lambda leaf: leaf[2], results["manual"]),
                                jax.tree.map(lambda leaf: leaf[0], alone), rtol=1e-10)  # fmt: skip
    np.testing.assert_allclose(results["manual"].loss, results["optax"].loss, rtol=1e-9)
    assert np.all(np.isfinite(results["optax"].loss))
    assert float(results["optax"].loss[0, -1]) < float(results["optax"].loss[0, 0])  # it learns
