"""One batch of seeds trained by several JAX processes at once, with ``jax.distributed``.

``train_many`` splits its seeds over ``jax.devices()``, which in a multi-process run are every
device of every process, so the same call spans hosts: each process trains the seeds of its own
devices, and ``process_allgather`` brings the histories back. Launch one process per host (or
several on one machine, as the tests do), the same command on each but for ``--process-id``:

    python -m benchmarks.distributed --coordinator HOST0:12355 --processes N --process-id I \\
        --seeds 4096 --dataset xor_easy --epochs 5000 --out results.npz

HOST0 is the machine of process 0, which writes ``--out``. On a GPU/TPU cluster drop
``--cpu-devices``; JAX then uses each host's accelerators. Under SLURM or Open MPI,
``jax.distributed.initialize()`` can find the coordinator and ids itself (see JAX's docs).
"""

from twolayer_jax.cli import OneLineParser, exit_process, int_at_least, run_cli
from twolayer_jax.config import DTYPES, TrainConfig
from twolayer_jax.data import DATASET_NAMES, XOR_EASY


def build_parser() -> OneLineParser:
    parser = OneLineParser(prog="python -m benchmarks.distributed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--coordinator", required=True, help="HOST:PORT of process 0")
    parser.add_argument("--processes", type=int_at_least(1), required=True)
    parser.add_argument("--process-id", type=int_at_least(0), required=True)
    parser.add_argument("--cpu-devices", type=int_at_least(1), default=None, help="CPU devices per process")
    parser.add_argument("--seeds", type=int_at_least(1), default=8)
    parser.add_argument("--dataset", choices=DATASET_NAMES, default=XOR_EASY)
    parser.add_argument("--epochs", type=int_at_least(1), default=100)
    parser.add_argument("--hidden", type=int_at_least(1), default=TrainConfig().hidden[0])
    parser.add_argument("--dtype", choices=DTYPES, default=TrainConfig().dtype)
    parser.add_argument("--out", required=True, help="where process 0 writes the gathered .npz")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import jax

    if args.cpu_devices:
        jax.config.update("jax_num_cpu_devices", args.cpu_devices)
    if args.dtype == "float64":
        jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_cpu_collectives_implementation", "gloo")  # CPU processes talk over gloo
    jax.distributed.initialize(args.coordinator, num_processes=args.processes, process_id=args.process_id)

    import numpy as np
    from jax.experimental import multihost_utils

    from twolayer_jax.data import load_dataset
    from twolayer_jax.many_runs import seed_keys, train_many
    from twolayer_jax.optimizers import HParams

    dataset = load_dataset(args.dataset, jax.random.key(0))
    config = TrainConfig(epochs=args.epochs, hidden=(args.hidden, args.hidden), dtype=args.dtype)
    result = train_many(config, seed_keys(0, args.seeds), HParams(), dataset.x, dataset.y)
    loss = multihost_utils.process_allgather(result.loss, tiled=True)
    accuracy = multihost_utils.process_allgather(result.accuracy, tiled=True)
    if jax.process_index() == 0:
        np.savez(args.out, loss=loss, accuracy=accuracy, devices=jax.device_count())
        print(
            f"{jax.process_count()} processes, {jax.device_count()} devices: {args.seeds} seeds -> {args.out}"
        )
    jax.distributed.shutdown()
    return 0


if __name__ == "__main__":
    exit_process(run_cli(main, None, "python -m benchmarks.distributed"))
