"""Which term of a learner's backward pass is wrong, and which known mistake explains it.

Nothing here reads the learner's source. A hint is given only when the numbers fit: each known
mistake of the lab is modelled as a switch on the lab's backward pass (:func:`lab_backward`), and a
mistake explains a learner's tensor when the switched pass reproduces that tensor, and every
tensor before it in backward order, on every problem.
"""

import dataclasses
from collections.abc import Callable, Iterator
from typing import NamedTuple

import numpy as np

from manual.derivatives import DERIVATIVES, mse_gradient
from twolayer_jax.activations import parse_activation
from twolayer_jax.checks import numpy_twins
from twolayer_jax.checks.comparison import relative_error
from twolayer_jax.checks.terms import BACKWARD_ORDER, EQUATIONS, SYMBOLS
from twolayer_jax.network import Network

# relative error under which a learner's tensor counts as right: float64 gives ≈ 1e-15, a real
# mistake ≳ 1e-2; between FLOAT32_LEVEL and RIGHT the numbers are right but computed in float32
RIGHT = 1e-6
# a known mistake within NEAR_MISS of the learner's numbers, and NEAR_MISS_MARGIN times closer than
# the right answer, is shown as the closest one
NEAR_MISS = 1e-2
NEAR_MISS_MARGIN = 100
FLOAT32_LEVEL = 1e-4
LOW_PRECISION_LEVEL = 1e-2  # float16 rounds to 5e-4 per value; errors grow as it is computed with
FLOAT32_HINT = (
    "the gradients agree only to float32 precision (relative error between 1e-6 and 1e-4): "
    "something is computed in float32; the contract is float64"
)


@dataclasses.dataclass(frozen=True)
class Mistake:
    """Switches on the lab's backward pass; the defaults are the correct pass."""

    derivative_of_pre_activation: tuple[int, ...] = ()  # layers whose σ' is fed xk, not zk
    derivative_twice: tuple[int, ...] = ()  # layers whose σ' is multiplied in twice
    output_derivative_forgotten: bool = False
    loss_gradient: Callable = mse_gradient  # ∂L/∂y_pred from (output, target)
    bias_unsummed: tuple[int, ...] = ()  # layers whose ∂bk is δk itself, not Σ_rows δk
    bias_averaged: tuple[int, ...] = ()  # layers whose ∂bk is the mean of δk's rows
    weight_gradient_transposed: tuple[int, ...] = ()  # layers computing δkᵀ·input
    weight_gradient_input: tuple[tuple[int, str], ...] = ()  # (layer, cache name) used as input
    derivative_from: tuple[tuple[int, str], ...] = ()  # (layer, cache name) fed to that σ'
    weights_untransposed: tuple[int, ...] = ()  # layers whose δk comes back through Wk+1, not Wk+1ᵀ


@dataclasses.dataclass(frozen=True)
class Hypothesis:
    name: str
    hint: str
    mistake: Mistake


SIGMA_PRIME_OF_OUTPUT = "σ'(t) = σ(t)(1 − σ(t)) is computed from the OUTPUT z = σ(t)"


def loss_gradient_mistake(name: str, hint: str, gradient: Callable) -> Hypothesis:
    return Hypothesis(name, hint, Mistake(loss_gradient=gradient))


def per_layer_mistakes() -> list[Hypothesis]:
    """Mistakes a learner makes in one layer's own products, one hypothesis per layer."""
    inputs = {1: "x", 2: "z1", 3: "z2"}
    hypotheses = []
    for k in (3, 2, 1):
        hypotheses += [
            Hypothesis(
                f"bias_not_summed_{k}",
                f"∂b{k} was not summed over the batch: ∂b{k} = Σ_rows δ{k}, one value per unit, because "
                f"b{k} is added to every row",
                Mistake(bias_unsummed=(k,)),
            ),
            Hypothesis(
                f"bias_averaged_{k}",
                f"∂b{k} was averaged over the batch: ∂b{k} = Σ_rows δ{k} (the 1/n is already in ∂L/∂y_pred)",
                Mistake(bias_averaged=(k,)),
            ),
            Hypothesis(
                f"weight_gradient_transposed_{k}",
                f"∂W{k} is transposed: ∂W{k} = {inputs[k]}ᵀ·δ{k} has the shape of W{k}; "
                f"δ{k}ᵀ·{inputs[k]} gives its transpose",
                Mistake(weight_gradient_transposed=(k,)),
            ),
        ]
    for k in (2, 1):
        hypotheses.append(
            Hypothesis(
                f"weights_untransposed_{k}",
                f"δ{k + 1} is sent back through W{k + 1} untransposed: "
                f"δ{k} = (δ{k + 1}·W{k + 1}ᵀ) ⊙ σ'(x{k})",
                Mistake(weights_untransposed=(k,)),
            )
        )
    return hypotheses


