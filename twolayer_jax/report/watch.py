"""The report's "Watch it learn" section: the shown seeds learning, as GIFs with a still of each.

For each dataset the shown seed (the main results' seed with the median final loss) is trained
again alone with its params kept at log-spaced epochs (:mod:`twolayer_jax.animation`): its
decision boundary evolving beside its loss curve, and what its hidden units compute at the start
and at the end. On :data:`COMPARED_DATASET` the same seed is also trained three ways side by side:
the lab's run, the same network on binary cross-entropy, and the lab's network trained on
purpose with the handout's classic mistake (the sigmoid's derivative ``x * (1 - x)`` handed the
pre-activation instead of the sigmoid's output), which the checker then diagnoses.

The mistake is not written down again here: it is the checker's own hypothesis
(:data:`HANDOUT_MISTAKE` in :data:`twolayer_jax.checks.diagnosis.HYPOTHESES`), whose switches
:func:`mistaken_backward` applies to the hand-written backward pass of ``manual/``. The checker's
verdict on that JAX pass is then an independent test that the run trained with is the mistake
the checker names.

:func:`watch_section` writes the files and returns a JSON-able record;
:func:`twolayer_jax.report.text.watch_it_learn` writes the section of REPORT.md from it alone.
"""

import dataclasses
from functools import partial
from pathlib import Path
from types import SimpleNamespace

import jax
import numpy as np
from jax import Array

from manual import Deltas
from manual.backpropagation import hidden_delta, weight_and_bias_gradients
from manual.derivatives import activation_derivative, mse_gradient
from twolayer_jax.animation import (
    Contender,
    Recording,
    hidden_units_figure,
    record_seed,
    save_learning_files,
    save_side_by_side_gif,
    save_side_by_side_still,
    snapshot_epochs,
    strongest_units,
)
from twolayer_jax.checks.check import grade, make_problems, reference_terms, report_lines
from twolayer_jax.checks.diagnosis import HYPOTHESES, Hypothesis, Mistake
from twolayer_jax.checks.learner import Call, LearnerRun
from twolayer_jax.checks.terms import BACKWARD_ORDER, PARAM_KEYS
from twolayer_jax.config import TrainConfig, require_dtype
from twolayer_jax.data import XOR_EASY, Dataset
from twolayer_jax.gradients import GradFn
from twolayer_jax.model import ForwardCache, Params, forward_layers
from twolayer_jax.network import Network
from twolayer_jax.optimizers import HParams
from twolayer_jax.summary import summarise_run

# the checker's name for the handout's mistake: σ'(t) = x·(1 − x) handed each layer's t, not σ(t)
HANDOUT_MISTAKE = "pre_activation_everywhere"
# where the three runs go side by side: XOR, where the lab's run needs its hidden layers and the
# differences show; on the linear set every variant draws much the same diagonal
COMPARED_DATASET = XOR_EASY
CROSS_ENTROPY = "bce"
DIAGNOSIS_SEED = 0  # the checker's random problems, as `python -m twolayer_jax.check` draws them
UNITS_SHOWN = 16  # hidden units per layer in the hidden units' figure


def handout_mistake() -> Hypothesis:
    """The checker's hypothesis for the handout's mistake: its name, hint and switches."""
    return next(h for h in HYPOTHESES if h.name == HANDOUT_MISTAKE)


