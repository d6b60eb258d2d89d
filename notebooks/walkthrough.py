# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Backpropagation from scratch, in JAX: a walkthrough
#
# This notebook follows the lab from the data to a trained network: the forward pass, the
# hand-written backward pass checked term by term against `jax.grad`, one training run, 256 runs
# at once, and the decision boundary the network learns. Each step calls the project's own code,
# so you can open the file it names and read the whole thing.

# %%
import inspect

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

# %% [markdown]
# First we switch JAX to 64-bit floats, so the gradient check in section 3 measures the
# derivation and not rounding. JAX reads this flag once, so it must come before any JAX work.

# %%
jax.config.update("jax_enable_x64", True)

# %% [markdown]
# ## 1. The data
#
# The lab's two datasets: `linear`, 100 points uniform in the unit square drawn with a JAX key,
# and `xor_easy`, the handout's 21 fixed points. Inputs `x` are (n, 2) and labels are (n, 1),
# each 0.0 or 1.0.

# %%
from twolayer_jax import data

linear = data.linear(jax.random.key(0))
xor = data.xor_easy()
for dataset in (linear, xor):
    ones = int(dataset.y.sum())
    print(f"{dataset.name:8}  x {dataset.x.shape}  y {dataset.y.shape}  {ones} labelled 1")

# %% [markdown]
# Red points are labelled 0 and blue points 1, as the handout draws them. No straight line
# separates the two classes of `xor_easy`.

# %%
from twolayer_jax.plots import draw_points

fig, axes = plt.subplots(1, 2, figsize=(8, 4), layout="constrained")
for ax, dataset in zip(axes, (linear, xor), strict=True):
    draw_points(ax, dataset.x, dataset.y, dataset.name)
plt.show()

# %% [markdown]
# ## 2. The forward pass
#
# The network is x (n×2) → z1 = σ(x·W1 + b1) → z2 = σ(z1·W2 + b2) → y = σ(z2·W3 + b3) (n×1).
# Its parameters are a plain dict of arrays: weights drawn from N(0, 1/fan_in), biases zero
# (float64 here, for the check in section 3).

# %%
from twolayer_jax.model import forward, forward_layers, init_params

x, labels = xor.x, xor.y  # the labels y; the network's output is y_pred (cache.y below)
params = init_params(jax.random.key(0), (100, 100), jnp.float64)
for name, value in params.items():
    print(f"{name}: {value.shape}")

# %% [markdown]
# `forward_layers` keeps every value the backward pass needs: the pre-activations `x1, x2, x3`,
# the hidden outputs `z1, z2` and the output `y`. `forward` returns only `y`.

# %%
cache = forward_layers(params, x)
for name, value in cache._asdict().items():
    print(f"{name:2}: {value.shape}")
assert jnp.array_equal(forward(params, x), cache.y)

# %% [markdown]
# ## 3. The backward pass, by hand
#
# With the loss L = mean((y_pred − y)²), the backward pass walks from the output to the input. δk is
# ∂L/∂xk, the gradient in layer k's pre-activation; each layer's gradients follow from its δ.
# This table lists the terms in the order they are computed.

# %%
from twolayer_jax.checks.terms import TERMS

for term in TERMS:
    print(f"{term.symbol:>4}   {term.equation}")

# %% [markdown]
# Each equation is one small function in `manual/backpropagation.py`. Here are the three a
# layer uses. (Layers 1 and 2 get ∂W and ∂b from one product, `weight_and_bias_gradients`:
# the same numbers, computed faster.)

# %%
from manual.backpropagation import bias_gradient, hidden_delta, weight_gradient

for function in (hidden_delta, weight_gradient, bias_gradient):
    print(inspect.getsource(function))

# %% [markdown]
# Compute the output layer's terms yourself from the cache. σ'(x3) = σ(x3)(1 − σ(x3)) is
# computed from the output y = σ(x3), not from x3. Then compare with `manual.backward_with_deltas`.

# %%
import manual
from twolayer_jax.checks.comparison import relative_error

n = x.shape[0]
my_delta3 = (2 / n) * (cache.y - labels) * cache.y * (1 - cache.y)
my_grad_w3 = cache.z2.T @ my_delta3
my_grad_b3 = my_delta3.sum(axis=0)

grads, deltas = manual.backward_with_deltas(params, x, labels)
print(f"δ3   {relative_error(my_delta3, deltas.delta3):.1e}")
print(f"∂W3  {relative_error(my_grad_w3, grads['W3']):.1e}")
print(f"∂b3  {relative_error(my_grad_b3, grads['b3']):.1e}")

# %% [markdown]
# Now every term against `jax.grad`. `autodiff_gradient` differentiates the loss with respect to
# the parameters; `reference_deltas` differentiates it with respect to each pre-activation xk.

# %%
from twolayer_jax.gradients import autodiff_gradient, reference_deltas
from twolayer_jax.network import LAB_NETWORK

reference_grads, _ = autodiff_gradient(LAB_NETWORK)(params, x, labels)
reference = reference_grads | reference_deltas(params, x, labels, LAB_NETWORK)._asdict()
mine = grads | deltas._asdict()

