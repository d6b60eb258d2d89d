"""Hand-written derivatives of the lab's network: the backward pass, term by term.

``manual.backward(params, x, y)`` returns the gradient pytree computed by hand;
``manual.backward_with_deltas`` also returns δ1, δ2, δ3 so a checker can compare every term.
This package imports only the layers of ``twolayer_jax`` below the gradients (the model, the
network and its registries, the optimizers' ``HParams``); training plugs ``manual_gradient`` in
beside ``jax.grad`` (``twolayer_jax.gradients.GRADIENTS``).
"""

from manual.backpropagation import (
    Deltas,
    backward,
    backward_from_cache,
    backward_with_deltas,
    manual_gradient,
)

__all__ = ["Deltas", "backward", "backward_from_cache", "backward_with_deltas", "manual_gradient"]