def mistaken_backward(
    params: Params, cache: ForwardCache, y: Array, network: Network, mistake: Mistake
) -> tuple[Params, Deltas]:
    """The hand-written backward pass of ``manual/`` with ``mistake``'s σ'-input switch applied: a
    layer in ``mistake.derivative_of_pre_activation`` whose derivative takes the output (the
    sigmoid's ``z·(1 − z)``) is handed the pre-activation xk instead of zk. Same contract as
    :func:`manual.backpropagation.backward_from_cache` for the dense MSE network. Pure, jittable.

    Only that switch is modelled; a ``ValueError`` refuses any other, a non-MSE loss and the conv
    model, so a mistake is never trained as something other than what the checker means by it."""
    if dataclasses.replace(mistake, derivative_of_pre_activation=()) != Mistake():
        raise ValueError("only the σ'-of-the-pre-activation switch of a Mistake can be trained")
    if network.loss != "mse" or "K2" in params:
        raise ValueError("the handout's mistake is modelled for the dense network on MSE")
    first, second = network.hidden

    def fed(layer: int, pre_activation: Array, output: Array) -> Array:
        """What the layer's σ' formula is handed in place of the output: xk when the mistake is made."""
        return pre_activation if layer in mistake.derivative_of_pre_activation else output

    delta3 = mse_gradient(cache.y, y) * activation_derivative(
        network.output_activation, cache.x3, fed(3, cache.x3, cache.y)
    )
    delta2 = hidden_delta(delta3, params["W3"], cache.x2, fed(2, cache.x2, cache.z2), second)
    delta1 = hidden_delta(delta2, params["W2"], cache.x1, fed(1, cache.x1, cache.z1), first)
    grads = {}
    inputs_and_deltas = ((cache.x, delta1), (cache.z1, delta2), (cache.z2, delta3))
    for layer, (layer_input, delta) in enumerate(inputs_and_deltas, start=1):
        grads[f"W{layer}"], grads[f"b{layer}"] = weight_and_bias_gradients(layer_input, delta)
    return grads, Deltas(delta1, delta2, delta3)


def mistaken_gradient(network: Network, mistake: Mistake) -> GradFn:
    """:func:`mistaken_backward` as a training ``GradFn``: ``(params, x, y) -> (grads, cache)``."""

    def grad_fn(params: Params, x: Array, y: Array) -> tuple[Params, ForwardCache]:
        cache = forward_layers(params, x, network)
        return mistaken_backward(params, cache, y, network, mistake)[0], cache

    return grad_fn


@partial(jax.jit, static_argnames=("network", "mistake"))
def mistaken_terms(
    params: Params, x: Array, y: Array, network: Network, mistake: Mistake
) -> dict[str, Array]:
    """The six gradients and three deltas of :func:`mistaken_backward`, under the names a
    submission returns them by: one compiled program per problem shape (op by op, the checker's
    seven shapes would compile hundreds)."""
    grads, deltas = mistaken_backward(params, forward_layers(params, x, network), y, network, mistake)
    return grads | deltas._asdict()


def checker_call(returned: dict) -> Call:
    """What the checker reads back of one call that returned ``returned``: float64 arrays."""
    arrays = {key: np.asarray(value, np.float64) for key, value in returned.items()}
    dtypes = {key: str(np.asarray(value).dtype) for key, value in returned.items()}
    return Call(arrays, dtypes, {}, [], "", "")


def diagnosis(network: Network, mistake: Mistake) -> dict:
    """The checker's verdict on :func:`mistaken_backward` (gradients and deltas), graded by the
    functions ``python -m twolayer_jax.check`` grades a submission with, on its random problems
    in float64. Our own code needs no sandbox, so it is called here and its arrays handed to
    :func:`twolayer_jax.checks.check.grade` as the sandbox would hand a learner's back."""
    require_dtype("float64")  # the checker's contract: a float32 pass would read as a precision fault
    problems = make_problems(DIAGNOSIS_SEED)
    references = [reference_terms(problem, network) for problem in problems]
    calls = []
    for problem in problems:
        params = {key: problem[key] for key in PARAM_KEYS}
        calls.append(checker_call(mistaken_terms(params, problem["x"], problem["y"], network, mistake)))
    report = grade(LearnerRun("", "", calls, []), problems, references, SimpleNamespace(network=network))
    return {
        "verdict": report.verdict,
        "reason": report.reason,
        "where": report.localisation,
        "hints": report.hints,
        "named": [h.name for h in HYPOTHESES if h.hint in report.hints],
        "errors": {term: report.errors[term] for term in BACKWARD_ORDER if term in report.errors},
        "printout": report_lines(report),
        "problems": len(problems),
    }


def run_record(recording: Recording, seed: int) -> dict:
    """A recorded run's outcome (:class:`twolayer_jax.summary.RunSummary` fields)."""
    return dataclasses.asdict(summarise_run(seed, recording.loss, recording.accuracy))


