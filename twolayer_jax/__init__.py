"""twolayer_jax: the backpropagation lab's 2-h1-h2-1 network as pure JAX functions.

Bottom: ``data``, ``activations``, ``losses``, ``model``. Middle: ``engine`` (``make_train``,
``train_many``) and ``summary``. Top: the ``train`` CLI, ``formats`` and ``plots``.
"""

__version__ = "0.1.0"
