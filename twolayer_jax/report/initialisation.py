"""The initialisation discussion: what the scale of the first weights does to the lab's network.

One grid (:func:`initialisation_experiment`) trains each initialisation of :data:`COMPARED` at a
few widths and learning rates on `xor_easy`, where the sigmoid network's plateau is: every cell
starts the same seeds from its own initialisation, and the cells of one padding train in one
program. The reason is measured at epoch 0 (:func:`starting_record`), on the very networks the
grid starts from: how widely the weights are drawn, how much each layer's pre-activations vary
across the data points, and how much the network's output does. The records hold only numbers;
the sentences (called by :mod:`twolayer_jax.report.text`) claim only what they show.
"""

import dataclasses
import itertools
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from twolayer_jax.config import TrainConfig
from twolayer_jax.data import XOR_EASY, Dataset
from twolayer_jax.initialisations import formula
from twolayer_jax.model import forward_layers
from twolayer_jax.network import Network
from twolayer_jax.optimizers import HParams
from twolayer_jax.report.explain import PLATEAU_MATCH, seeds_phrase
from twolayer_jax.report.study import Cell, Experiment, GridResult, cell_initial_params, cropped
from twolayer_jax.report.wording import faster_apart, listing, number, percent, significant, whole_percent

SECTION = "initialisation"  # the grid's section in plan() and in the trained grids
# the lab's draw first, then what student solutions draw (np.random.randn; one uses U(−1, 1)),
# then the two scaled draws the libraries default to
COMPARED = ("lecun_normal", "normal", "uniform", "xavier_uniform", "he_normal")
WIDTHS = (10, 100)  # a width public solutions train at, and the lab's
RATES = (0.1, 1.0)  # a rate public solutions train at, and the lab's
DATASET = XOR_EASY  # where the sigmoids' plateau is: linear leaves it within a few dozen epochs
# "the wider start is the sooner" is said when at least this share of the comparable pairs agree
AGREEMENT = 0.75
ABOVE_PLATEAU = 0.1  # a starting loss this fraction above the best affine fit's is above the plateau


def cell_label(init: str, width: int, lr: float) -> str:
    return f"{init}, {width} units, lr {lr:g}"


def setting_label(width: int, lr: float) -> str:
    return f"{width} units, lr {lr:g}"


def initialisation_experiment(base: TrainConfig, seeds: int, datasets: list[Dataset]) -> Experiment:
    """The grid: every initialisation at every width and rate, on :data:`DATASET`, at the lab's
    network padded to ``base.hidden`` (the narrow widths in a program of their own padding)."""
    dataset = next(d for d in datasets if d.name == DATASET)
    cells = [
        Cell(cell_label(init, width, lr), HParams(lr=lr), (width, width), init)
        for width in WIDTHS
        for lr in RATES
        for init in COMPARED
    ]
    return Experiment(SECTION, "", dataset, base, cells, seeds)


# ---------------------------------------------------------------- the start, measured


def pre_activation_spread(pre_activation: jax.Array) -> jax.Array:
    """How much a layer's units vary across the data: each unit's standard deviation over the
    points, the median over units."""
    return jnp.median(jnp.std(pre_activation, axis=0))


@partial(jax.jit, static_argnames="network")
def starting_statistics(params: dict, x: jax.Array, y: jax.Array, network: Network) -> dict[str, jax.Array]:
    """Per run (leading axis of ``params``): the standard deviation of W₁'s and W₂'s drawn
    entries, the spread across the data of layer 1's and layer 2's pre-activations, the output's
    range over the data (max ŷ − min ŷ), and the loss."""
    loss_fn = network.loss_function()

    def one_run(run_params):
        cache = forward_layers(run_params, x, network)
        return {
            "loss": loss_fn(cache.x3, cache.y, y),
            "w1_std": jnp.std(run_params["W1"]),
            "w2_std": jnp.std(run_params["W2"]),
            "layer1_spread": pre_activation_spread(cache.x1),
            "layer2_spread": pre_activation_spread(cache.x2),
            "output_range": jnp.max(cache.y) - jnp.min(cache.y),
        }

    return jax.vmap(one_run)(params)


def starting_record(config: TrainConfig, dataset: Dataset, seeds: int) -> list[dict]:
    """Per initialisation and width, the medians over seeds of :func:`starting_statistics`, to 2
    significant digits, on the initial params the grid's cells start from (drawn by the same
    compiled program, so it costs no compilation of its own)."""
    x, y = (jnp.asarray(a, config.dtype) for a in (dataset.x, dataset.y))
    rows = []
    for width in WIDTHS:
        narrow = dataclasses.replace(config, hidden=(width, width))
        for init in COMPARED:
            drawn = cell_initial_params(config, Cell("", widths=(width, width), init=init), seeds)
            statistics = starting_statistics(cropped(drawn, narrow.param_shapes), x, y, config.network)
            medians = {name: significant(float(np.median(values))) for name, values in statistics.items()}
            rows.append({"init": init, "width": width, **medians})
    return rows