HYPOTHESES = (
    Hypothesis(
        "pre_activation_everywhere",
        f"σ' was applied to the pre-activations x1, x2, x3 instead of the outputs: {SIGMA_PRIME_OF_OUTPUT} "
        "(the handout's derivative_sigmoid(x) = x·(1 − x) expects that output)",
        Mistake(derivative_of_pre_activation=(1, 2, 3)),
    ),
    Hypothesis(
        "pre_activation_hidden",
        "σ' of the hidden layers was applied to the pre-activations x1, x2 instead of z1, z2: "
        f"{SIGMA_PRIME_OF_OUTPUT}",
        Mistake(derivative_of_pre_activation=(1, 2)),
    ),
    Hypothesis(
        "pre_activation_output",
        f"the output layer's σ' was applied to the pre-activation x3 instead of y: {SIGMA_PRIME_OF_OUTPUT}",
        Mistake(derivative_of_pre_activation=(3,)),
    ),
    Hypothesis(
        "derivative_twice",
        "σ' is multiplied in twice: each δk takes exactly one factor σ'(xk)",
        Mistake(derivative_twice=(1, 2, 3)),
    ),
    Hypothesis(
        "output_derivative_forgotten",
        "the output layer's σ' is missing: δ3 = ∂L/∂y_pred ⊙ σ'(x3), not ∂L/∂y_pred",
        Mistake(output_derivative_forgotten=True),
    ),
    loss_gradient_mistake(
        "two_over_n_dropped",
        "∂L/∂y_pred lacks the factor 2/n: for L = mean((y_pred − y)²), ∂L/∂y_pred = (2/n)(y_pred − y), "
        "not (y_pred − y)",
        lambda out, target: out - target,
    ),
    loss_gradient_mistake(
        "one_over_n_dropped",
        "∂L/∂y_pred lacks the 1/n of the mean: ∂L/∂y_pred = (2/n)(y_pred − y), not 2(y_pred − y)",
        lambda out, target: 2 * (out - target),
    ),
    loss_gradient_mistake(
        "factor_two_dropped",
        "∂L/∂y_pred lacks the 2 of the square: ∂L/∂y_pred = (2/n)(y_pred − y), not (y_pred − y)/n",
        lambda out, target: (out - target) / len(out),
    ),
    loss_gradient_mistake(
        "two_over_n_doubled",
        "∂L/∂y_pred is twice too large: ∂L/∂y_pred = (2/n)(y_pred − y), not (4/n)(y_pred − y)",
        lambda out, target: 4 * (out - target) / len(out),
    ),
    loss_gradient_mistake(
        "sign_flipped",
        "∂L/∂y_pred has the wrong sign: it is (2/n)(y_pred − y), with y_pred the network's output and y "
        "the label",
        lambda out, target: 2 * (target - out) / len(out),
    ),
    loss_gradient_mistake(
        "cross_entropy_gradient",
        "this is the gradient of binary cross-entropy (δ3 = (y_pred − y)/n), not of the lab's MSE loss",
        lambda out, target: (out - target) / (out * (1 - out) * len(out)),
    ),
    Hypothesis(
        "weight_gradient_of_layer_2_uses_z2",
        "∂W2 uses layer 2's own output z2 as its input; layer 2's input is z1: ∂W2 = z1ᵀ·δ2",
        Mistake(weight_gradient_input=((2, "z2"),)),
    ),
    Hypothesis(
        "sigma_prime_of_layer_2_uses_z1",
        "δ2's σ' uses layer 1's cached output z1; it belongs to layer 2: δ2 = (δ3·W3ᵀ) ⊙ σ'(x2), from z2",
        Mistake(derivative_from=((2, "z1"),)),
    ),
    Hypothesis(
        "sigma_prime_of_layer_1_uses_z2",
        "δ1's σ' uses layer 2's cached output z2; it belongs to layer 1: δ1 = (δ2·W2ᵀ) ⊙ σ'(x1), from z1",
        Mistake(derivative_from=((1, "z2"),)),
    ),
    *per_layer_mistakes(),
)


