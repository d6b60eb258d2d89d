"""The engine: determinism, vmapped runs equal separate runs, float64 is real float64, one
compilation per (shape, config), divergence is recorded, and the lab's network learns."""

import _thread
import contextlib
import dataclasses
import signal
import subprocess
import sys
import threading
import time

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from twolayer_jax import data, many_runs
from twolayer_jax.config import Architecture, TrainConfig
from twolayer_jax.gradients import autodiff_gradient
from twolayer_jax.many_runs import (
    SEGMENT_POINT_EPOCHS,
    SEGMENT_SECONDS,
    TrainingInterrupted,
    default_segment_epochs,
    epoch_seconds,
    near_divisor,
    progress_total,
    seed_keys,
    seed_layout,
    segment_plan,
    train_many,
)
from twolayer_jax.model import init_params
from twolayer_jax.network import LAB_NETWORK, Network
from twolayer_jax.one_run import make_train
from twolayer_jax.optimizers import HParams
from twolayer_jax.summary import summarise

XOR = data.xor_easy()
LINEAR = data.linear(jax.random.key(0))


def train(config, first_seed=0, seeds=1, lr=1.0, dataset=XOR, **options):
    keys = seed_keys(first_seed, seeds)
    return train_many(config, keys, HParams(lr=lr), dataset.x, dataset.y, **options)


def test_the_same_keys_give_bit_identical_results():
    config = TrainConfig(epochs=50, hidden=(16, 16))
    chex.assert_trees_all_equal(train(config, seeds=3), train(config, seeds=3))


def test_history_has_one_entry_per_update_count_and_the_run_axis_leads():
    result = train(TrainConfig(epochs=30, hidden=(4, 5)), seeds=2)
    assert result.loss.shape == (2, 31) and result.accuracy.shape == (2, 31)
    assert result.params["W2"].shape == (2, 4, 5)


# float32 runs laid out differently round differently: after 200 updates values of order 1 differ
# in their last few bits (up to 3.6e-7 measured), far below what mixing up two runs would give.
@pytest.mark.parametrize(("dtype", "rtol", "atol"), [("float64", 1e-12, 1e-15), ("float32", 1e-5, 1e-6)])
def test_vmapped_seeds_equal_separate_single_seed_runs(dtype, rtol, atol):
    config = TrainConfig(epochs=200, hidden=(12, 9), dtype=dtype)
    together = train(config, first_seed=5, seeds=4)
    for i in range(4):
        alone = train(config, first_seed=5 + i, seeds=1)
        chex.assert_trees_all_close(
            jax.tree.map(lambda leaf, i=i: leaf[i], together),
            jax.tree.map(lambda leaf: leaf[0], alone),
            rtol=rtol,
            atol=atol,
        )


def test_per_run_learning_rates_equal_separate_runs():
    config = TrainConfig(epochs=100, hidden=(8, 8), dtype="float64")
    rates = jnp.array([0.1, 1.0, 3.0])
    keys = jnp.stack([seed_keys(0, 1)[0]] * 3)
    swept = train_many(config, keys, HParams(lr=rates), XOR.x, XOR.y)
    for i, rate in enumerate([0.1, 1.0, 3.0]):
        alone = train(config, lr=rate)
        np.testing.assert_allclose(swept.loss[i], alone.loss[0], rtol=1e-12)
    assert not np.allclose(swept.loss[0], swept.loss[2])  # the rates really differ


@pytest.mark.slow  # a whole run: make test-slow (CI)
def test_the_default_network_reaches_100_percent_on_both_datasets():
    config = TrainConfig()  # the lab's network: 100x100 sigmoid, MSE, plain GD, 5000 epochs
    for dataset in (LINEAR, XOR):
        runs = summarise([0, 1, 2], train(config, seeds=3, lr=1.0, dataset=dataset))
        assert [run.final_accuracy for run in runs] == [1.0, 1.0, 1.0], dataset.name
        assert all(run.first_epoch_at_100 < config.epochs for run in runs)


