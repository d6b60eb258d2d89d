"""Hand-written derivatives of the lab's network (the backward pass, term by term).

This package depends on ``twolayer_jax``'s bottom layer (model, activations, losses) and never
the other way round; the engine plugs its gradient in beside ``jax.grad``.
"""
