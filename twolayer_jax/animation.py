"""Watch it learn: one run's decision boundary at log-spaced epochs, as an animated GIF.

:func:`record_run` trains one run of a config from a key, as ``train_many`` trains each of its
runs, and keeps its params at :func:`snapshot_epochs`: 0, 1, 2, 3, ... thinning out to the last
epoch, log-spaced because a run changes most in its first epochs. :func:`save_learning_gif` draws
each snapshot's output over the input plane beside the run's loss curve, a cursor marking the
snapshot's epoch; :func:`save_learning_still` draws one of those frames as a PNG; and
:func:`hidden_units_figure` shows what single hidden units compute at the start and at the end.

The recording is one compiled program: a ``lax.scan`` over the intervals between snapshots, each a
``fori_loop`` of one-epoch :func:`twolayer_jax.one_run.make_fit` steps, so the snapshots and the
history come from the same arithmetic as a plain run (one epoch's fit starts its optimizer afresh,
which continues a run exactly only for an optimizer without state: see :func:`recording_problem`).
"""

import dataclasses
import itertools
import math
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from matplotlib.animation import FuncAnimation, PillowWriter
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.colors import Colormap
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.text import Text
from matplotlib.ticker import NullFormatter, StrMethodFormatter
from PIL import Image

from twolayer_jax import validation
from twolayer_jax.config import (
    MAX_EPOCHS,
    OPTIMIZER_IMPLS,
    Architecture,
    TrainConfig,
    check_factory,
    check_train,
    require_dtype,
)
from twolayer_jax.data import Dataset
from twolayer_jax.gradients import GradFn
from twolayer_jax.many_runs import seed_keys
from twolayer_jax.model import Params, forward, forward_layers
from twolayer_jax.network import Network
from twolayer_jax.one_run import make_fit
from twolayer_jax.optimizers import HParams
from twolayer_jax.plots import (
    boundary_axis,
    boundary_inputs,
    draw_boundary,
    draw_grid,
    draw_labelled_points,
)

FRAMES = 48  # snapshots of a run: enough to watch the boundary move, few enough for a GIF of ~1 MB
FRAME_POINTS = 121  # grid points per axis of a frame's heat map; a GIF at its size shows no more
FRAMES_PER_SECOND = 8
# a GIF frame's resolution: the learning GIF 960 px wide, near the stills' 1100, so its text reads;
# frames draw over a painted backdrop, so this costs about a fifth more time than 72 dpi did
GIF_DPI = 96
STILL_POINTS = 221  # the still is read closely in a report, so it gets the report's full grid
UNIT_POINTS = 61  # grid points per axis of one hidden unit's small map
UNITS_SHOWN = 16  # hidden units per layer in the hidden units' figure


class Recording(NamedTuple):
    """One run's snapshots and history. ``params`` has a leading snapshot axis: ``params[i]`` is
    the params after ``epochs[i]`` updates. ``loss`` and ``accuracy`` are as in
    :class:`twolayer_jax.one_run.TrainResult`: entry k belongs to the params after k updates,
    k = 0..epochs."""

    epochs: tuple[int, ...]
    params: Params
    loss: np.ndarray
    accuracy: np.ndarray

    def at(self, frame: int) -> Params:
        """The params of snapshot ``frame``."""
        return jax.tree.map(lambda leaf: leaf[frame], self.params)


def snapshot_epochs(epochs: int, frames: int = FRAMES) -> tuple[int, ...]:
    """About ``frames`` distinct epochs from 0 to ``epochs``, both included, log-spaced: every
    epoch at first, then ever further apart (all of 0..epochs when that is no more than ``frames``).

    Rounding a geometric sequence to whole epochs merges its first terms, so the sequence is
    lengthened until ``frames`` distinct epochs remain."""
    epochs = validation.whole_number("epochs", epochs, high=MAX_EPOCHS)
    frames = validation.whole_number("frames", frames, low=2)
    if epochs + 1 <= frames:
        return tuple(range(epochs + 1))
    terms = frames - 1
    while True:
        chosen = np.unique(np.rint(np.geomspace(1, epochs, terms)).astype(np.int64))
        if len(chosen) + 1 >= frames:
            return (0, *(int(epoch) for epoch in chosen))
        terms += 1


