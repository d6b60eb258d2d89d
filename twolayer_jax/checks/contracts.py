"""The shapes a learner's code may take, brought to one: the gradients of the row convention.

- ``backward(params, x, y) -> grads``, the default contract;
- ``step(params, x, y, lr) -> new_params``, for code whose gradient exists only inside its update:
  it is called at two learning rates and the gradient recovered as (θ − θ_new)/lr. Plain
  gradient descent gives the same gradient at both; anything else (momentum, a decay, a clipped
  step) does not, and is named.

Either may use the column convention (y = W·x + b): weights handed over and returned as
(out, in), biases as (out, 1). The parent converts the problems before they go to the learner and
the answers when they come back, so everything after it judges one convention.
"""

import numpy as np

from twolayer_jax.checks.comparison import relative_error
from twolayer_jax.checks.learner import Call, LearnerRun
from twolayer_jax.checks.terms import accepted_shapes

CONTRACTS = ("backward", "step")
CONVENTIONS = ("row", "column")
# powers of two, so θ − lr·g and the division by lr scale exactly
STEP_LEARNING_RATES = (1.0, 0.125)


def to_convention(problem: dict[str, np.ndarray], convention: str) -> dict[str, np.ndarray]:
    """A problem as the learner receives it: in the column convention W transposed, b a column."""
    if convention == "row":
        return problem
    return {key: value.T if key.startswith("W") else value[:, None] if key.startswith("b") else value
            for key, value in problem.items()}  # fmt: skip


def from_convention(arrays: dict[str, np.ndarray], convention: str) -> dict[str, np.ndarray]:
    """Answers in the row convention. A weight gradient is transposed back whatever its shape,
    never reshaped, so one in the wrong orientation stays wrong; a (out, 1) bias becomes (out,)."""
    if convention == "row":
        return arrays
    converted = {}
    for key, value in arrays.items():
        if key.startswith("W") and value.ndim == 2:
            value = value.T
        elif key.startswith("b") and value.ndim == 2 and value.shape[1] == 1:
            value = value[:, 0]
        converted[key] = value
    return converted


def calls_for(contract: str, problems: int) -> list[tuple] | None:
    """The calls to make: None for one plain call per problem, else ``(problem, lr)`` pairs."""
    if contract == "backward":
        return None
    return [(index, lr) for index in range(problems) for lr in STEP_LEARNING_RATES]


def recovered_gradient(key: str, sent: np.ndarray, new: np.ndarray, lr: float) -> np.ndarray:
    """(θ − θ_new)/lr. A new value in another shape that holds the term unambiguously (a bias as
    a row or a column) is read in θ's shape; any other shape is kept as it is, to be judged
    wrong for it, never broadcast against θ into another tensor."""
    if new.shape in accepted_shapes(key, sent.shape) - {sent.shape}:
        new = new.reshape(sent.shape)
    return new if new.shape != sent.shape else (sent - new) / lr


def step_call(first: Call, second: Call, sent: dict[str, np.ndarray]) -> tuple[Call, float]:
    """One problem's two step calls as one gradient call, and how far apart the two gradients
    they imply are (0 for plain gradient descent)."""
    failed = first if first.failure else second
    if failed.failure:
        return failed, 0.0
    lr_first, lr_second = STEP_LEARNING_RATES
    keys = [key for key in first.arrays if key in second.arrays]
    grads = {key: recovered_gradient(key, sent[key], first.arrays[key], lr_first) for key in keys}
    others = {key: recovered_gradient(key, sent[key], second.arrays[key], lr_second) for key in keys}
    apart = max((relative_error(grads[key], others[key]) for key in keys), default=0.0)
    return first._replace(arrays=grads), apart


def gradient_run(
    run: LearnerRun, sent: list[dict], contract: str, convention: str
) -> tuple[LearnerRun, float]:
    """``run`` as gradient calls in the row convention, one per problem, and for a step the
    largest disagreement between the gradients its two learning rates imply."""
    if run.failure:
        return run, 0.0
    calls, apart = run.calls, 0.0
    if contract == "step":
        pairs = [step_call(run.calls[2 * i], run.calls[2 * i + 1], problem) for i, problem in enumerate(sent)]
        calls, apart = [call for call, _ in pairs], max(gap for _, gap in pairs)
    calls = [call._replace(arrays=from_convention(call.arrays, convention)) for call in calls]
    return run._replace(calls=calls), apart
