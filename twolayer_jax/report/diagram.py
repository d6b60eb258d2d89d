"""The network as a picture: its layers as columns of units, the parameters between them, and
how many there are of each, drawn from a model's parameter shapes (so the picture cannot
disagree with the network that was trained)."""

import itertools
import math

import numpy as np
from matplotlib.figure import Figure

UNITS_DRAWN = 6  # a wide layer shows this many units and an ellipsis for the rest
LAYER_NAMES = ("input x", "hidden layer 1: z₁ = σ(a₁)", "hidden layer 2: z₂ = σ(a₂)", "output ŷ = σ(a₃)")


def layer_widths(shapes: dict[str, tuple[int, ...]]) -> list[int]:
    """Units per layer, input first, read off the dense model's weight shapes W1, W2, W3."""
    return [shapes["W1"][0], shapes["W1"][1], shapes["W2"][1], shapes["W3"][1]]


def drawn_rows(width: int) -> list[float | None]:
    """The vertical positions of a layer's drawn units (None: the ellipsis), centred on 0."""
    if width <= UNITS_DRAWN:
        return [float(i - (width - 1) / 2) for i in range(width)]
    half = UNITS_DRAWN // 2
    rows = [*range(half), None, *range(half + 1, UNITS_DRAWN + 1)]
    return [None if r is None else float(r - UNITS_DRAWN / 2) for r in rows]


def grouped(count: int) -> str:
    """``10 501``: thousands set apart by a space, as the report writes large counts."""
    return f"{count:,}".replace(",", " ")


def parameter_label(shapes: dict[str, tuple[int, ...]], layer: int) -> str:
    weights, bias = shapes[f"W{layer}"], shapes[f"b{layer}"]
    count = math.prod(weights) + math.prod(bias)
    return (
        f"W{layer}: {' × '.join(map(str, weights))}\n"
        f"b{layer}: {' × '.join(map(str, bias))}\n"
        f"{grouped(count)} parameters"
    )


def network_diagram(shapes: dict[str, tuple[int, ...]]) -> Figure:
    """The dense network of ``shapes`` (``model.layer_shapes``): units as circles, every drawn
    unit joined to every drawn unit of the next layer, each layer's weights and bias below the
    gap they span, and the total in the title."""
    widths = layer_widths(shapes)
    total = sum(math.prod(shape) for shape in shapes.values())
    fig = Figure(figsize=(8.5, 4.6))
    ax = fig.add_subplot()
    columns = [drawn_rows(width) for width in widths]
    for column, (rows, next_rows) in enumerate(itertools.pairwise(columns)):
        for start in (r for r in rows if r is not None):
            for end in (r for r in next_rows if r is not None):
                ax.plot([column, column + 1], [start, end], color="0.75", lw=0.5, zorder=1)
        ax.text(column + 0.5, -UNITS_DRAWN / 2 - 1.1, parameter_label(shapes, column + 1),
                ha="center", va="top", fontsize=9)  # fmt: skip
    for column, (rows, width, name) in enumerate(zip(columns, widths, LAYER_NAMES, strict=True)):
        drawn = np.array([r for r in rows if r is not None])
        ax.scatter(np.full(len(drawn), column), drawn, s=180, color="white", edgecolor="black", zorder=2)
        if None in rows:
            ax.text(column, rows[rows.index(None) - 1] + 1, "⋮", ha="center", va="center", fontsize=16)
        ax.text(column, UNITS_DRAWN / 2 + 0.9, f"{name}\n{width} unit{'s' if width > 1 else ''}",
                ha="center", va="bottom", fontsize=9)  # fmt: skip
    ax.set_xlim(-0.5, len(widths) - 0.5)
    ax.set_ylim(-UNITS_DRAWN / 2 - 3.3, UNITS_DRAWN / 2 + 2.6)
    ax.axis("off")
    arrows = " → ".join(map(str, widths))
    ax.set_title(f"The lab's network: {arrows}, {grouped(total)} parameters")
    fig.tight_layout()
    return fig