def recording_problem(config: TrainConfig) -> str | None:
    """Why :func:`record_run` cannot record a run of ``config`` (None when it can). It trains one
    ``make_fit`` epoch at a time, and each starts its optimizer afresh, so only an optimizer that
    keeps no state between epochs (plain gradient descent) continues as one run would."""
    optimizer = OPTIMIZER_IMPLS[config.optimizer_impl][config.optimizer](HParams())
    shapes = {name: jax.ShapeDtypeStruct(shape, config.dtype) for name, shape in config.param_shapes.items()}
    if jax.tree.leaves(jax.eval_shape(optimizer.init, shapes)):
        return (
            f"a recording needs an optimizer without state between epochs (sgd); {config.optimizer} keeps one"
        )
    return None


def record_run(
    config: TrainConfig,
    key: Array,
    hparams: HParams,
    x: Array,
    y: Array,
    frames: int = FRAMES,
    grad_fn: GradFn | None = None,
) -> Recording:
    """Train one run of ``config`` from ``key`` (the params ``config.architecture.init_params(key)``
    draws, as ``train_many`` does for each run) on ``x`` (n, 2), ``y`` (n, 1), keeping its params at
    the ``snapshot_epochs(config.epochs, frames)``. ``grad_fn`` replaces the gradient
    ``config.grad`` names, as in :func:`twolayer_jax.one_run.make_fit` (pass one object, not a new
    closure per call: the compiled program is keyed on it). Pure: the same arguments give the
    same recording. A ``ValueError`` says why when the config cannot be recorded
    (:func:`recording_problem`)."""
    check_train(config, key, hparams, x, y, None)
    check_factory(config, grad_fn, None)
    problem = recording_problem(config)
    if problem:
        raise ValueError(problem)
    epochs = snapshot_epochs(config.epochs, frames)
    initial = initial_params(config.architecture, key)
    params, loss, accuracy = record_snapshots(config, epochs, grad_fn, initial, hparams, x, y)
    return Recording(epochs, params, np.asarray(loss), np.asarray(accuracy))


@partial(jax.jit, static_argnames=("architecture",))
def initial_params(architecture: Architecture, key: Array) -> Params:
    """The params a run of ``architecture`` starts from for ``key``: a program of its own, so
    recordings that differ only in how they train (loss, gradient) share its compilation (drawing
    normal samples is slow to compile)."""
    return architecture.init_params(key)


@partial(jax.jit, static_argnames=("config", "epochs", "grad_fn"))
def record_snapshots(
    config: TrainConfig,
    epochs: tuple[int, ...],
    grad_fn: GradFn | None,
    initial: Params,
    hparams: HParams,
    x: Array,
    y: Array,
) -> tuple[Params, Array, Array]:
    """The body of :func:`record_run`, one compiled program per (config, snapshot epochs, gradient,
    shapes): the params at each of ``epochs`` (stacked), and the run's loss and accuracy histories."""
    one_epoch = make_fit(dataclasses.replace(config, epochs=1), grad_fn)
    dtype = require_dtype(config.dtype)

    def train_epoch(epoch, carry):
        params, loss, accuracy = carry
        # A one-epoch fit's history starts with the loss of the params it started from, the entry
        # the run's own history has at this epoch; its final forward pass is unused, so XLA drops it.
        step = one_epoch(params, hparams, x, y)
        return step.params, loss.at[epoch].set(step.loss[0]), accuracy.at[epoch].set(step.accuracy[0])

    def train_interval(carry, interval):
        carry = jax.lax.fori_loop(interval[0], interval[1], train_epoch, carry)
        return carry, carry[0]

    history = jnp.zeros(config.epochs + 1, dtype)
    intervals = jnp.array(list(itertools.pairwise(epochs)))
    (final, loss, accuracy), snapshots = jax.lax.scan(train_interval, (initial, history, history), intervals)
    last = one_epoch(final, hparams, x, y)  # its first entry: the final params' loss and accuracy
    loss, accuracy = loss.at[-1].set(last.loss[0]), accuracy.at[-1].set(last.accuracy[0])
    stacked = jax.tree.map(lambda first, rest: jnp.concatenate([first[None], rest]), initial, snapshots)
    return stacked, loss, accuracy


@partial(jax.jit, static_argnames=("network", "points"))
def outputs_over_plane(params: Params, network: Network, points: int) -> Array:
    """The output of each snapshot of ``params`` (a leading snapshot axis) on the heat maps' grid,
    (snapshots, points, points), one snapshot at a time so the memory is one network's."""
    grid = jnp.asarray(boundary_inputs(points), params["W1"].dtype)
    return jax.lax.map(lambda one: forward(one, grid, network).reshape(points, points), params)