def lab_backward(
    params: dict, x: np.ndarray, y: np.ndarray, network: Network, mistake: Mistake
) -> dict[str, np.ndarray]:
    """The lab's forward and backward pass of ``network`` (trained on MSE) in NumPy float64, with
    ``mistake``'s switches applied: the six gradients and the three deltas."""
    first, second = network.hidden
    names = {1: first, 2: second, 3: network.output_activation}
    cache = {"x": x}
    cache["x1"] = x @ params["W1"] + params["b1"]
    cache["z1"] = numpy_twins.activation(first)(cache["x1"])
    cache["x2"] = cache["z1"] @ params["W2"] + params["b2"]
    cache["z2"] = numpy_twins.activation(second)(cache["x2"])
    cache["x3"] = cache["z2"] @ params["W3"] + params["b3"]
    cache["z3"] = numpy_twins.activation(names[3])(cache["x3"])
    layer_input = {1: "x", 2: "z1", 3: "z2"}

    def sigma_prime(layer: int) -> np.ndarray:
        takes = DERIVATIVES[parse_activation(names[layer])[0]].takes
        source = dict(mistake.derivative_from).get(layer)
        if source is None:
            wrong_quantity = takes == "output" and layer in mistake.derivative_of_pre_activation
            use_output = takes == "output" and not wrong_quantity
            source = f"z{layer}" if use_output else f"x{layer}"
        value = numpy_twins.derivative(names[layer])(cache[source])
        return value**2 if layer in mistake.derivative_twice else value

    deltas = {3: mistake.loss_gradient(cache["z3"], y)}
    if not mistake.output_derivative_forgotten:
        deltas[3] = deltas[3] * sigma_prime(3)
    for k in (2, 1):
        weights = params[f"W{k + 1}"]
        back = weights if k in mistake.weights_untransposed else weights.T
        deltas[k] = (deltas[k + 1] @ back) * sigma_prime(k)

    result = {}
    for layer, delta in deltas.items():
        source = cache[dict(mistake.weight_gradient_input).get(layer, layer_input[layer])]
        weight = delta.T @ source if layer in mistake.weight_gradient_transposed else source.T @ delta
        bias = delta.sum(axis=0)
        if layer in mistake.bias_unsummed:
            bias = delta
        elif layer in mistake.bias_averaged:
            bias = delta.mean(axis=0)
        result |= {f"W{layer}": weight, f"b{layer}": bias, f"delta{layer}": delta}
    return result


def first_wrong(wrong: set[str]) -> str | None:
    return next((term for term in BACKWARD_ORDER if term in wrong), None)


def localise(wrong: set[str], returned: set[str]) -> str:
    """Name the first wrong term in backward order and where its error must be."""
    term = first_wrong(wrong)
    if term is None:
        return ""
    layer = term[-1]
    right_before = [SYMBOLS[t] for t in BACKWARD_ORDER[: BACKWARD_ORDER.index(term)] if t in returned]
    prefix = ""
    if right_before:
        listed = (
            ", ".join(right_before[:-1]) + " and " + right_before[-1]
            if len(right_before) > 1
            else right_before[0]
        )
        prefix = f"{listed} {'are' if len(right_before) > 1 else 'is'} right, "
    weight, bias, delta = f"W{layer}", f"b{layer}", f"delta{layer}"
    if term == delta:
        return f"{prefix}{SYMBOLS[delta]} is wrong: the error is in {EQUATIONS[delta]}"
    if delta in returned:  # δk was checked and is right, so the error is in this very product
        return f"{prefix}{SYMBOLS[term]} is wrong: the error is in {EQUATIONS[term]}"
    if weight in wrong and bias in wrong:
        return f"{prefix}{SYMBOLS[weight]} and {SYMBOLS[bias]} are wrong: the error is in {EQUATIONS[delta]}"
    # only one of the pair is wrong: the other uses the same δk and is right, so δk is right
    other = bias if term == weight else weight
    return (
        f"{prefix}{SYMBOLS[term]} is wrong; {SYMBOLS[other]} uses the same {SYMBOLS[delta]} and is right, "
        f"so the error is in {EQUATIONS[term]}"
    )


def disagreement(pairs: list[tuple[dict, dict]], terms: list[str]) -> float:
    """The worst relative error between the two sides of each pair, over ``terms``."""
    return max((relative_error(a[t], b[t]) for a, b in pairs for t in terms), default=0.0)