def numpy_gradient_descent(params, x, y, lr, epochs):
    """LAB.md's forward, backward and update in NumPy float64: the loss after each update count."""
    p = {k: np.array(v, np.float64) for k, v in params.items()}
    sigmoid = lambda t: 1.0 / (1.0 + np.exp(-t))  # noqa: E731
    losses = []
    for _ in range(epochs + 1):
        z1 = sigmoid(x @ p["W1"] + p["b1"])
        z2 = sigmoid(z1 @ p["W2"] + p["b2"])
        out = sigmoid(z2 @ p["W3"] + p["b3"])
        losses.append(np.mean((out - y) ** 2))
        d3 = 2 / len(x) * (out - y) * out * (1 - out)
        d2 = d3 @ p["W3"].T * z2 * (1 - z2)
        d1 = d2 @ p["W2"].T * z1 * (1 - z1)
        grads = {"W3": z2.T @ d3, "b3": d3.sum(0), "W2": z1.T @ d2, "b2": d2.sum(0),
                 "W1": x.T @ d1, "b1": d1.sum(0)}  # fmt: skip
        p = {k: p[k] - lr * grads[k] for k in p}
    return np.array(losses)


def test_float64_mode_computes_in_float64():
    epochs, hidden, key = 20, (10, 7), seed_keys(0, 1)[0]
    run64 = train(TrainConfig(epochs=epochs, hidden=hidden, dtype="float64"), lr=2.0)
    run32 = train(TrainConfig(epochs=epochs, hidden=hidden, dtype="float32"), lr=2.0)
    assert run64.loss.dtype == jnp.float64 and run64.params["W1"].dtype == jnp.float64
    assert run32.loss.dtype == jnp.float32 and run32.params["W1"].dtype == jnp.float32
    for dtype, run in ((jnp.float64, run64), (jnp.float32, run32)):
        reference = numpy_gradient_descent(init_params(key, hidden, dtype), XOR.x, XOR.y, 2.0, epochs)
        error = np.max(np.abs(run.loss[0] / reference - 1))
        if dtype == jnp.float64:
            assert error < 1e-12
        else:
            assert 1e-10 < error < 1e-4  # float32 is close, but visibly not float64


def counting(grad_fn):
    traces = []

    def counted(params, x, y):
        traces.append(1)  # runs only while JAX traces, never in the compiled program
        return grad_fn(params, x, y)

    return counted, traces


def test_new_keys_or_learning_rates_reuse_the_compiled_program():
    grad_fn, traces = counting(autodiff_gradient(LAB_NETWORK))
    config = TrainConfig(epochs=10, hidden=(6, 6))
    train(config, first_seed=0, seeds=4, lr=0.5, grad_fn=grad_fn)
    train(config, first_seed=100, seeds=4, lr=2.5, grad_fn=grad_fn)
    assert len(traces) == 1
    train(config, first_seed=0, seeds=5, lr=0.5, grad_fn=grad_fn)  # a new shape must retrace
    train(TrainConfig(epochs=11, hidden=(6, 6)), seeds=4, grad_fn=grad_fn)  # so must a new config
    assert len(traces) == 3


def test_configs_that_differ_only_in_how_they_train_share_the_initial_params_program(monkeypatch):
    draws = []
    draw = Architecture.init_params

    def counted(architecture, key, widths=None):
        draws.append(architecture)  # runs only while JAX traces, never in the compiled program
        return draw(architecture, key, widths)

    monkeypatch.setattr(Architecture, "init_params", counted)
    hidden = (7, 3)  # no other test trains this width, so no earlier program is reused
    train(TrainConfig(epochs=3, hidden=hidden), seeds=2)
    other = TrainConfig(epochs=5, hidden=hidden, optimizer="adam", network=Network("tanh"), grad="autodiff")
    assert train(other, seeds=2).loss.shape == (2, 6)
    assert len(draws) == 1
    train(TrainConfig(epochs=3, hidden=(7, 4)), seeds=2)  # a new architecture draws in a new program
    assert len(draws) == 2


@pytest.mark.parametrize("init", ["lecun_normal", "uniform"])
@pytest.mark.parametrize("widths", [None, [[1, 1], [2, 3], [6, 4], [3, 2], [5, 1]]])
def test_every_run_of_a_study_starts_from_the_very_params_its_key_draws_alone(init, widths):
    """Seed s of any study starts where ``train --seed s`` starts, to the last bit: the study's
    draw (one program for every run, split across the devices) is the one-key draw, run by run,
    each with its own widths."""
    architecture = TrainConfig(hidden=(6, 4), init=init).architecture
    keys = seed_keys(3, 5)
    layout = seed_layout(5, jax.device_count(), 2)
    per_run = None if widths is None else np.asarray(widths, np.int32)
    drawn = many_runs.initial_params_many(architecture, layout, keys, per_run)
    alone = jax.jit(architecture.init_params)
    for run, key in enumerate(keys):
        expected = alone(key, None if per_run is None else per_run[run])
        chex.assert_trees_all_equal(jax.tree.map(lambda leaf, r=run: leaf[r], drawn), expected)