def frame_index(recording: Recording, epoch: int | None) -> int:
    """The last snapshot at or before ``epoch`` (the last snapshot when None)."""
    if epoch is None:
        return len(recording.epochs) - 1
    epoch = validation.whole_number("epoch", epoch, low=0)
    return int(np.searchsorted(recording.epochs, epoch, side="right")) - 1


FIGURE_SPACE = "\u2007"  # a space as wide as a digit (the default font's digits are all one width)


def padded(number: str, width: int) -> str:
    """``number`` right-aligned to ``width`` digits with figure spaces, so a centred headline whose
    numbers change keeps its width from frame to frame in the figures' own font."""
    return number.rjust(width, FIGURE_SPACE)


def frame_headline(recording: Recording, frame: int, title: str) -> str:
    epoch, last = recording.epochs[frame], len(recording.loss) - 1
    loss, accuracy = recording.loss[epoch], recording.accuracy[epoch]
    progress = f"epoch {padded(str(epoch), len(str(last)))} of {last}"
    if not np.isfinite(loss):
        return f"{title}\n{progress}: diverged"
    return f"{title}\n{progress}: loss {loss:.5f}, accuracy {padded(f'{100 * accuracy:.2f}', 6)}%"


def diverged_epoch(loss: np.ndarray) -> int | None:
    """The first epoch whose loss is not finite (None when the run never diverged)."""
    bad = np.flatnonzero(~np.isfinite(loss))
    return int(bad[0]) if bad.size else None


def draw_loss_curve(ax, loss: np.ndarray) -> None:
    """The run's loss against epochs. The epoch axis is linear from 0 to 1 and logarithmic beyond
    (symlog), so epoch 0 has a place and the early epochs, where the snapshots crowd, spread out.
    A run that diverged has its last finite loss marked with a cross and the epoch its loss
    stopped being finite written beside it, and its axis ends soon after: its curve would be a
    speck at the left of thousands of epochs of nothing."""
    ax.plot(np.arange(len(loss)), loss, color="tab:blue", lw=1.4)
    ax.set_xscale("symlog", linthresh=1, linscale=0.7)
    ax.set_yscale("log")
    ax.set_xlim(0, 1.3 * (len(loss) - 1))  # room to the right, so the cursor shows at the last epoch
    ax.set(xlabel="epoch", ylabel="loss", title="training loss (the dot: this frame's epoch)")
    draw_grid(ax)
    diverged = diverged_epoch(loss)
    if diverged is not None and diverged > 0:
        last = diverged - 1
        ax.plot([last], [loss[last]], "x", color="black", ms=9, mew=2)
        ax.annotate(f"diverged at epoch {diverged}\n(loss not finite from there)", (last, loss[last]),
                    xytext=(0.95, 0.5), textcoords="axes fraction", ha="right", va="center",
                    arrowprops={"arrowstyle": "->", "color": "0.3"})  # fmt: skip
        ax.set_xlim(0, max(10, 3 * diverged))
    # Plain numbers (1000, 0.01) instead of powers of ten: they read at a glance, and the powers'
    # mathtext would be parsed again on every frame, most of a frame's drawing time.
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(StrMethodFormatter("{x:g}"))
        axis.set_minor_formatter(NullFormatter())
    finite = loss[np.isfinite(loss) & (loss > 0)]
    if finite.size and finite.max() < 10 * finite.min():
        # within one decade there may be no power of ten to label: the minor ticks say the values
        ax.yaxis.set_minor_formatter(StrMethodFormatter("{x:g}"))


class Animated(NamedTuple):
    """A figure that an animation steps through the snapshots: ``show(frame)`` sets it to snapshot
    ``frame``; ``moving`` are the artists ``show`` changes and those that must stay drawn over
    them (the points over the heat map). Everything else stays as first drawn, so a GIF draws it
    once (:func:`paint_backdrop`)."""

    fig: Figure
    show: Callable[[int], None]
    moving: list[Artist]


