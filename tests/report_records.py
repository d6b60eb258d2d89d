"""Made-up report records shared by the tests of the report's sentences."""

from twolayer_jax.report.study import wilson_interval


def outcome(
    at_100: int, seeds: int = 8, epochs: int | None = 1000, spread: int = 0, loss: float = 0.01
) -> dict:
    """A cell's outcome record (``CellOutcome`` as JSON): ``at_100`` of ``seeds`` end at 100 %,
    those in a median of ``epochs`` (quartiles ``spread`` either side), the median final loss ``loss``."""
    return {
        "label": "x",
        "seeds": seeds,
        "at_100": at_100,
        "at_100_interval": wilson_interval(at_100, seeds),
        "median_epochs_to_100": epochs if at_100 else None,
        "quartiles_epochs_to_100": (epochs - spread, epochs + spread) if at_100 else None,
        "diverged": 0,
        "first_divergence": None,
        "median_final_loss": loss,
        "median_final_accuracy": 1.0 if at_100 == seeds else 0.5,
    }