def test_masked_widths_on_the_conv_model_are_a_clear_error():
    config = TrainConfig(epochs=2, model="conv", hidden=(8, 8), kernel_size=3)
    with pytest.raises(ValueError, match=r"^masked widths need the dense model"):
        train(config, seeds=2, widths=(4, 4))


def test_float64_without_x64_is_a_clear_error():
    script = (
        "import jax; from twolayer_jax.many_runs import *; from twolayer_jax.data import xor_easy;"
        "d = xor_easy(); train_many(TrainConfig(epochs=2, dtype='float64'), seed_keys(0, 1),"
        " HParams(), d.x, d.y)"
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert completed.returncode != 0
    assert "ValueError: float64 needs jax.config.update('jax_enable_x64', True)" in completed.stderr


def test_a_diverging_run_is_recorded_as_diverged():
    config = TrainConfig(epochs=40, hidden=(100, 100), network=Network("identity", "identity"))
    result = train(config, seeds=2, lr=1.0)
    runs = summarise([0, 1], result)
    for run, loss in zip(runs, np.asarray(result.loss), strict=True):
        assert run.diverged and run.final_loss is None and run.final_accuracy is None
        assert np.all(np.isfinite(loss[: run.diverged_at])) and not np.isfinite(loss[run.diverged_at])


def poisoned_gradient(leaf: str, index: tuple[int, ...]):
    """jax.grad's gradient with one entry of one leaf set to −inf: that weight is +inf after one update."""

    def grad_fn(params, x, y):
        grads, cache = autodiff_gradient(LAB_NETWORK)(params, x, y)
        return {**grads, leaf: grads[leaf].at[index].set(-jnp.inf)}, cache

    return grad_fn


# Every linear point has x[0] > 0, so W1[0, 0] = +inf saturates a unit instead of making NaN, and
# W3 or b3 = +inf saturates the output: the loss alone would stay finite. The loss is NaN from the
# first update on whichever weight or bias goes non-finite, first entry or last, dense or conv.
POISONED = [
    ("dense", "W1", (0, 0)), ("dense", "b1", (0,)), ("dense", "W2", (-1, -1)), ("dense", "b2", (0,)),
    ("dense", "W3", (0, 0)), ("dense", "b3", (0,)), ("conv", "K2", (-1, 0, -1)), ("conv", "b2", (-1,)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("model", "leaf", "index"),
    POISONED,
    ids=[f"{model}-{leaf}{list(index)}" for model, leaf, index in POISONED],
)
def test_a_non_finite_weight_makes_the_loss_nan_even_where_the_output_saturates(model, leaf, index):
    config = TrainConfig(epochs=5, hidden=(6, 3), model=model, channels=2, kernel_size=3)
    result = train(config, grad_fn=poisoned_gradient(leaf, index), dataset=LINEAR)
    assert np.isfinite(result.loss[0, 0]) and np.all(np.isnan(result.loss[0, 1:]))


def test_the_progress_hook_hears_the_epochs_done_after_each_segment_and_changes_nothing():
    heard = []
    config = TrainConfig(epochs=250, hidden=(5, 5))
    with_progress = train(config, seeds=2, progress=heard.append, segment_epochs=60)
    assert heard == [60, 120, 180, 240, 250] and heard[-1] == progress_total(config)
    chex.assert_trees_all_equal(with_progress, train(config, seeds=2))


def test_one_segment_at_most_is_queued_behind_the_one_waited_for(monkeypatch):
    """Each segment is dispatched before the one ahead of it is waited for, and no further."""
    dispatched, heard = [], []
    fit_segment = many_runs.fit_segment

    def counted(config, layout, count, *args, **kwargs):
        dispatched.append(count)
        return fit_segment(config, layout, count, *args, **kwargs)

    monkeypatch.setattr(many_runs, "fit_segment", counted)
    train(TrainConfig(epochs=250, hidden=(5, 5)), seeds=2, segment_epochs=60,
          progress=lambda done: heard.append((done, sum(dispatched))))  # fmt: skip
    assert heard == [(60, 120), (120, 180), (180, 240), (240, 250), (250, 250)]


# adam carries state from one segment to the next; a length of 1 is run as 2 (XLA compiles a
# one-step loop without its loop, and adam's step then rounds differently); 7 leaves a remainder;
# 3 seeds of masked widths are padded to fill the two devices.
@pytest.mark.parametrize(("optimizer", "segment_epochs"), [("adam", 1), ("adam", 7), ("sgd", 10)])
def test_a_run_in_segments_is_bit_identical_to_the_run_in_one(optimizer, segment_epochs):
    config = TrainConfig(epochs=30, hidden=(6, 5), optimizer=optimizer)
    options = {"seeds": 3, "lr": 0.05, "dataset": LINEAR, "widths": (4, 3)}
    in_one = train(config, segment_epochs=30, **options)
    chex.assert_trees_all_equal(train(config, segment_epochs=segment_epochs, **options), in_one)


@given(epochs=st.integers(1, 400), segment_epochs=st.integers(1, 400))
def test_segments_cover_the_epochs_in_at_most_two_lengths(epochs, segment_epochs):
    plan = segment_plan(epochs, segment_epochs)
    assert sum(plan) == epochs and len(set(plan[:-1])) <= 1
    assert min(plan) >= min(2, epochs) and max(plan) <= max(2, segment_epochs) + 1


def test_a_segment_has_one_epoch_only_in_a_run_of_one():
    assert segment_plan(30, 7) == (7, 7, 7, 7, 2) and segment_plan(30, 10) == (10, 10, 10)
    assert segment_plan(31, 10) == (10, 10, 11) and segment_plan(5, 1) == (2, 3)
    assert segment_plan(1, 4) == (1,)


def test_the_default_segment_is_bounded_work_and_prefers_a_divisor_of_the_epochs():
    lab = TrainConfig()
    small = TrainConfig(hidden=(5, 5))
    assert default_segment_epochs(small, seed_layout(2, 2, 4), 21, "cpu") == small.epochs  # one segment
    for platform in ("cpu", "gpu"):
        for runs, chunk in ((8, 4), (1024, 4), (65536, 4096)):
            layout = seed_layout(runs, 2, chunk)
            length = default_segment_epochs(lab, layout, 100, platform)
            seconds = length * epoch_seconds(lab, layout, 100, platform)
            # no longer than half a second of work, or than the few epochs whose work hides its cost
            assert 1 <= length <= lab.epochs and (
                seconds <= SEGMENT_SECONDS or length == SEGMENT_POINT_EPOCHS // 100
            )
    assert near_divisor(5000, 730) == 625 and near_divisor(1009, 500) == 500  # 1009 is prime
    layout, plain = seed_layout(256, 2, 4), TrainConfig(epochs=6000)
    for slower in (dataclasses.replace(plain, dtype="float64"), dataclasses.replace(plain, model="conv")):
        assert default_segment_epochs(slower, layout, 100, "cpu") < default_segment_epochs(
            plain, layout, 100, "cpu"
        )


def test_ctrl_c_in_the_progress_hook_raises_what_the_segments_dispatched_trained():
    """The hook hears 30 epochs done while the segment after them is queued: the interrupt lets
    it finish and counts it."""
    config = TrainConfig(epochs=100, hidden=(6, 5), optimizer="adam")

    def interrupt_at_30(done):
        if done == 30:
            raise KeyboardInterrupt

    with pytest.raises(TrainingInterrupted) as interrupted:
        train(config, seeds=3, lr=0.05, segment_epochs=10, progress=interrupt_at_30)
    assert isinstance(interrupted.value, KeyboardInterrupt) and interrupted.value.epochs_done == 40
    partial = interrupted.value.result
    assert partial.loss.shape == partial.accuracy.shape == (3, 41) and partial.params["W1"].shape == (3, 2, 6)
    whole = train(config, seeds=3, lr=0.05, segment_epochs=10)
    chex.assert_trees_all_equal(partial[1:], (whole.loss[:, :41], whole.accuracy[:, :41]))
    chex.assert_trees_all_equal(partial, train(dataclasses.replace(config, epochs=40), seeds=3, lr=0.05))


class Interrupter:
    """A ctrl-C from another thread, ``delay`` seconds after ``start``, as SIGINT delivers it.
    ``_thread.interrupt_main`` does nothing while SIGINT is ignored, as it is in a pytest-xdist
    worker, so the test that uses it installs a terminal's handler (:func:`python_handles_ctrl_c`)."""

    def __init__(self, delay: float):
        self.timer, self.sent_at = threading.Timer(delay, self.send), None

    def send(self):
        self.sent_at = time.monotonic()
        _thread.interrupt_main()


@contextlib.contextmanager
def python_handles_ctrl_c():
    """SIGINT raises KeyboardInterrupt in the block, as in a command run from a terminal, whatever
    the test runner set (an xdist worker ignores it); the runner's handler is back afterwards."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def test_ctrl_c_while_a_segment_runs_stops_the_run_soon_after():
    """Python runs a SIGINT's handler once the wait for the segment under way returns, and the
    interrupt waits for the one queued behind it: it acts within about two segments, long before
    the run's end, with the segments done."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("an interrupt reaches the main thread only")
    config = TrainConfig(epochs=2_000_000, hidden=(6, 5))  # most of a minute, in segments of 2000
    interrupter = Interrupter(0.3)

    def interrupt_soon(done):
        if done == 2000:  # the first segment is compiled and done: interrupt the ones that follow
            interrupter.timer.start()

    try:
        with python_handles_ctrl_c(), pytest.raises(TrainingInterrupted) as interrupted:
            train(config, seeds=3, segment_epochs=2000, progress=interrupt_soon)
        caught = time.monotonic()
    finally:
        interrupter.timer.cancel()
    assert caught - interrupter.sent_at < 2.0
    done = interrupted.value.epochs_done
    assert 0 < done < config.epochs and done % 2000 == 0
    partial = interrupted.value.result
    assert partial.loss.shape == partial.accuracy.shape == (3, done + 1)
    chex.assert_trees_all_equal(
        partial, train(dataclasses.replace(config, epochs=done), seeds=3, segment_epochs=2000)
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"epochs": 0}, "epochs must be positive"),
        ({"hidden": (0, 4)}, "hidden must be two positive widths"),
        ({"hidden": (4,)}, "hidden must be two positive widths"),
        ({"dtype": "float16"}, "dtype must be float32 or float64"),
        ({"network": ("swish", "sigmoid", "mse")}, "network must be a Network"),
        ({"optimizer": "lion"}, "unknown optimizer 'lion'"),
        ({"grad": "guess"}, "unknown gradient 'guess'"),
    ],
)
def test_a_bad_config_is_refused(options, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**options)