def learning_figure(recording: Recording, outputs: np.ndarray, dataset: Dataset, title: str) -> Animated:
    """The animation's figure, set to snapshot 0 but for the boundary (``show(0)`` draws it): left,
    the network's output over the plane (``outputs``, (snapshots, P, P)) with its 0.5 contour and
    the points; right, the loss curve with a cursor at the snapshot's epoch; above, epoch, loss
    and accuracy. The colour scale and both axes are fixed, so only the network's change moves."""
    axis = boundary_axis(outputs.shape[-1])
    fig = Figure(figsize=(10, 4.4), layout="constrained")
    map_ax, loss_ax = fig.subplots(1, 2, width_ratios=(1, 1.1))
    mesh = draw_map_image(map_ax, axis, outputs[0])
    fig.colorbar(mesh, ax=map_ax, label="network output ŷ (0.5: the boundary)")
    points = drawn_points(map_ax, dataset, size=36)
    map_ax.set(xlabel="x[0]", ylabel="x[1]", title="network output over the input plane")
    map_ax.set_aspect("equal")
    diverged = map_ax.text(0.5, 0.5, "diverged", ha="center", va="center", transform=map_ax.transAxes,
                           bbox={"facecolor": "white", "alpha": 0.9})  # fmt: skip
    draw_loss_curve(loss_ax, recording.loss)
    cursor = loss_ax.axvline(0, color="black", lw=1, alpha=0.6)
    (dot,) = loss_ax.plot([0], [recording.loss[0]], "o", color="black", ms=6, clip_on=False)
    headline = fig.suptitle(frame_headline(recording, 0, title))
    # The layout is settled once, on a full headline: re-solving it per frame would let the
    # panels shift by a pixel as the numbers change, which shows as jitter in the GIF.
    fig.draw_without_rendering()
    fig.set_layout_engine(None)
    boundary = None

    def show(frame: int) -> None:
        nonlocal boundary
        epoch = recording.epochs[frame]
        mesh.set_array(outputs[frame])
        if boundary is not None:
            boundary.remove()
        boundary = draw_boundary(map_ax, axis, outputs[frame])
        diverged.set_visible(not np.isfinite(recording.loss[epoch]))
        cursor.set_xdata([epoch, epoch])
        dot.set_data([epoch], [recording.loss[epoch]])
        headline.set_text(frame_headline(recording, frame, title))

    return Animated(fig, show, [mesh, points, diverged, cursor, dot, headline])


def draw_map_image(ax: Axes, axis: np.ndarray, output: np.ndarray) -> AxesImage:
    """The heat map of :func:`twolayer_jax.plots.draw_output_map` (its colours and scale, a cell
    centred on each grid point) as an image: a frame resamples one picture instead of filling a
    polygon per cell, which took a fifth of a side-by-side frame's time."""
    half = (axis[1] - axis[0]) / 2
    extent = (axis[0] - half, axis[-1] + half, axis[0] - half, axis[-1] + half)
    return ax.imshow(
        output, cmap="RdBu", vmin=0, vmax=1, origin="lower", extent=extent, interpolation="nearest"
    )


def drawn_points(ax: Axes, dataset: Dataset, size: float) -> Artist:
    """The dataset's points drawn on ``ax`` (:func:`twolayer_jax.plots.draw_labelled_points`), and
    the artist that draws them: the collection added last."""
    draw_labelled_points(ax, dataset.x, dataset.y, size=size)
    return ax.collections[-1]


def paint_backdrop(fig: Figure, moving: list[Artist], dpi: float) -> None:
    """Draw ``fig`` once at ``dpi`` without its ``moving`` artists, put that picture behind the
    figure and hide every artist it shows. A later draw (a GIF frame) then draws one picture and
    what moves, not every tick, label and curve again, which was most of a frame's time; the
    pixels are the same. The axes' frames (spines) draw with what moves, over it, as in a whole
    draw; artists added later (the boundary ``show`` draws anew each frame) draw over the picture
    too. The layout must be settled (no layout engine) and the frames saved at ``dpi``, or what
    moves would not line up with the picture under it."""
    moving = [*moving, *(spine for ax in fig.axes for spine in ax.spines.values())]
    # Left out of the picture by matplotlib's own convention: a plain draw (not a save) skips
    # animated artists, but for images, which are hidden instead. (Hidden, a title would move the
    # one beside it: an axes places its titles by their drawn extents.)
    images = [artist for artist in moving if isinstance(artist, AxesImage) and artist.get_visible()]
    for artist in moving:
        artist.set_animated(True)
    for image in images:
        image.set_visible(False)
    picture = rendered(fig, dpi)
    for artist in moving:
        artist.set_animated(False)  # a figure leaves its animated artists out of a save too
    for image in images:
        image.set_visible(True)
    keep = set(moving)
    static = [child for child in fig.get_children() if not isinstance(child, Axes) and child is not fig.patch]
    static += [child for ax in fig.axes for child in ax.get_children()]
    for artist in static:
        # An empty text (an axes' unused left and right titles) draws nothing, and hidden it would
        # move the title beside it: an axes places its titles by one another's drawn extents.
        if artist not in keep and not (isinstance(artist, Text) and not artist.get_text()):
            artist.set_visible(False)
    fig.add_artist(Backdrop(np.asarray(picture)))


