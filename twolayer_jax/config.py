"""What a run is: everything static about it, in one frozen, hashable :class:`TrainConfig`.

Its defaults are the lab's settings (its epochs, widths, network, plain gradient descent,
float32); :class:`twolayer_jax.optimizers.HParams` holds the numeric ones, the learning rate among
them. ``jit`` keys a compiled program on the config, so a new config compiles a new program while
a new seed or learning rate reuses one.
"""

import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from manual.optimizers import OPTIMIZERS as MANUAL_OPTIMIZERS
from twolayer_jax.gradients import GRADIENTS
from twolayer_jax.model import LAB_HIDDEN, Params, init_conv_params, init_params
from twolayer_jax.network import LAB_NETWORK, Network
from twolayer_jax.optimizers import OPTIMIZERS
from twolayer_jax.registry import lookup

DTYPES = ("float32", "float64")  # a run computes in one of these


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything static about a run: hashable, so ``jit`` keys its compiled program on it."""

    epochs: int = 5000
    hidden: tuple[int, int] = LAB_HIDDEN
    network: Network = LAB_NETWORK  # activations and loss
    optimizer: str = "sgd"  # the lab's plain gradient descent
    optimizer_impl: str = "optax"  # or "manual": the hand-written twins in manual/optimizers.py
    # "autodiff" trains on jax.grad, the same numbers to rounding. Manual computes z1ᵀ·δ2 and the
    # bias sum Σ δ2 as one product with a row of ones under z1ᵀ (manual/backpropagation.py), which
    # XLA's CPU backend gives to its fast matmul library; jax.grad's z1ᵀ·δ2 falls back to XLA's
    # own, slower dot.
    grad: str = "manual"
    dtype: str = "float32"
    model: str = "dense"  # or "conv": layer 2 a 1-D convolution over layer 1's h1 = hidden[0] features
    channels: int = 4  # conv: output channels
    kernel_size: int = 5  # conv: kernel width, narrower than h1

    def __post_init__(self):
        object.__setattr__(self, "hidden", tuple(self.hidden))
        if self.epochs < 1:
            raise ValueError(f"epochs must be positive, got {self.epochs}")
        if len(self.hidden) != 2 or min(self.hidden) < 1:
            raise ValueError(f"hidden must be two positive widths, got {self.hidden}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype!r}")
        if not isinstance(self.network, Network):
            raise ValueError(f"network must be a Network, got {self.network!r}")
        lookup(
            lookup(OPTIMIZER_IMPLS, "optimizer implementation", self.optimizer_impl),
            "optimizer",
            self.optimizer,
        )
        lookup(GRADIENTS, "gradient", self.grad)
        if self.model not in ("dense", "conv"):
            raise ValueError(f"model must be dense or conv, got {self.model!r}")
        if self.model == "conv" and not (1 <= self.kernel_size < self.hidden[0] and self.channels >= 1):
            raise ValueError(
                f"the conv model needs 1 <= kernel_size < h1 and channels >= 1, got kernel_size "
                f"{self.kernel_size}, h1 {self.hidden[0]}, channels {self.channels}"
            )

    @property
    def architecture(self) -> "Architecture":
        return Architecture(self.model, self.hidden, self.channels, self.kernel_size, self.dtype)


class Architecture(NamedTuple):
    """The part of a :class:`TrainConfig` a run's initial params depend on. Configs that differ
    only in how they train (epochs, optimizer, activation, loss, gradient) share it, and with it
    one compiled program that draws their initial params."""

    model: str
    hidden: tuple[int, int]
    channels: int
    kernel_size: int
    dtype: str

    def init_params(self, key: Array, widths: Array | None = None) -> Params:
        """Initial params for ``key``; ``widths`` masks a narrower dense network (see
        :func:`twolayer_jax.model.init_params`)."""
        dtype = require_dtype(self.dtype)
        require_dense_for_widths(self.model, widths)
        if self.model == "conv":
            return init_conv_params(key, self.hidden[0], self.channels, self.kernel_size, dtype)
        return init_params(key, self.hidden, dtype, widths)


# implementation → optimizer name → factory(hparams) → an optax-shaped (init, update) pair
OPTIMIZER_IMPLS = {"optax": OPTIMIZERS, "manual": MANUAL_OPTIMIZERS}


def require_dtype(dtype: str) -> jnp.dtype:
    """``dtype`` as a NumPy dtype; float64 needs ``jax_enable_x64``, which JAX reads once at start."""
    if dtype == "float64" and not jax.config.read("jax_enable_x64"):
        raise ValueError("float64 needs jax.config.update('jax_enable_x64', True) before any JAX work")
    return jnp.dtype(dtype)


def require_dense_for_widths(model: str, widths: ArrayLike | None) -> None:
    if widths is not None and model != "dense":
        raise ValueError("masked widths need the dense model")
