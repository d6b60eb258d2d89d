"""My backward pass for Lab 1 (copy this file, fill in every todo, then check it):

    python -m twolayer_jax.check my_backward.py

The contract: ``backward(params, x, y)`` gets NumPy float64 arrays, ``params`` a dict with
W1 (2, h1), b1 (h1,), W2 (h1, h2), b2 (h2,), W3 (h2, 1), b3 (1,); x (n, 2); y (n, 1) of 0/1 labels.
It returns a dict of NumPy arrays with the same keys and shapes: the gradients of
L = mean((y_pred - y)**2), where y_pred is the network's output and y the label. Returning delta1,
delta2, delta3 too (δk = ∂L/∂xk, shapes (n, h1), (n, h2), (n, 1)) lets the checker name the wrong
term exactly. xk is layer k's pre-activation (x1 = x·W1 + b1) and zk = σ(xk) its output.

Notation as in manual/backpropagation.py: · is ``@``, ⊙ is ``*``, ᵀ is ``.T``, Σ_rows is ``.sum(axis=0)``.
"""

import numpy as np


def sigmoid(t):
    return 1.0 / (1.0 + np.exp(-t))


def derivative_sigmoid_from_output(z):
    """σ'(t) = σ(t)(1 - σ(t)), given z = σ(t): pass the layer's OUTPUT, not its pre-activation."""
    return z * (1.0 - z)


def todo(term):
    raise NotImplementedError(f"fill in {term}")


def backward(params, x, y):
    # forward pass, keeping what the backward pass needs
    x1 = x @ params["W1"] + params["b1"]
    z1 = sigmoid(x1)
    x2 = z1 @ params["W2"] + params["b2"]
    z2 = sigmoid(x2)
    x3 = z2 @ params["W3"] + params["b3"]
    y_pred = sigmoid(x3)
    n = x.shape[0]

    # backward pass, one line per term of the derivation
    delta3 = todo("delta3 = ∂L/∂y_pred ⊙ σ'(x3), with ∂L/∂y_pred = (2/n)(y_pred - y)")
    grad_W3 = todo("∂W3 = z2ᵀ·δ3")
    grad_b3 = todo("∂b3 = Σ_rows δ3")
    delta2 = todo("delta2 = (δ3·W3ᵀ) ⊙ σ'(x2)")
    grad_W2 = todo("∂W2 = z1ᵀ·δ2")
    grad_b2 = todo("∂b2 = Σ_rows δ2")
    delta1 = todo("delta1 = (δ2·W2ᵀ) ⊙ σ'(x1)")
    grad_W1 = todo("∂W1 = xᵀ·δ1")
    grad_b1 = todo("∂b1 = Σ_rows δ1")

    del y_pred, n  # use them above
    return {
        "W1": grad_W1, "b1": grad_b1, "W2": grad_W2, "b2": grad_b2, "W3": grad_W3, "b3": grad_b3,
        "delta1": delta1, "delta2": delta2, "delta3": delta3,  # optional
    }  # fmt: skip