def rendered(fig: Figure, dpi: float) -> Image.Image:
    """``fig`` drawn at ``dpi`` (which it keeps) as an RGBA picture. A renderer of its own: a
    canvas attached to the figure would draw it whole again after each GIF frame (an animation
    asks its figure's canvas for a redraw, a no-op on a figure without one)."""
    fig.set_dpi(dpi)
    renderer = RendererAgg(*fig.bbox.size, dpi)
    fig.draw(renderer)
    return Image.fromarray(np.array(renderer.buffer_rgba()))


class Backdrop(Artist):
    """A picture of the whole figure, pixel for pixel, drawn under everything else. A figure's own
    image artist (``figimage``) would resample and colour-map it on every draw: a tenth of a frame."""

    zorder = -1

    def __init__(self, picture: np.ndarray):
        """``picture``: (height, width, 4) uint8 RGBA, its first row the figure's top."""
        super().__init__()
        self.picture = picture[::-1]  # a renderer takes an image's rows from the bottom up

    def draw(self, renderer) -> None:
        if not self.get_visible():
            return
        gc = renderer.new_gc()
        renderer.draw_image(gc, 0, 0, self.picture)
        gc.restore()


def gif_palette(sample: Image.Image, colormap: Colormap) -> Image.Image:
    """256 colours for every frame of a GIF: 128 even steps of ``colormap``, the heat maps'
    colours, so a map near 0.5 keeps its faint tint (median cut alone merges those few pixels'
    colours into a grey), and the 128 colours median cut finds in ``sample`` (RGBA frames that
    hold what else the frames show: text, curves, points and the blends at their edges)."""
    steps = np.rint(255 * colormap(np.linspace(0, 1, 128))[:, :3]).astype(np.uint8)
    found = np.array(sample.convert("RGB").quantize(128).getpalette()[: 3 * 128], np.uint8)
    palette = Image.new("P", (1, 1))
    palette.putpalette([*steps.ravel().tolist(), *found.tolist()])
    return palette


class OnePaletteWriter(PillowWriter):
    """matplotlib's Pillow writer, every frame mapped to one ``palette`` (:func:`gif_palette`).
    Left to Pillow, each frame gets a palette of its own by median cut, which took longer than
    drawing the frame, and frames whose palettes differ are stored whole."""

    def __init__(self, palette: Image.Image, fps: int):
        super().__init__(fps=fps)
        self.palette = palette

    def grab_frame(self, **savefig_kwargs) -> None:
        super().grab_frame(**savefig_kwargs)
        # PillowWriter keeps each grabbed frame in _frames until finish() writes them
        frame = self._frames[-1].convert("RGB")
        self._frames[-1] = frame.quantize(palette=self.palette, dither=Image.Dither.NONE)


def save_gif(animated: Animated, frames: int, path: Path, dpi: float) -> Path:
    """Snapshots 0..``frames`` - 1 of ``animated`` as the frames of an animated GIF at ``path``,
    written by matplotlib's Pillow writer in one palette (:class:`OnePaletteWriter`), the last
    held a second longer since it is the result; what does not move is drawn once
    (:func:`paint_backdrop`). The heat maps are ``animated``'s images, all in one colour map."""
    fig, show, moving = animated
    colormap = next(artist.get_cmap() for artist in moving if isinstance(artist, AxesImage))
    paint_backdrop(fig, moving, dpi)
    show(0)
    first = rendered(fig, dpi)
    show(frames - 1)
    last = rendered(fig, dpi)
    sample = Image.new("RGBA", (first.width, 2 * first.height))
    sample.paste(first, (0, 0))
    sample.paste(last, (0, first.height))
    writer = OnePaletteWriter(gif_palette(sample, colormap), fps=FRAMES_PER_SECOND)
    hold = [frames - 1] * FRAMES_PER_SECOND
    FuncAnimation(fig, show, frames=[*range(frames), *hold], repeat=False).save(path, writer=writer, dpi=dpi)
    return path