def initialisation_record(grid: GridResult, dataset: Dataset, config: TrainConfig) -> dict:
    """``results["initialisation"]``: every cell's outcome, labelled by its initialisation,
    width and rate, and the start of each initialisation at each width."""
    cells = [
        {
            "init": cell.init,
            "width": cell.widths[0],
            "lr": float(cell.hparams.lr),
            "outcome": dataclasses.asdict(o),
        }
        for cell, o in zip(grid.cells, grid.outcomes, strict=True)
    ]
    return {
        "dataset": dataset.name,
        "points": len(dataset.x),
        "lab_init": config.init,
        "compared": list(COMPARED),
        "formulas": {init: formula(init) for init in COMPARED},
        "widths": list(WIDTHS),
        "rates": list(RATES),
        "cells": cells,
        "start": starting_record(config, dataset, grid.outcomes[0].seeds),
    }


# ---------------------------------------------------------------- the sentences


def cells_of(record: dict, width: int, lr: float) -> list[dict]:
    return [c for c in record["cells"] if c["width"] == width and c["lr"] == lr]


def start_of(record: dict, init: str, width: int) -> dict:
    return next(r for r in record["start"] if r["init"] == init and r["width"] == width)


def introduction_sentence(record: dict, seeds: int) -> str:
    widths = listing([str(w) for w in record["widths"]])
    rates = listing([f"{r:g}" for r in record["rates"]])
    return (
        f"The lab draws its weights as `{record['lab_init']}` does; the public student solutions of this lab "
        "mostly draw every weight from `np.random.randn`, which is `normal` here, and one from U(−1, 1), "
        "`uniform`; `xavier_uniform` and `he_normal` are the scaled draws libraries default to. On "
        f"`{record['dataset']}`, where the lab's network first sits on a plateau near the best affine fit's "
        f"loss (see the learning rates above), one grid trains each of them at widths {widths} and lr "
        f"{rates}, {seeds} seeds per cell, every cell starting the same seeds from its own initialisation "
        "(the figure: the median loss of each; the table at the end: every cell)."
    )


def table_sentence(seeds: int) -> str:
    return (
        f"The table describes the network each initialisation starts from, as medians over the {seeds} "
        "seeds at epoch 0: the standard deviation of the drawn entries of W₁ and W₂; each layer's spread, "
        "the standard deviation of a unit's pre-activation over the data points (the median over the "
        "layer's units); the range of the output over the points; and the loss. $n_\\mathrm{in}$ and "
        "$n_\\mathrm{out}$ are a layer's fan-in and fan-out; the normal draws are not truncated."
    )


def start_sentences(record: dict, affine_loss: float) -> list[str]:
    """What the start looks like at the widest width: how flat the output is under every
    initialisation, and which start above the plateau's loss instead of on it."""
    wide, lab = max(record["widths"]), record["lab_init"]
    rows = [start_of(record, init, wide) for init in record["compared"]]
    lab_row = start_of(record, lab, wide)
    flattest = min(rows, key=lambda r: r["output_range"])
    widest = max(rows, key=lambda r: r["output_range"])
    sentences = [
        f"At width {wide} the initial network is nearly a constant function under every initialisation: its "
        f"output's range over the {record['points']} points is {number(lab_row['output_range'])} under "
        f"`{lab}`, and across initialisations from {number(flattest['output_range'])} "
        f"(`{flattest['init']}`) to {number(widest['output_range'])} (`{widest['init']}`)."
    ]
    above = [r for r in rows if r["loss"] > (1 + ABOVE_PLATEAU) * affine_loss]
    if above:
        losses = listing([f"{number(r['loss'])} (`{r['init']}`)" for r in above])
        start, its = ("starts", "its") if len(above) == 1 else ("start", "their")
        sentences.append(
            f"{len(above)} of the {len(rows)} {start} more than {whole_percent(ABOVE_PLATEAU)} % above the "
            f"plateau's loss ({number(affine_loss)}), at {losses}: {its} output is nearly constant too, but "
            "far from the labels' mean."
        )
    return sentences


def comparable(cell: dict) -> bool:
    """At least half the cell's seeds get to 100 %, so its median epochs say how soon it does."""
    outcome = cell["outcome"]
    return outcome["median_epochs_to_100"] is not None and 2 * outcome["at_100"] >= outcome["seeds"]


