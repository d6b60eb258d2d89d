"""Test-wide settings: float64 available (gradient and reference comparisons need it), two CPU
devices, and the Agg backend for every figure. Float32 paths pass explicit dtypes, so they are tested too."""

import jax
import matplotlib
import pytest

jax.config.update("jax_enable_x64", True)
# Two CPU devices, as on the 2-core machines the suite runs on, so every train_many call goes
# through the sharded path (one shard per device), whatever the machine.
jax.config.update("jax_num_cpu_devices", 2)
matplotlib.use("Agg")

from hypothesis import settings  # noqa: E402

# JAX compiles each new shape once, so a single example can take a second: no deadline.
settings.register_profile("twolayer", deadline=None, max_examples=25)
settings.load_profile("twolayer")


@pytest.fixture(autouse=True)
def compile_without_most_optimizations(request):
    """The fast set's programs are tiny and run a few hundred steps, so compiling them is most of
    their time: XLA's optimisation passes are skipped for them, which changes rounding at most
    and roughly halves the time of a compile-bound test. Tests marked slow train whole runs, whose
    run time dominates, and keep every optimisation, as the CLIs and the notebook do."""
    if request.node.get_closest_marker("slow"):
        yield
        return
    jax.config.update("jax_disable_most_optimizations", True)
    yield
    jax.config.update("jax_disable_most_optimizations", False)