def save_still(animated: Animated, path: Path, dpi: float) -> Path:
    """The one snapshot of ``animated`` (built from a one-frame recording) as a PNG at ``path``."""
    animated.show(0)
    animated.fig.savefig(path, dpi=dpi)
    return path


def save_learning_gif(
    recording: Recording, config: TrainConfig, dataset: Dataset, title: str, path: Path, dpi: int = GIF_DPI
) -> Path:
    """Every snapshot of ``recording`` as one frame of an animated GIF at ``path`` (:func:`save_gif`)."""
    outputs = np.asarray(outputs_over_plane(recording.params, config.network, FRAME_POINTS))
    return save_gif(learning_figure(recording, outputs, dataset, title), len(recording.epochs), path, dpi)


def save_learning_still(
    recording: Recording,
    config: TrainConfig,
    dataset: Dataset,
    title: str,
    path: Path,
    epoch: int | None = None,
    dpi: int = 110,
) -> Path:
    """One frame of the animation as a PNG at ``path``: the last snapshot at or before ``epoch``
    (the end of the run when None), on the report's finer grid."""
    still = only_frame(recording, frame_index(recording, epoch))
    outputs = np.asarray(outputs_over_plane(still.params, config.network, STILL_POINTS))
    return save_still(learning_figure(still, outputs, dataset, title), path, dpi)


def only_frame(recording: Recording, frame: int) -> Recording:
    """``recording`` cut to snapshot ``frame``, with the whole history still there for the curve."""
    params = jax.tree.map(lambda leaf: leaf[frame : frame + 1], recording.params)
    return recording._replace(epochs=(recording.epochs[frame],), params=params)


def strongest_units(params: Params, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``count`` units of each hidden layer whose outgoing weights are largest (the length of a
    layer-1 unit's row of W2, a layer-2 unit's |W3| entry), strongest first: the units the next
    layer listens to most."""
    first = np.linalg.norm(np.asarray(params["W2"]), axis=1)
    second = np.abs(np.asarray(params["W3"])[:, 0])
    return np.argsort(-first, kind="stable")[:count], np.argsort(-second, kind="stable")[:count]


def unit_scale(values: list[np.ndarray]) -> tuple[float, float]:
    """One colour scale for every unit's map, so a colour means the same output in every panel and
    at both epochs: a sigmoid's 0..1 when every finite value lies in it (or none is finite, as in a
    diverged run), else the finite values' range."""
    finite = np.concatenate([v[np.isfinite(v)] for v in values])
    if finite.size == 0 or (finite.min() >= 0 and finite.max() <= 1):
        return 0.0, 1.0
    return float(finite.min()), float(finite.max())


