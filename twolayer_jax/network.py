"""What a network computes, apart from its sizes: its activations and its loss.

A :class:`Network` is checked once, where a run is built, and then travels whole: the forward
pass, the hand-written backward pass, ``jax.grad`` and the checkers all take one. It holds
strings, so it is hashable and stays static under ``jit``; the functions it names are looked up
when a pass is traced.
"""

import dataclasses

from twolayer_jax.activations import Activation, get_activation, hidden_activations, parse_activation
from twolayer_jax.losses import NEEDS_SIGMOID_OUTPUT, Loss, get_loss


@dataclasses.dataclass(frozen=True)
class Network:
    """The hidden layers' activation (one spec for both, or ``"first,second"``), the output
    activation and the loss; the defaults are the lab's sigmoid network trained on MSE.
    ``Network("identity", "identity")`` is the lab's network without activation functions."""

    activation: str = "sigmoid"
    output_activation: str = "sigmoid"
    loss: str = "mse"

    def __post_init__(self):
        hidden_activations(self.activation)
        parse_activation(self.output_activation)
        get_loss(self.loss)
        if self.loss in NEEDS_SIGMOID_OUTPUT and self.output_activation != "sigmoid":
            raise ValueError(f"loss {self.loss!r} needs a sigmoid output, got {self.output_activation!r}")

    @property
    def hidden(self) -> tuple[str, str]:
        """The two hidden layers' activation specs, layer 1's first."""
        return hidden_activations(self.activation)

    def hidden_functions(self) -> tuple[Activation, Activation]:
        first, second = self.hidden
        return get_activation(first), get_activation(second)

    def output_function(self) -> Activation:
        return get_activation(self.output_activation)

    def loss_function(self) -> Loss:
        return get_loss(self.loss)

    @property
    def spec(self) -> str:
        """``"relu/sigmoid/bce"``: hidden/output/loss, as command lines and records write it."""
        return f"{self.activation}/{self.output_activation}/{self.loss}"

    @classmethod
    def from_spec(cls, text: str) -> "Network":
        """The network ``text`` (``HIDDEN/OUTPUT/LOSS``) names; a ``ValueError`` otherwise."""
        names = text.split("/")
        if len(names) != 3:
            raise ValueError(f"want HIDDEN/OUTPUT/LOSS, got {text!r}")
        return cls(*names)


LAB_NETWORK = Network()
