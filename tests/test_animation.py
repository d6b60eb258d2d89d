"""Watching a run learn: the snapshot epochs, snapshots that are a plain run's params, the shown
seed recorded alone ending where the batch ends, the GIF, the still, the hidden units' figure and
``train --animate``. Small runs (64 epochs, a few frames, low dpi) keep it quick."""

import dataclasses
import io
import json

import chex
import jax
import numpy as np
import pytest
from matplotlib import colormaps
from matplotlib.animation import PillowWriter
from matplotlib.collections import QuadMesh
from PIL import Image

from twolayer_jax import animation
from twolayer_jax.animation import (
    frame_index,
    hidden_units_figure,
    record_run,
    record_seed,
    save_learning_gif,
    save_learning_still,
    snapshot_epochs,
    strongest_units,
)
from twolayer_jax.cli import run_cli
from twolayer_jax.config import TrainConfig
from twolayer_jax.data import xor_easy
from twolayer_jax.many_runs import seed_keys, train_many
from twolayer_jax.network import Network
from twolayer_jax.one_run import make_train
from twolayer_jax.optimizers import HParams
from twolayer_jax.summary import representative_index, summarise
from twolayer_jax.train import main as train_main

CONFIG = TrainConfig(epochs=64, hidden=(16, 12))
FRAMES = 8
DATASET = xor_easy()
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def recording():
    """One small run's recording, shared by the figure tests. Compiled as conftest compiles the fast
    tests' programs (without most of XLA's optimisations), which a module's fixture, set up before
    that per-test fixture, would otherwise miss."""
    jax.config.update("jax_disable_most_optimizations", True)
    try:
        return record_run(CONFIG, jax.random.key(3), HParams(), DATASET.x, DATASET.y, FRAMES)
    finally:
        jax.config.update("jax_disable_most_optimizations", False)


@pytest.mark.parametrize("epochs", [64, 5000, 2**31 - 1])
def test_snapshot_epochs_are_log_spaced_distinct_and_run_from_0_to_the_last_epoch(epochs):
    chosen = np.array(snapshot_epochs(epochs, 48))
    assert chosen[0] == 0 and chosen[-1] == epochs
    assert np.all(np.diff(chosen) > 0), "distinct and increasing"
    assert 48 <= len(chosen) <= 50
    assert list(chosen[:4]) == [0, 1, 2, 3], "every epoch at first, where a run changes most"
    # log-spaced: past the first epochs, where rounding rules, each step multiplies by about one ratio
    late = chosen[chosen >= 30]
    ratios = late[1:] / late[:-1]
    assert np.all(np.abs(ratios / np.median(ratios) - 1) < 0.25), ratios


def test_a_short_run_is_snapshot_at_every_epoch():
    assert snapshot_epochs(5, 48) == (0, 1, 2, 3, 4, 5)


def test_a_snapshot_is_the_params_of_a_plain_run_of_that_many_epochs(recording):
    assert recording.epochs == snapshot_epochs(CONFIG.epochs, FRAMES)
    for frame in (3, len(recording.epochs) - 1):  # one inside the run, and the end
        epochs = recording.epochs[frame]
        plain = make_train(dataclasses.replace(CONFIG, epochs=epochs))(
            jax.random.key(3), HParams(), DATASET.x, DATASET.y
        )
        chex.assert_trees_all_close(recording.at(frame), plain.params, rtol=1e-6, atol=1e-7)
    # and the history the loss curve is drawn from is the plain run's
    np.testing.assert_allclose(recording.loss, plain.loss, rtol=1e-6)
    np.testing.assert_allclose(recording.accuracy, plain.accuracy)