def ordered_pairs(record: dict, statistic: str) -> tuple[int, int]:
    """Over the pairs of comparable cells of one width and rate whose starting ``statistic`` and
    median epochs both differ: how many get to 100 % sooner from the larger statistic, and how
    many pairs there are."""
    agree = total = 0
    for width, lr in itertools.product(record["widths"], record["rates"]):
        cells = [c for c in cells_of(record, width, lr) if comparable(c)]
        for a, b in itertools.combinations(cells, 2):
            values = [start_of(record, c["init"], width)[statistic] for c in (a, b)]
            epochs = [c["outcome"]["median_epochs_to_100"] for c in (a, b)]
            if values[0] == values[1] or epochs[0] == epochs[1]:
                continue
            total += 1
            agree += (values[0] > values[1]) == (epochs[0] < epochs[1])
    return agree, total


# the starting statistics the ordering is tried against, in the words the sentence uses
ORDERED_BY = {
    "layer2_spread": "layer 2's spread",
    "layer1_spread": "layer 1's spread",
    "output_range": "the output's range",
}


def ordering_sentence(record: dict) -> list[str]:
    """Which starting statistic orders the comparable cells by their epochs to 100 %, counted
    over pairs, and what that count can and cannot say."""
    counts = {key: ordered_pairs(record, key) for key in ORDERED_BY}
    agree, total = counts["layer2_spread"]
    if total == 0:
        return []
    settings = len({(c["width"], c["lr"]) for c in record["cells"] if comparable(c)})
    tried = [f"{ORDERED_BY[k]} {a} of {t}" for k, (a, t) in counts.items() if k != "layer2_spread" and t]
    others = f" ({listing(tried)})" if tried else ""
    pairs = f"{agree} of {total} pairs of initialisations of the same width and rate"
    if agree >= AGREEMENT * total:
        return [
            f"Where at least half the seeds get to 100 % ({settings} of the grid's settings), the "
            "initialisation whose layer-2 pre-activations vary more across the data at the start gets there "
            f"sooner in {pairs}"
            f"{others}. That is a correlation over a few settings, not a cause: layer 2's spread follows "
            "the scale W₂ is drawn at, which moves every later layer's gradient too."
        ]
    return [
        "Where at least half the seeds get to 100 %, the wider layer-2 spread at the start gets there sooner "
        f"in only {pairs}{others}, so no starting statistic here orders them."
    ]


def lab_setting(record: dict, lab_lr: float) -> tuple[list[dict], dict, dict | None]:
    """The cells at the lab's width and rate, the lab's own initialisation's among them, and the
    comparable one that gets to 100 % soonest (None if none is comparable)."""
    cells = cells_of(record, max(record["widths"]), lab_lr)
    own = next(c for c in cells if c["init"] == record["lab_init"])
    comparables = [c for c in cells if comparable(c)]
    soonest = min(comparables, key=lambda c: c["outcome"]["median_epochs_to_100"], default=None)
    return cells, own, soonest


def lab_setting_sentence(record: dict, lab_lr: float) -> list[str]:
    """At the lab's width and rate: the soonest initialisation against the lab's own."""
    _, own, soonest = lab_setting(record, lab_lr)
    if soonest is None or soonest is own:
        return []
    apart = " (interquartile ranges apart)" if faster_apart(soonest["outcome"], own["outcome"]) else ""
    return [
        f"At the lab's {setting_label(max(record['widths']), lab_lr)}, `{soonest['init']}` gets to 100 % "
        f"in a median of {median_epochs(soonest['outcome'])} against `{record['lab_init']}`'s "
        f"{median_epochs(own['outcome'])}{apart}."
    ]


def median_epochs(outcome: dict) -> str:
    """``555 epochs (over the 30 of 32 seeds that do)``, or ``1672 epochs`` when every seed does."""
    text = f"{number(outcome['median_epochs_to_100'])} epochs"
    if outcome["at_100"] < outcome["seeds"]:
        text += f" (over the {seeds_phrase(outcome['at_100'], outcome['seeds'])} that do)"
    return text


