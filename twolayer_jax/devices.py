"""Which devices a study runs on. ``train_many`` splits its seeds across every JAX device; on a
CPU, JAX shows one device unless asked for more, so the CLIs ask for one per core."""

import os

import jax


def usable_cores() -> int:
    """The cores this process may run on (the affinity mask, not the machine's total)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def platform() -> str:
    """The kind of device JAX computes on: "cpu", "gpu" or "tpu" (that of its first device)."""
    return jax.devices()[0].platform


def use_every_cpu_core() -> bool:
    """Ask JAX for one CPU device per usable core. JAX reads this once, when its backends start,
    so it must come before any JAX work; afterwards it changes nothing and returns False. GPUs and
    TPUs keep their own devices either way."""
    try:
        jax.config.update("jax_num_cpu_devices", usable_cores())
    except RuntimeError:  # backends already started: keep the devices they have
        return False
    return True
