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
from twolayer_jax import validation
from twolayer_jax.gradients import GRADIENTS
from twolayer_jax.initialisations import INITIALISATIONS, LAB_INIT, parse_initialisation
from twolayer_jax.model import (
    LAB_HIDDEN,
    Params,
    conv_layer_shapes,
    init_conv_params,
    init_params,
    layer_shapes,
)
from twolayer_jax.network import LAB_NETWORK, Network
from twolayer_jax.optimizers import OPTIMIZERS, check_hparams
from twolayer_jax.registry import lookup

DTYPES = ("float32", "float64")  # a run computes in one of these
MODELS = ("dense", "conv")
MAX_EPOCHS = 2**31 - 1  # the epoch counter of the compiled loop is an int32


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything static about a run: hashable, so ``jit`` keys its compiled program on it.

    Made only from valid fields: a ``TypeError`` or ``ValueError`` names a wrong one. The counts
    (epochs, hidden, channels, kernel_size) are whole numbers, NumPy integers included and stored
    as ints; floats and bools are refused (see :mod:`twolayer_jax.validation`)."""

    epochs: int = 5000  # 1..2**31 - 1
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
    init: str = LAB_INIT  # the weights' initialisation, a spec of twolayer_jax/initialisations.py

    def __post_init__(self):
        # Counts are stored as Python ints (a NumPy integer is accepted and converted), so equal
        # configs hash alike and print alike.
        counts = {
            "epochs": validation.whole_number(
                "epochs", self.epochs, high=MAX_EPOCHS, expected="positive, a whole number below 2**31"
            ),
            "hidden": validation.whole_numbers(
                "hidden", self.hidden, 2, "two positive widths (whole numbers)"
            ),
            "channels": validation.whole_number("channels", self.channels),
            "kernel_size": validation.whole_number("kernel_size", self.kernel_size),
        }
        for name, value in counts.items():
            object.__setattr__(self, name, value)
        if validation.text("dtype", self.dtype, DTYPES) not in DTYPES:
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype!r}")
        if not isinstance(self.network, Network):
            raise ValueError(f"network must be a Network, got {self.network!r}")
        impl = validation.text("optimizer_impl", self.optimizer_impl, tuple(OPTIMIZER_IMPLS))
        optimizers = lookup(OPTIMIZER_IMPLS, "optimizer_impl", impl)
        lookup(optimizers, "optimizer", validation.text("optimizer", self.optimizer, tuple(optimizers)))
        if validation.text("grad", self.grad, tuple(GRADIENTS)) not in GRADIENTS:
            raise ValueError(f"unknown gradient {self.grad!r}; grad must be one of {', '.join(GRADIENTS)}")
        parse_initialisation(validation.text("init", self.init, tuple(INITIALISATIONS)))
        if validation.text("model", self.model, MODELS) not in MODELS:
            raise ValueError(f"model must be dense or conv, got {self.model!r}")
        if self.model == "conv" and not (1 <= self.kernel_size < self.hidden[0] and self.channels >= 1):
            raise ValueError(
                f"the conv model needs 1 <= kernel_size < h1 and channels >= 1, got kernel_size "
                f"{self.kernel_size}, h1 {self.hidden[0]}, channels {self.channels}"
            )

    @property
    def architecture(self) -> "Architecture":
        return Architecture(self.model, self.hidden, self.channels, self.kernel_size, self.dtype, self.init)

    @property
    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        """The shape of each of a run's parameters."""
        if self.model == "conv":
            return conv_layer_shapes(self.hidden[0], self.channels, self.kernel_size)
        return layer_shapes(self.hidden)


class Architecture(NamedTuple):
    """The part of a :class:`TrainConfig` a run's initial params depend on. Configs that differ
    only in how they train (epochs, optimizer, activation, loss, gradient) share it, and with it
    one compiled program that draws their initial params; the initialisation is part of it."""

    model: str
    hidden: tuple[int, int]
    channels: int
    kernel_size: int
    dtype: str
    init: str = LAB_INIT

    def init_params(self, key: Array, widths: Array | None = None) -> Params:
        """Initial params for ``key``; ``widths`` masks a narrower dense network (see
        :func:`twolayer_jax.model.init_params`)."""
        dtype = require_dtype(self.dtype)
        require_dense_for_widths(self.model, widths)
        if self.model == "conv":
            return init_conv_params(key, self.hidden[0], self.channels, self.kernel_size, dtype, self.init)
        return init_params(key, self.hidden, dtype, widths, self.init)


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


# The public run functions' argument checks, one call each (twolayer_jax/validation.py has the
# rules: shapes and dtypes always, values when they are concrete).


def check_factory(config: TrainConfig, grad_fn, progress) -> None:
    """``make_fit`` and ``make_train``'s arguments."""
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {validation.describe(config)}")
    validation.optional_callable("grad_fn", grad_fn)
    validation.optional_callable("progress", progress)


def check_widths(config: TrainConfig, widths, runs: int | None) -> None:
    require_dense_for_widths(config.model, widths)
    validation.widths("widths", widths, config.hidden, runs)


def check_fit(config: TrainConfig, params, hparams, x, y, masks) -> None:
    """``fit``'s arguments: ``params`` (and ``masks``) shaped for ``config``, one run's ``hparams``."""
    shapes = config.param_shapes
    validation.array_tree("params", params, shapes, "f", "floating")
    check_hparams(hparams)
    validation.data(x, y)
    if masks is not None:
        validation.array_tree("masks", masks, shapes, validation.REAL_KINDS, "0/1")


def check_train(config: TrainConfig, key, hparams, x, y, widths) -> None:
    """``train``'s arguments: one key, one run's ``hparams`` and ``widths``."""
    validation.single_key("key", key)
    check_hparams(hparams)
    validation.data(x, y)
    check_widths(config, widths, None)


def check_train_many(config, keys, hparams, x, y, widths, grad_fn, progress, chunk_size) -> None:
    """``train_many``'s arguments: S keys, and ``hparams`` and ``widths`` shared or per run."""
    check_factory(config, grad_fn, progress)
    runs = validation.many_keys("keys", keys)
    check_hparams(hparams, runs)
    validation.data(x, y)
    check_widths(config, widths, runs)
    if chunk_size is not None:
        validation.whole_number("chunk_size", chunk_size)