def test_the_shown_seed_recorded_alone_ends_where_the_batch_run_ends():
    """What ``train --animate`` draws is the run ``train`` reports: the shown seed of a batch,
    trained again from its own key, reaches the batch's final loss to float32 rounding."""
    config = TrainConfig(epochs=64)
    batch = train_many(config, seed_keys(5, 3), HParams(), DATASET.x, DATASET.y)
    runs = summarise([5, 6, 7], batch)
    shown = representative_index(runs)
    alone = record_seed(config, HParams(), DATASET, runs[shown].seed)
    np.testing.assert_allclose(alone.loss[-1], np.asarray(batch.loss)[shown, -1], rtol=1e-5)
    np.testing.assert_allclose(alone.loss, np.asarray(batch.loss)[shown], rtol=1e-5)


def test_an_optimizer_with_state_is_refused():
    with pytest.raises(ValueError, match="adam keeps one"):
        record_run(dataclasses.replace(CONFIG, optimizer="adam"), jax.random.key(0), HParams(lr=0.01),
                   DATASET.x, DATASET.y, FRAMES)  # fmt: skip


class CountingPillowWriter(animation.OnePaletteWriter):
    frames = 0

    def grab_frame(self, **savefig_kwargs):
        CountingPillowWriter.frames += 1
        super().grab_frame(**savefig_kwargs)


def test_the_gif_has_a_frame_per_snapshot_written_by_the_pillow_writer(recording, tmp_path, monkeypatch):
    assert issubclass(animation.OnePaletteWriter, PillowWriter)
    monkeypatch.setattr(animation, "OnePaletteWriter", CountingPillowWriter)
    monkeypatch.setattr(CountingPillowWriter, "frames", 0)
    path = save_learning_gif(recording, CONFIG, DATASET, "xor_easy, seed 3", tmp_path / "a.gif", dpi=30)
    assert CountingPillowWriter.frames == len(recording.epochs) + animation.FRAMES_PER_SECOND
    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.is_animated and gif.n_frames > 1
        assert gif.size == (300, 132)  # the figure's 10 x 4.4 inches at 30 dpi
        first = np.asarray(gif.convert("RGB")).astype(int)
        gif.seek(gif.n_frames - 1)
        last = np.asarray(gif.convert("RGB")).astype(int)
    # the frames move (this short run's map changes by a few of 255 levels: the cursor and the
    # numbers move most), and the last is the last snapshot drawn whole, to the palette's few levels
    assert np.mean(np.any(first != last, axis=-1)) > 0.02
    points = animation.FRAME_POINTS
    outputs = np.asarray(animation.outputs_over_plane(recording.params, CONFIG.network, points))
    whole = animation.learning_figure(recording, outputs, DATASET, "xor_easy, seed 3")
    whole.show(len(recording.epochs) - 1)
    error = np.abs(last - frame_pixels(whole.fig)[..., :3])
    assert error.mean() < 3 and np.percentile(error.max(axis=-1), 99) < 12, "as drawn, in one palette"


def test_the_still_is_a_png_of_the_chosen_epoch(recording, tmp_path):
    path = save_learning_still(recording, CONFIG, DATASET, "xor_easy, seed 3", tmp_path / "s.png", dpi=30)
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    with Image.open(path) as still:
        assert still.size == (300, 132)
    assert frame_index(recording, None) == len(recording.epochs) - 1
    chosen = frame_index(recording, 20)  # the last snapshot at or before epoch 20
    assert recording.epochs[chosen] <= 20 < recording.epochs[chosen + 1]
    still = animation.only_frame(recording, chosen)
    fig = animation.learning_figure(still, np.zeros((1, 3, 3)), DATASET, "xor_easy, seed 3").fig
    assert f"epoch {recording.epochs[chosen]} of 64: loss " in fig._suptitle.get_text()