def learning_files(recording: Recording, config: TrainConfig, dataset: Dataset, seed: int, out: Path) -> dict:
    """The shown seed's GIF, its still and its hidden units' figure; their file names by key."""
    title = f"{dataset.name}, seed {seed}"
    files = save_learning_files(recording, config, dataset, title, out)
    files["hidden_units"] = f"{dataset.name}_hidden_units.png"
    figure = hidden_units_figure(recording, config, dataset, f"{title}: single hidden units", UNITS_SHOWN)
    figure.savefig(out / files["hidden_units"], dpi=80)
    return files


def compared_runs(config: TrainConfig, dataset: Dataset, seed: int, lab: Recording) -> list[Contender]:
    """The lab's run (already recorded), the same seed on cross-entropy, and on the handout's
    mistake: the three columns of the side-by-side animation."""
    hparams = HParams()
    network = dataclasses.replace(config.network, loss=CROSS_ENTROPY)
    cross_entropy = dataclasses.replace(config, network=network)
    mistake = handout_mistake().mistake
    mistaken = record_seed(config, hparams, dataset, seed, mistaken_gradient(config.network, mistake))
    return [
        Contender("MSE (the lab's)", lab, config),
        Contender("cross-entropy (BCE)", record_seed(cross_entropy, hparams, dataset, seed), cross_entropy),
        Contender("MSE, the handout's mistake", mistaken, config),
    ]


COMPARED_KEYS = ("lab", "cross_entropy", "mistake")  # the record's names for the three columns


def watch_section(datasets: list[Dataset], config: TrainConfig, seeds: dict[str, int], out: Path) -> dict:
    """Record each dataset's shown seed (``seeds[name]``) under ``config`` (the lab's run: sgd, its
    epochs and dtype), write its GIF, still and hidden units' figure into ``out``, and on
    :data:`COMPARED_DATASET` the side-by-side GIF and still of the three runs; return the record
    :func:`twolayer_jax.report.text.watch_it_learn` writes from (file names, each run's outcome,
    the diagnosis)."""
    record = {"epochs": config.epochs, "snapshots": len(snapshot_epochs(config.epochs)), "datasets": {}}
    for dataset in datasets:
        seed = seeds[dataset.name]
        recording = record_seed(config, HParams(), dataset, seed)
        files = learning_files(recording, config, dataset, seed, out)
        shown = strongest_units(recording.at(len(recording.epochs) - 1), UNITS_SHOWN)
        record["datasets"][dataset.name] = {
            "seed": seed,
            "files": files,
            "run": run_record(recording, seed),
            "units_shown": [len(shown[0]), len(shown[1])],
            "units_epochs": [recording.epochs[0], recording.epochs[-1]],  # the figure's two snapshots
        }
        if dataset.name == COMPARED_DATASET:
            contenders = compared_runs(config, dataset, seed, recording)
            title = f"{dataset.name}, seed {seed}: three ways to train it"
            files = {"animation": f"{dataset.name}_compared.gif", "still": f"{dataset.name}_compared.png"}
            save_side_by_side_gif(contenders, dataset, title, out / files["animation"])
            save_side_by_side_still(contenders, dataset, title, out / files["still"])
            record["comparison"] = {
                "dataset": dataset.name,
                "seed": seed,
                "files": files,
                "runs": {
                    key: {"label": c.label, "loss": c.config.network.loss} | run_record(c.recording, seed)
                    for key, c in zip(COMPARED_KEYS, contenders, strict=True)
                },
            }
    hypothesis = handout_mistake()
    record["diagnosis"] = {"mistake": hypothesis.name} | diagnosis(config.network, hypothesis.mistake)
    return record


def watch_files(record: dict) -> dict[str, str]:
    """Every file the section wrote, under keys unique in the report's ``files``."""
    files = {
        f"watch_{name}_{key}": file
        for name, by_dataset in record["datasets"].items()
        for key, file in by_dataset["files"].items()
    }
    if "comparison" in record:
        files |= {f"watch_compared_{key}": file for key, file in record["comparison"]["files"].items()}
    return files
