"""Test-wide settings: float64 available (gradient and reference comparisons need it), two CPU
devices, and the Agg backend for every figure. Float32 paths pass explicit dtypes, so they are tested too."""

import jax
import matplotlib

jax.config.update("jax_enable_x64", True)
# Two CPU devices, as on the 2-core machines the suite runs on, so every train_many call goes
# through the sharded path (one shard per device), whatever the machine.
jax.config.update("jax_num_cpu_devices", 2)
matplotlib.use("Agg")

from hypothesis import settings  # noqa: E402

# JAX compiles each new shape once, so a single example can take a second: no deadline.
settings.register_profile("twolayer", deadline=None, max_examples=25)
settings.load_profile("twolayer")
