"""How ``train_many`` lays runs out (padding to masked widths, shards over devices, chunks on
each device) changes the speed, never a result: each is compared, in float64, with the plain
computation it replaces."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from twolayer_jax import data
from twolayer_jax.config import TrainConfig
from twolayer_jax.devices import platform
from twolayer_jax.many_runs import seed_keys, seed_layout, train_many
from twolayer_jax.model import init_params, width_masks
from twolayer_jax.one_run import make_fit, make_train
from twolayer_jax.optimizers import HParams

XOR = data.xor_easy()
LINEAR = data.linear(jax.random.key(0))
PADDED = (12, 12)


def unpadded(params, widths):
    """The narrow network inside a padded one: the used rows and columns of each parameter."""
    w1, w2 = widths
    return {
        "W1": params["W1"][:, :w1], "b1": params["b1"][:w1],
        "W2": params["W2"][:w1, :w2], "b2": params["b2"][:w2],
        "W3": params["W3"][:w2], "b3": params["b3"],
    }  # fmt: skip


def test_masked_init_is_lecun_for_the_used_widths_and_zero_elsewhere():
    params = init_params(jax.random.key(0), (400, 400), jnp.float64, widths=(300, 200))
    masks = width_masks((300, 200), (400, 400), jnp.float64)
    for name, leaf in params.items():
        assert np.all(leaf[masks[name] == 0] == 0), name
    # std 1/sqrt(fan_in) with the used fan-ins, 300 for W2 and 200 for W3
    assert np.std(params["W2"][:300, :200]) * np.sqrt(300) == pytest.approx(1, abs=0.01)
    assert np.std(params["W3"][:200]) * np.sqrt(200) == pytest.approx(1, abs=0.1)


def test_full_widths_mask_nothing():
    key = jax.random.key(7)
    chex.assert_trees_all_equal(
        init_params(key, (6, 5), jnp.float64, widths=(6, 5)), init_params(key, (6, 5), jnp.float64)
    )


@pytest.mark.parametrize(
    ("optimizer", "grad", "dataset"),
    [("sgd", "autodiff", XOR), ("sgd", "manual", LINEAR), ("adamw", "autodiff", XOR)],
)
@pytest.mark.parametrize("widths", [(1, 1), (3, 5), (12, 4)])
def test_a_masked_network_trains_exactly_like_the_unpadded_one(widths, optimizer, grad, dataset):
    """From the same initial weights, the whole loss and accuracy history of a width-h network
    padded to 12 units equals the unpadded width-h network's, and the padding stays zero.

    The two differ only in rounding (a dot product over 12 terms, the extra ones exact zeros,
    may add in another order). Adam divides by the gradient's size, which magnifies rounding once
    XOR's gradients get small (to 1e-8 by epoch 300), so its runs are shorter. Rounding reaches
    about 1e-12 relative over 600 epochs (jax 0.7's XLA: 1.6e-12), so 1e-11 allows it and is
    still nine orders below what an unmasked unit would change.
    """
    epochs = 200 if optimizer == "adamw" else 600
    config = TrainConfig(epochs=epochs, hidden=PADDED, optimizer=optimizer, grad=grad, dtype="float64")
    hparams = HParams(lr=0.02 if optimizer == "adamw" else 2.0, weight_decay=0.1)
    start = init_params(jax.random.key(3), PADDED, jnp.float64, widths=widths)
    masks = width_masks(widths, PADDED, jnp.float64)
    padded = jax.jit(make_fit(config))(start, hparams, dataset.x, dataset.y, masks)
    narrow_config = TrainConfig(epochs=epochs, hidden=widths, optimizer=optimizer, grad=grad, dtype="float64")
    narrow = jax.jit(make_fit(narrow_config))(unpadded(start, widths), hparams, dataset.x, dataset.y)

    np.testing.assert_allclose(padded.loss, narrow.loss, rtol=1e-11, atol=0)
    np.testing.assert_array_equal(padded.accuracy, narrow.accuracy)
    chex.assert_trees_all_close(unpadded(padded.params, widths), narrow.params, rtol=1e-10, atol=1e-13)
    for name, leaf in padded.params.items():
        assert np.all(leaf[masks[name] == 0] == 0), f"a masked {name} moved"
    assert padded.loss[-1] < padded.loss[0]  # it did train


def test_one_program_sweeps_the_width():
    """Every width of a grid in one train_many call equals that width trained alone, unpadded."""
    config = TrainConfig(epochs=300, hidden=PADDED, dtype="float64")
    grid = jnp.array([[1, 1], [2, 7], [12, 12]])
    keys = seed_keys(4, 3)
    swept = train_many(config, keys, HParams(lr=2.0), XOR.x, XOR.y, widths=grid)
    for cell, widths in enumerate(grid.tolist()):
        start = init_params(keys[cell], PADDED, jnp.float64, widths=widths)
        alone = jax.jit(make_fit(TrainConfig(epochs=300, hidden=tuple(widths), dtype="float64")))(
            unpadded(start, widths), HParams(lr=2.0), XOR.x, XOR.y
        )
        np.testing.assert_allclose(swept.loss[cell], alone.loss, rtol=1e-12, atol=0)


@pytest.mark.parametrize("chunk_size", [1, 3, 16])
def test_sharded_chunked_runs_equal_one_plain_vmap(chunk_size):
    """7 runs with their own learning rates, split over the devices in chunks (and padded to fill
    them), give what a plain jit(vmap(train)) on one device gives."""
    if platform() != "cpu" and jax.device_count() == 1:
        pytest.skip("one accelerator: nothing to shard (on a CPU, conftest makes two devices)")
    assert jax.device_count() >= 2  # the split really happens
    config = TrainConfig(epochs=150, hidden=(9, 7), dtype="float64")
    keys, rates = seed_keys(10, 7), jnp.linspace(0.25, 2.0, 7)
    laid_out = train_many(config, keys, HParams(lr=rates), LINEAR.x, LINEAR.y, chunk_size=chunk_size)
    train = make_train(config)
    plain = jax.jit(jax.vmap(lambda key, lr: train(key, HParams(lr=lr), LINEAR.x, LINEAR.y)))(keys, rates)
    # the same arithmetic up to rounding: batched and unbatched matmuls may add in another order
    chex.assert_trees_all_close(laid_out, plain, rtol=1e-12, atol=1e-15)


@given(runs=st.integers(1, 5000), devices=st.sampled_from([1, 2, 8, 64]), chunk_size=st.integers(1, 64))
def test_the_layout_covers_every_run_with_little_padding(runs, devices, chunk_size):
    layout = seed_layout(runs, devices, chunk_size)
    assert layout.chunk <= chunk_size
    assert layout.padded >= runs
    # balanced chunks: less than one extra run per chunk, beyond filling the last device
    assert layout.padded - runs < devices * layout.chunks + devices