def frame_pixels(fig, dpi: int = 30) -> np.ndarray:
    """``fig`` saved as a GIF frame is: RGBA at ``dpi``, as ints."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="rgba", dpi=dpi)
    width, height = (fig.get_size_inches() * dpi).astype(int)
    return np.frombuffer(buffer.getbuffer(), np.uint8).reshape(height, width, 4).astype(int)


def test_a_frame_over_the_painted_backdrop_is_the_frame_drawn_whole(recording):
    """What does not move is drawn once, and a frame drawn over it has the whole frame's pixels
    (but for a few where a tick meets a frame line): nothing that moves is left baked in the
    backdrop, nothing static is lost, and the two line up."""
    outputs = np.asarray(animation.outputs_over_plane(recording.params, CONFIG.network, 21))
    whole = animation.learning_figure(recording, outputs, DATASET, "xor_easy, seed 3")
    painted = animation.learning_figure(recording, outputs, DATASET, "xor_easy, seed 3")
    animation.paint_backdrop(painted.fig, painted.moving, 30)
    assert not any(ax.xaxis.get_visible() or ax.yaxis.get_visible() for ax in painted.fig.axes)
    for frame in (len(recording.epochs) - 1, 1):  # the first drawn frame first, then back to an early one
        whole.show(frame)
        painted.show(frame)
        difference = np.abs(frame_pixels(whole.fig) - frame_pixels(painted.fig)).max(axis=-1)
        assert np.mean(difference > 8) < 1e-3, frame
    # and two frames differ by more, so the comparison sees what moves
    whole.show(len(recording.epochs) - 1)
    difference = np.abs(frame_pixels(whole.fig) - frame_pixels(painted.fig)).max(axis=-1)
    assert np.mean(difference > 8) > 5e-3


def test_the_gif_palette_keeps_a_pale_map_s_tint():
    """Median cut alone turns the few pixels of a map near 0.5 to the nearest grey; the palette's
    steps of the colour map keep them tinted, near their true colour."""
    colormap = colormaps["RdBu"]
    sample = Image.new("RGBA", (40, 40), "white")
    palette = animation.gif_palette(sample, colormap)
    for value in (0.45, 0.55, 0.1, 0.9):
        true = np.rint(255 * np.array(colormap(value)[:3])).astype(int)
        pale = Image.new("RGB", (4, 4), tuple(true.tolist()))
        shown = np.asarray(pale.quantize(palette=palette, dither=Image.Dither.NONE).convert("RGB"))[0, 0]
        assert np.abs(shown.astype(int) - true).max() <= 6, (value, shown, true)
        assert (shown[0] > shown[2]) == (true[0] > true[2]), "red stays red, blue stays blue"


def test_a_diverged_run_animates_and_says_so(tmp_path):
    linear_network = Network("identity", "identity")  # without sigmoids to saturate, lr 1 overflows
    config = TrainConfig(epochs=40, hidden=(4, 4), network=linear_network)
    diverged = record_run(config, jax.random.key(0), HParams(), DATASET.x, DATASET.y, FRAMES)
    assert not np.isfinite(diverged.loss[-1])
    outputs = np.asarray(animation.outputs_over_plane(diverged.params, config.network, 11))
    fig, show, _ = animation.learning_figure(diverged, outputs, DATASET, "diverging")
    show(len(diverged.epochs) - 1)
    assert "diverged" in fig._suptitle.get_text()
    save_learning_still(diverged, config, DATASET, "diverging", tmp_path / "d.png", dpi=20)
    # the loss panel ends soon after the divergence and marks it, instead of running on empty
    at = int(np.flatnonzero(~np.isfinite(diverged.loss))[0])
    loss_ax = fig.axes[1]
    assert loss_ax.get_xlim()[1] == max(10, 3 * at) < config.epochs
    assert [t.get_text().splitlines()[0] for t in loss_ax.texts] == [f"diverged at epoch {at}"]
    crosses = [line for line in loss_ax.get_lines() if line.get_marker() == "x"]
    assert len(crosses) == 1 and list(crosses[0].get_xdata()) == [at - 1]


def test_the_headline_is_in_the_figures_font_and_keeps_its_width_as_the_numbers_change(recording):
    """Figure spaces pad the epoch, and the default font's digits are all one width, so a centred
    headline does not shift from frame to frame without a monospace font of its own."""
    from matplotlib import rcParams
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    outputs = np.zeros((len(recording.epochs), 3, 3))
    fig, show, _ = animation.learning_figure(recording, outputs, DATASET, "xor_easy, seed 3")
    headline = fig._suptitle
    assert headline.get_fontfamily() == rcParams["font.family"]
    renderer = FigureCanvasAgg(fig).get_renderer()
    widths = []
    for frame in (1, len(recording.epochs) - 1):  # epoch 1 and epoch 64, accuracy below and at 100 %
        show(frame)
        widths.append(headline.get_window_extent(renderer).width)
    assert abs(widths[0] - widths[1]) < 0.5, widths


def test_the_colour_bar_names_the_network_output_y_hat(recording):
    outputs = np.zeros((len(recording.epochs), 3, 3))
    fig = animation.learning_figure(recording, outputs, DATASET, "t").fig
    assert [ax.get_ylabel() for ax in fig.axes if ax.get_label() == "<colorbar>"] == [
        "network output ŷ (0.5: the boundary)"
    ]


def test_the_hidden_units_figure_has_a_map_per_shown_unit_layer_and_epoch(recording):
    fig = hidden_units_figure(recording, CONFIG, DATASET, "xor_easy, seed 3", units=14)
    maps = [ax for ax in fig.get_axes() if ax.get_title().startswith("unit ")]
    assert all(any(isinstance(c, QuadMesh) for c in ax.collections) for ax in maps)
    assert len(maps) == 2 * (14 + 12), "14 of 16 layer-1 units and all 12 layer-2 units, at 2 epochs"
    headline = fig._suptitle.get_text()
    assert "layer 1: the 14 of 16 units" in headline and "layer 2: the 12 of 12 units" in headline
    first, second = strongest_units(recording.at(len(recording.epochs) - 1), 14)
    row_lengths = np.linalg.norm(np.asarray(recording.at(-1)["W2"]), axis=1)
    assert set(first) == set(np.argsort(row_lengths)[-14:])
    assert [f"unit {unit}" for unit in first] == [ax.get_title() for ax in maps[:14]]
    assert len(second) == 12
    # ringed in white: on the colour map's dark end a blue point in a black ring would vanish
    for ax in maps:
        (points,) = [c for c in ax.collections if not isinstance(c, QuadMesh)]
        assert np.allclose(points.get_edgecolor(), [1, 1, 1, 1])


def train(capsys, *argv):
    code = run_cli(train_main, list(argv), "train")
    return code, capsys.readouterr()


def test_train_animate_writes_the_gif_and_the_still_and_without_it_neither(capsys, tmp_path):
    small = ("--dataset", "xor_easy", "--epochs", "4", "--hidden", "6", "--no-progress")
    code, _ = train(capsys, *small, "--out", str(tmp_path / "plain"))
    assert code == 0 and not list((tmp_path / "plain").glob("*_learning.*"))
    code, _ = train(capsys, *small, "--animate", "--out", str(tmp_path / "animated"))
    assert code == 0
    files = json.loads((tmp_path / "animated" / "metrics.json").read_text())["results"]["xor_easy"]["files"]
    assert files["learning_animation"] == "xor_easy_learning.gif"
    assert files["learning_still"] == "xor_easy_learning.png"
    with Image.open(tmp_path / "animated" / "xor_easy_learning.gif") as gif:
        assert gif.n_frames == 5  # epochs 0..4, each a frame
    assert (tmp_path / "animated" / "xor_easy_learning.png").read_bytes().startswith(PNG_SIGNATURE)


def test_train_animate_refuses_an_optimizer_with_state(capsys, tmp_path):
    small = ("--dataset", "xor_easy", "--epochs", "8", "--hidden", "6")
    code, captured = train(capsys, *small, "--optimizer", "adam", "--animate", "--out", str(tmp_path))
    assert code == 2 and "--animate: a recording needs an optimizer without state" in captured.err
    assert not list(tmp_path.glob("*.png"))