def candidate_mistakes(
    problems: list[dict[str, np.ndarray]],
    references: list[dict[str, np.ndarray]],
    term: str,
    right: list[str],
    network: Network,
) -> Iterator[tuple[Hypothesis, list[dict[str, np.ndarray]]]]:
    """Each known mistake that changes ``term`` on these problems (or it proves nothing) and keeps
    every term in ``right`` right (a hint never contradicts a tensor the learner got right), with
    its terms on every problem."""
    for hypothesis in HYPOTHESES:
        try:
            variants = [lab_backward(p, p["x"], p["y"], network, hypothesis.mistake) for p in problems]
        except ValueError:  # the mistake cannot even run on these shapes, so it is not what happened
            continue
        against_reference = list(zip(variants, references, strict=True))
        if disagreement(against_reference, [term]) <= RIGHT or disagreement(against_reference, right) > RIGHT:
            continue
        yield hypothesis, variants


class NearMiss(NamedTuple):
    hypothesis: Hypothesis
    agreement: float  # the learner's first wrong term against the mistake's, relative error
    truth: float  # the same term against the right answer

    @property
    def telling(self) -> bool:
        """Close to the learner, and far closer than the right answer is."""
        return self.agreement <= NEAR_MISS and self.agreement * NEAR_MISS_MARGIN <= self.truth


class Explanation(NamedTuple):
    fits: list[Hypothesis]  # known mistakes that reproduce the learner's numbers
    near_miss: NearMiss | None  # when none does, the one that comes far closer than the truth


def explain(
    learner: list[dict[str, np.ndarray]],
    problems: list[dict[str, np.ndarray]],
    references: list[dict[str, np.ndarray]],
    wrong: set[str],
    network: Network,
) -> Explanation:
    """The known mistakes (:func:`candidate_mistakes`) that reproduce the learner's numbers on
    every problem, in one pass over them. Preferred: mistakes that reproduce every returned
    tensor. Failing those (a learner may make two mistakes), mistakes that reproduce the first
    wrong tensor and every tensor before it. Failing both, the nearest mistake if it is within
    NEAR_MISS of the learner's first wrong term and at least NEAR_MISS_MARGIN times closer than
    the right answer (a mistake computed with a small constant added, such as an ε inside a log,
    lands there)."""
    term = first_wrong(wrong)
    if term is None:
        return Explanation([], None)
    returned = [t for t in BACKWARD_ORDER if t in learner[0]]
    right = [t for t in returned if t not in wrong]
    up_to_first = returned[: returned.index(term) + 1]
    truth = disagreement(list(zip(learner, references, strict=True)), [term])
    explains_all, explains_first, misses = [], [], []
    for hypothesis, variants in candidate_mistakes(problems, references, term, right, network):
        pairs = list(zip(learner, variants, strict=True))
        if disagreement(pairs, returned) <= RIGHT:
            explains_all.append(hypothesis)
        elif disagreement(pairs, up_to_first) <= RIGHT:
            explains_first.append(hypothesis)
        misses.append(NearMiss(hypothesis, disagreement(pairs, [term]), truth))
    fits = explains_all or explains_first
    nearest = min(misses, key=lambda miss: miss.agreement, default=None)
    near = (
        nearest is not None
        and nearest.agreement <= NEAR_MISS
        and nearest.agreement * NEAR_MISS_MARGIN <= truth
    )
    return Explanation(fits, nearest if near and not fits else None)


def near_miss_hint(miss: NearMiss) -> str:
    return (
        f"closest known mistake, agreeing to {miss.agreement:.0e} where the right answer is "
        f"{miss.truth:.0e} away: {miss.hypothesis.hint} (not exactly: is there a small constant, "
        "such as an ε inside a log, in your formula?)"
    )


DELTAS_CONTRADICT_GRADIENTS = (
    "every gradient is right but a returned δ is not: the δ returned is not the one the gradients "
    "were computed from (δk = ∂L/∂xk, the gradient of layer k's pre-activation, shape (n, hk))"
)


def precision_hint(learner: list[dict[str, np.ndarray]], errors: dict[str, float]) -> str | None:
    """A note when the only fault is precision: every returned value is exactly a float16 (or
    float32) number, or the errors are all at float32's level. A modelled mistake is never
    mistaken for this: its values are not confined to a lower precision's grid."""
    wrong_errors = [e for e in errors.values() if not e <= RIGHT]
    if not wrong_errors or not max(wrong_errors) <= LOW_PRECISION_LEVEL:
        return None
    for dtype, name in ((np.float16, "float16"), (np.float32, "float32")):
        if all(np.array_equal(a, a.astype(dtype).astype(np.float64)) for m in learner for a in m.values()):
            return (
                f"every returned value is exactly a {name} number: the gradients were computed or "
                f"stored in {name}, which costs precision (right values, relative errors up to "
                f"{max(wrong_errors):.0e}); the contract is float64"
            )
    return FLOAT32_HINT if max(wrong_errors) <= FLOAT32_LEVEL else None
