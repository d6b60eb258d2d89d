"""Hand-written derivatives of the lab's network: the backward pass, term by term.

``manual.backward(params, x, y)`` returns the gradient pytree computed by hand;
``manual.backward_with_deltas`` also returns δ1, δ2, δ3 so a checker can compare every term.
This package imports only ``twolayer_jax``'s bottom layer (model, activations, losses, registry);
the engine plugs ``manual_gradient`` in beside ``jax.grad``.
"""

from manual.backpropagation import (
    Deltas,
    backward,
    backward_from_cache,
    backward_with_deltas,
    manual_gradient,
)

__all__ = ["Deltas", "backward", "backward_from_cache", "backward_with_deltas", "manual_gradient"]