def plateau_sentences(record: dict, affine_loss: float, epochs: int) -> list[str]:
    """Where no seed gets to 100 %, per width and rate; how many of those cells still sit on the
    plateau (at the best affine fit's loss) and where the others end; and, when the lab's
    setting has such a cell, how flat that initialisation's layer 1 starts against the lab's."""
    stuck = [c for c in record["cells"] if c["outcome"]["at_100"] == 0 and c["outcome"]["diverged"] == 0]
    if not stuck:
        return []
    places = []
    for width, lr in itertools.product(record["widths"], record["rates"]):
        inits = [c["init"] for c in stuck if c["width"] == width and c["lr"] == lr]
        if inits:
            named = (
                "every initialisation"
                if len(inits) == len(record["compared"])
                else listing([f"`{init}`" for init in inits])
            )
            places.append(f"at {setting_label(width, lr)} ({named})")
    on_fit = [c for c in stuck if on_plateau(c, affine_loss)]
    off_fit = [c for c in stuck if not on_plateau(c, affine_loss)]
    text = f"No seed gets to 100 % within {epochs} epochs {listing(places)}"
    if on_fit:
        text += (
            f"; {len(on_fit)} of these {len(stuck)} cells still end on the plateau, their median loss within "
            f"{whole_percent(PLATEAU_MATCH)} % of the best affine fit's {number(affine_loss)}"
        )
    if off_fit:
        ends = listing(
            [
                f"`{c['init']}` at {setting_label(c['width'], c['lr'])} (median loss "
                f"{number(c['outcome']['median_final_loss'])}, accuracy "
                f"{percent(c['outcome']['median_final_accuracy'])})"
                for c in off_fit
            ]
        )
        text += f", and the others end at another loss, without getting there: {ends}"
    return [text + ".", *flat_layer_1_sentence(record, stuck)]


def on_plateau(cell: dict, affine_loss: float) -> bool:
    return abs(cell["outcome"]["median_final_loss"] - affine_loss) <= PLATEAU_MATCH * affine_loss


def flat_layer_1_sentence(record: dict, stuck: list[dict]) -> list[str]:
    """An initialisation that no seed of gets to 100 % at the widest width, at every rate, and
    that starts with the flattest layer 1 there: its W₁ scale against the lab's."""
    wide, lab = max(record["widths"]), record["lab_init"]
    rows = [start_of(record, init, wide) for init in record["compared"]]
    flattest = min(rows, key=lambda r: r["layer1_spread"])
    stuck_everywhere = all(
        any(c["init"] == flattest["init"] and c["width"] == wide and c["lr"] == lr for c in stuck)
        for lr in record["rates"]
    )
    if not stuck_everywhere or flattest["init"] == lab:
        return []
    lab_row = start_of(record, lab, wide)
    return [
        f"`{flattest['init']}` at width {wide} starts with the flattest layer 1: its bound counts the "
        "fan-out "
        f"too, so W₁ is drawn with a standard deviation of {number(flattest['w1_std'])} against `{lab}`'s "
        f"{number(lab_row['w1_std'])}, and layer 1 varies over the data by "
        f"{number(flattest['layer1_spread'])} "
        f"against {number(lab_row['layer1_spread'])}."
    ]


def initialisation_paragraphs(results: dict) -> list[str]:
    record = results[SECTION]
    affine = results["no_activation"][record["dataset"]]["least_squares_loss"]
    epochs = results["settings"]["epochs"]
    return [
        introduction_sentence(record, results["settings"]["seeds"]),
        table_sentence(results["settings"]["seeds"]),
        " ".join(start_sentences(record, affine) + ordering_sentence(record)),
        " ".join(
            lab_setting_sentence(record, results["settings"]["lab_lr"])
            + plateau_sentences(record, affine, epochs)
        ),
    ]


def initialisation_figure_histories(grid: GridResult) -> dict[str, dict[str, np.ndarray]]:
    """{"<width> units, lr <rate>": {initialisation: (seeds, epochs + 1) losses}}: a panel per
    width and rate, a curve per initialisation."""
    panels: dict[str, dict[str, np.ndarray]] = {}
    for cell, result in zip(grid.cells, grid.results, strict=True):
        panel = setting_label(cell.widths[0], float(cell.hparams.lr))
        panels.setdefault(panel, {})[cell.init] = np.asarray(result.loss)
    return panels


def conclusion_sentence(results: dict) -> list[str]:
    """For the report's conclusion: at the lab's width and rate, the initialisation that gets to
    100 % soonest when it is interquartile ranges ahead of the lab's, and those that bring no seed
    there."""
    record, lab_lr = results[SECTION], results["settings"]["lab_lr"]
    cells, own, soonest = lab_setting(record, lab_lr)
    parts = []
    if soonest is not None and soonest is not own and faster_apart(soonest["outcome"], own["outcome"]):
        parts.append(
            f"`{soonest['init']}` gets there in a median of {median_epochs(soonest['outcome'])} against "
            f"`{record['lab_init']}`'s {median_epochs(own['outcome'])}"
        )
    none = [f"`{c['init']}`" for c in cells if c["outcome"]["at_100"] == 0]
    if none:
        parts.append(f"{listing(none)} {'brings' if len(none) == 1 else 'bring'} no seed there")
    if not parts:
        return []
    setting = setting_label(max(record["widths"]), lab_lr)
    return [f"The scale of the first weights matters too: at the lab's {setting}, {'; '.join(parts)}."]
