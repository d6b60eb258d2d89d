"""twolayer_jax: the backpropagation lab's 2-h1-h2-1 network as pure JAX functions.

The lab core, bottom to top: ``validation`` (the argument checks); ``data``; ``activations``,
``losses``, ``initialisations``, ``optimizers``; ``network``; ``model``; ``gradients``; ``config``;
``one_run`` (``make_epochs``, ``make_fit``, ``make_train``); ``many_runs`` (``train_many``); ``summary``,
``formats``, ``plots``, ``cli``; the ``train`` CLI. Two wings sit above it and are never imported
by it: ``checks`` (the learner checker and the gradient check) and ``report``. ``manual/``, beside
the package, holds the hand-written derivatives.
"""

__version__ = "0.1.0"