print("term   relative error vs jax.grad")
for term in TERMS:
    print(f"{term.symbol:>4}   {relative_error(mine[term.key], reference[term.key]):.1e}")

# %% [markdown]
# In float64 a correct term differs from `jax.grad` only by rounding, about 1e-15; a real mistake
# gives 1e-2 or more. This assertion stops the notebook if the backward pass is wrong.

# %%
for term in TERMS:
    error = relative_error(mine[term.key], reference[term.key])
    assert error < 1e-10, f"{term.symbol} is wrong: relative error {error:.1e}"

# %% [markdown]
# ## 4. Training one seed
#
# `TrainConfig` holds everything fixed about a run; `make_train` turns it into a pure function,
# and `jax.jit` compiles the whole run, every epoch, into one program. The epoch loop is `epochs`
# in `make_epochs` (`twolayer_jax/one_run.py`), which `make_fit` runs: take the gradient, step the
# optimizer, record the loss and accuracy. Training runs in float32, the config's default.

# %%
from twolayer_jax.config import TrainConfig
from twolayer_jax.one_run import make_train
from twolayer_jax.optimizers import HParams

train = jax.jit(make_train(TrainConfig(epochs=3000)))
result = train(jax.random.key(0), HParams(lr=1.0), x, labels)
print("history:", result.loss.shape, result.accuracy.shape)  # epochs + 1 entries
print(f"after 3000 epochs: loss {result.loss[-1]:.4f}, accuracy {100 * result.accuracy[-1]:.2f} %")

# %% [markdown]
# The loss sits on a plateau near 0.25 before the network finds the XOR shape. The accuracy
# flickers from one epoch to the next: at lr 1.0 each step overshoots a little and the next one
# steps back, so a point near the boundary changes side every epoch until the margin grows.

# %%
fig, (loss_ax, accuracy_ax) = plt.subplots(1, 2, figsize=(10, 3.5), layout="constrained")
loss_ax.plot(result.loss)
loss_ax.set(yscale="log", xlabel="epoch", ylabel="loss (MSE)")
accuracy_ax.plot(100 * result.accuracy, lw=0.5)
accuracy_ax.set(xlabel="epoch", ylabel="accuracy (%)", ylim=(0, 102))
plt.show()

# %% [markdown]
# ## 5. 256 seeds in one call
#
# `train_many` trains one run per key in a single compiled program (`jax.vmap` over the runs of
# the same epoch loop), called for a bounded number of epochs at a time, so that ctrl-C stops it
# within about a second. Every array in the result gets a leading axis of 256, one row per seed.

# %%
from twolayer_jax.many_runs import seed_keys, train_many

many = train_many(TrainConfig(epochs=2000), seed_keys(0, 256), HParams(), x, labels)
print("loss history:", many.loss.shape)

accuracy = np.asarray(many.accuracy)
reached = (accuracy == 1.0).any(axis=1)
first_epoch = np.argmax(accuracy == 1.0, axis=1)[reached]
print(f"{reached.sum()} of 256 seeds reach 100 % within 2000 epochs")
print(f"{(accuracy[:, -1] == 1.0).sum()} of 256 end there")

# %% [markdown]
# Left: when each seed first reaches 100 %. Right: the median loss over the 256 seeds, with the
# band holding the middle half of them.

# %%
low, median, high = np.quantile(np.asarray(many.loss), [0.25, 0.5, 0.75], axis=0)
fig, (hist_ax, loss_ax) = plt.subplots(1, 2, figsize=(10, 3.5), layout="constrained")
hist_ax.hist(first_epoch, bins=30)
hist_ax.set(xlabel="first epoch at 100 % accuracy", ylabel="seeds")
loss_ax.fill_between(np.arange(median.size), low, high, alpha=0.3, label="interquartile range")
loss_ax.plot(median, label="median")
loss_ax.set(yscale="log", xlabel="epoch", ylabel="loss (MSE)")
loss_ax.legend()
plt.show()

# %% [markdown]
# ## 6. The decision boundary
#
# The network from section 4 can be evaluated anywhere, not only at the 21 points. On a grid
# over the unit square (and a little beyond), the black 0.5 contour is where its prediction
# switches from 0 to 1.

# %%
axis = np.linspace(-0.05, 1.05, 111)
grid = np.stack(np.meshgrid(axis, axis), axis=-1).reshape(-1, 2)  # (111·111, 2)
output = np.asarray(forward(result.params, grid)).reshape(axis.size, axis.size)

fig, ax = plt.subplots(figsize=(5.5, 4.5), layout="constrained")
filled = ax.contourf(axis, axis, output, levels=np.linspace(0, 1, 11), cmap="RdBu", alpha=0.6)
ax.contour(axis, axis, output, levels=[0.5], colors="black")
fig.colorbar(filled, ax=ax, label="network output y")
draw_points(ax, x, labels, "xor_easy: what seed 0 learned")
plt.show()

# %% [markdown]
# To check your own NumPy backward pass term by term, run `twolayer-jax check` (or
# `python -m twolayer_jax.check`); the README lists the other commands.