def hidden_units_figure(
    recording: Recording, config: TrainConfig, dataset: Dataset, title: str, units: int = UNITS_SHOWN
) -> Figure:
    """Each shown hidden unit's output over the input plane, in four blocks of small maps: layer 1
    (each unit a soft half-plane, σ of a line) and layer 2 (compositions of those), at the first
    and the last snapshot. For a wide layer the ``units`` units with the largest outgoing weights
    at the end are shown, the same units in both snapshots, ranked strongest first. Dense model
    only: the convolution's layer 2 is channels of features, not units with a weight row each."""
    if config.model != "dense":
        raise ValueError("the hidden units' figure needs the dense model")
    units = validation.whole_number("units", units)
    first, last = recording.at(0), recording.at(len(recording.epochs) - 1)
    shown = strongest_units(last, units)
    grid = jnp.asarray(boundary_inputs(UNIT_POINTS), config.dtype)
    maps = {}  # (layer, snapshot) → (points², units) outputs of the shown units
    for when, params in (("first", first), ("last", last)):
        cache = forward_layers(params, grid, config.network)
        maps[1, when] = np.asarray(cache.z1)[:, shown[0]]
        maps[2, when] = np.asarray(cache.z2)[:, shown[1]]
    low, high = unit_scale(list(maps.values()))
    axis = boundary_axis(UNIT_POINTS)
    columns = math.ceil(math.sqrt(len(shown[0])))
    fig = Figure(figsize=(12, 12.8), layout="constrained")
    blocks = fig.subfigures(2, 2, hspace=0.03, wspace=0.03)
    for (layer, when), values in maps.items():
        block = blocks[layer - 1, 0 if when == "first" else 1]
        epoch = recording.epochs[0 if when == "first" else -1]
        units_of_layer = shown[layer - 1]
        rows = math.ceil(len(units_of_layer) / columns)
        axes = np.atleast_1d(block.subplots(rows, columns, sharex=True, sharey=True)).ravel()
        for ax, column, unit in zip(axes, values.T, units_of_layer, strict=False):
            image = ax.pcolormesh(
                axis, axis, column.reshape(UNIT_POINTS, UNIT_POINTS), cmap="viridis", vmin=low, vmax=high
            )
            # ringed in white: a blue point on viridis's dark end would vanish in a black ring
            draw_labelled_points(ax, dataset.x, dataset.y, size=9, edgecolor="white")
            ax.set_title(f"unit {unit}", fontsize="small")
            ax.set(xticks=[], yticks=[], aspect="equal")
        for ax in axes[len(units_of_layer) :]:
            ax.set_axis_off()
        block.suptitle(f"layer {layer} (z{layer}), epoch {epoch}")
        block.colorbar(image, ax=axes.tolist(), shrink=0.6, label=f"unit output z{layer}")
    (first_shown, second_shown), (h1, h2) = shown, config.hidden
    fig.suptitle(
        f"{title}\nlayer 1: the {len(first_shown)} of {h1} units with the largest outgoing weights "
        f"(rows of W2) at the end\nlayer 2: the {len(second_shown)} of {h2} units with the largest |W3| "
        "at the end; strongest first, the same units at both epochs"
    )
    return fig


def record_seed(
    config: TrainConfig, hparams: HParams, dataset: Dataset, seed: int, grad_fn: GradFn | None = None
) -> Recording:
    """Seed ``seed``'s run on ``dataset`` recorded: the same key, hence the same run, as that
    seed's in a ``train_many`` batch (:func:`twolayer_jax.many_runs.seed_keys`); ``grad_fn`` as in
    :func:`record_run`."""
    return record_run(config, seed_keys(seed, 1)[0], hparams, dataset.x, dataset.y, grad_fn=grad_fn)


def save_learning_files(
    recording: Recording, config: TrainConfig, dataset: Dataset, title: str, folder: Path
) -> dict[str, str]:
    """``<dataset>_learning.gif`` (every snapshot) and ``<dataset>_learning.png`` (the last) in
    ``folder``; their file names by key."""
    files = {
        "learning_animation": f"{dataset.name}_learning.gif",
        "learning_still": f"{dataset.name}_learning.png",
    }
    save_learning_gif(recording, config, dataset, title, folder / files["learning_animation"])
    save_learning_still(recording, config, dataset, title, folder / files["learning_still"])
    return files


class Contender(NamedTuple):
    """One column of a side-by-side animation: a name, the run's recording and the config it was
    trained with (its network draws the map; its loss names the curve's axis)."""

    label: str
    recording: Recording
    config: TrainConfig


def column_headline(recording: Recording, frame: int, label: str) -> str:
    epoch = recording.epochs[frame]
    loss, accuracy = recording.loss[epoch], recording.accuracy[epoch]
    if not np.isfinite(loss):
        return f"{label}\ndiverged"
    return f"{label}\nloss {loss:.5f}, accuracy {100 * accuracy:.2f}%"


def side_by_side_headline(contenders: list[Contender], frame: int, title: str) -> str:
    """The title, the frame's epoch, and what marks it on the loss curves: a dot on each, and a
    cross where a run diverged when one did."""
    reference = contenders[0].recording
    epoch, last = reference.epochs[frame], len(reference.loss) - 1
    marks = "the dots on the loss curves"
    if any(diverged_epoch(c.recording.loss) is not None for c in contenders):
        marks += "; ×: the last finite loss of a run that diverged"
    return f"{title}\nepoch {padded(str(epoch), len(str(last)))} of {last} ({marks})"