@pytest.mark.parametrize(
    ("names", "message"),
    [
        ({"activation": "swish"}, "unknown activation 'swish'"),
        ({"activation": "relu,tanh,gelu"}, "give one hidden activation or two"),
        ({"output_activation": "leaky_relu:x"}, "activation parameter must be a number"),
        ({"loss": "hinge"}, "unknown loss 'hinge'"),
        ({"output_activation": "identity", "loss": "bce"}, "loss 'bce' needs a sigmoid output"),
    ],
)
def test_a_bad_network_is_refused_where_it_is_built(names, message):
    with pytest.raises(ValueError, match=message):
        Network(**names)


@pytest.mark.parametrize("activation", ["identity", "tanh"])
def test_a_chunk_whose_runs_all_diverged_skips_its_epochs_and_changes_no_number(activation):
    """The network with a linear output at lr 1 diverges within a few epochs; from the next
    segment on every chunk of it is all NaN and skips its epochs. Each run's history and params
    are those of the run trained alone in one program, which never skips: NaN losses, the
    accuracy an all-NaN output gets, all-NaN params."""
    config = TrainConfig(epochs=120, network=Network(activation, "identity"))
    many = train(config, seeds=8, lr=1.0, dataset=LINEAR, segment_epochs=20)
    alone = jax.jit(make_train(config))
    for seed in range(8):
        one = alone(jax.random.key(seed), HParams(lr=1.0), LINEAR.x, LINEAR.y)
        assert np.isnan(np.asarray(one.loss)[-1])  # it did diverge, so its chunk did skip
        np.testing.assert_array_equal(np.asarray(many.loss[seed]), np.asarray(one.loss))
        np.testing.assert_array_equal(np.asarray(many.accuracy[seed]), np.asarray(one.accuracy))
        assert all(np.isnan(np.asarray(leaf[seed])).all() for leaf in jax.tree.leaves(many.params))