def side_by_side_figure(
    contenders: list[Contender], outputs: list[np.ndarray], dataset: Dataset, title: str
) -> Animated:
    """Several runs learning at once, one column each: above, the run's output over the plane
    (``outputs[i]``, (snapshots, P, P)) with its 0.5 contour and the points; below, its own loss
    curve (each run's own loss: an MSE and a cross-entropy are not one scale) with a cursor. Every
    run must share the snapshot epochs, so a frame is one epoch for all. Set to snapshot 0 but for
    the boundaries, as :func:`learning_figure`."""
    epochs = {c.recording.epochs for c in contenders}
    if len(epochs) != 1:
        raise ValueError("side-by-side runs must share their snapshot epochs")
    reference = contenders[0].recording
    axis = boundary_axis(outputs[0].shape[-1])
    fig = Figure(figsize=(4.3 * len(contenders), 8.2), layout="constrained")
    axes = fig.subplots(2, len(contenders), squeeze=False, height_ratios=(1.25, 1))
    meshes, points, cursors, dots, headlines, diverged = [], [], [], [], [], []
    for column, (contender, output) in enumerate(zip(contenders, outputs, strict=True)):
        map_ax, loss_ax = axes[:, column]
        meshes.append(draw_map_image(map_ax, axis, output[0]))
        points.append(drawn_points(map_ax, dataset, size=24))
        map_ax.set(xlabel="x[0]", ylabel="x[1]" if column == 0 else None, aspect="equal")
        headlines.append(map_ax.set_title(column_headline(contender.recording, 0, contender.label)))
        note = map_ax.text(0.5, 0.5, "diverged", ha="center", va="center", transform=map_ax.transAxes,
                           bbox={"facecolor": "white", "alpha": 0.9})  # fmt: skip
        diverged.append(note)
        draw_loss_curve(loss_ax, contender.recording.loss)
        loss_ax.set(title=None, ylabel=f"{contender.config.network.loss} loss")
        cursors.append(loss_ax.axvline(0, color="black", lw=1, alpha=0.6))
        dots.extend(loss_ax.plot([0], [contender.recording.loss[0]], "o", color="black", ms=6, clip_on=False))
    fig.colorbar(meshes[0], ax=axes[0, :].tolist(), shrink=0.8, label="network output ŷ (0.5: the boundary)")
    headline = fig.suptitle(side_by_side_headline(contenders, 0, title))
    # settled once, as in learning_figure: a layout re-solved per frame would jitter
    fig.draw_without_rendering()
    fig.set_layout_engine(None)
    boundaries = [None] * len(contenders)

    def show(frame: int) -> None:
        epoch = reference.epochs[frame]
        for column, (contender, output) in enumerate(zip(contenders, outputs, strict=True)):
            meshes[column].set_array(output[frame])
            if boundaries[column] is not None:
                boundaries[column].remove()
            boundaries[column] = draw_boundary(axes[0, column], axis, output[frame])
            diverged[column].set_visible(not np.isfinite(contender.recording.loss[epoch]))
            cursors[column].set_xdata([epoch, epoch])
            dots[column].set_data([epoch], [contender.recording.loss[epoch]])
            headlines[column].set_text(column_headline(contender.recording, frame, contender.label))
        headline.set_text(side_by_side_headline(contenders, frame, title))

    moving = [*meshes, *points, *diverged, *cursors, *dots, *headlines, headline]
    return Animated(fig, show, moving)


def contender_outputs(contenders: list[Contender], points: int) -> list[np.ndarray]:
    return [np.asarray(outputs_over_plane(c.recording.params, c.config.network, points)) for c in contenders]


def save_side_by_side_gif(
    contenders: list[Contender], dataset: Dataset, title: str, path: Path, dpi: int = GIF_DPI
) -> Path:
    """Every shared snapshot as one frame of an animated GIF at ``path`` (:func:`save_gif`)."""
    figure = side_by_side_figure(contenders, contender_outputs(contenders, FRAME_POINTS), dataset, title)
    return save_gif(figure, len(contenders[0].recording.epochs), path, dpi)


def save_side_by_side_still(
    contenders: list[Contender],
    dataset: Dataset,
    title: str,
    path: Path,
    epoch: int | None = None,
    dpi: int = 110,
) -> Path:
    """One frame of :func:`save_side_by_side_gif` as a PNG: the last snapshot at or before
    ``epoch`` (the end when None), on the report's finer grid."""
    frame = frame_index(contenders[0].recording, epoch)
    stills = [c._replace(recording=only_frame(c.recording, frame)) for c in contenders]
    return save_still(
        side_by_side_figure(stills, contender_outputs(stills, STILL_POINTS), dataset, title), path, dpi
    )
