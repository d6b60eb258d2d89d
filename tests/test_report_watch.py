"""The report's "Watch it learn" section: the handout's mistake trained is the checker's mistake and
the checker names it, the cross-entropy run trains on cross-entropy, the section's files are what
its record says (the GIFs real animations), and its text quotes the record's numbers only. A
few epochs of small networks keep it quick."""

import json

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from PIL import Image
from test_report import numeric_leaves, quoted_numbers, renderings

from manual import backward_with_deltas
from twolayer_jax import animation
from twolayer_jax.animation import Contender, record_seed
from twolayer_jax.checks.check import make_problems
from twolayer_jax.checks.diagnosis import Mistake, lab_backward
from twolayer_jax.checks.terms import PARAM_KEYS
from twolayer_jax.config import TrainConfig
from twolayer_jax.data import XOR_EASY, linear, xor_easy
from twolayer_jax.gradients import network_loss
from twolayer_jax.model import forward_layers
from twolayer_jax.network import LAB_NETWORK
from twolayer_jax.optimizers import HParams
from twolayer_jax.report import watch
from twolayer_jax.report.text import watch_it_learn
from twolayer_jax.report.watch import (
    compared_runs,
    diagnosis,
    handout_mistake,
    mistaken_backward,
    mistaken_gradient,
    watch_files,
    watch_section,
)

EPOCHS = 6  # every epoch a frame: 7 frames and the held last one
CONFIG = TrainConfig(epochs=EPOCHS, hidden=(16, 12))
SEEDS = {"linear": 2, XOR_EASY: 3}
DATASETS = [linear(jax.random.key(0)), xor_easy()]


@pytest.fixture(scope="module")
def section(tmp_path_factory):
    """The section written once, compiled as conftest compiles the fast tests' programs."""
    out = tmp_path_factory.mktemp("watch")
    jax.config.update("jax_disable_most_optimizations", True)
    try:
        record = watch_section(DATASETS, CONFIG, SEEDS, out)
    finally:
        jax.config.update("jax_disable_most_optimizations", False)
    return out, json.loads(json.dumps(record))  # as results.json holds it


def problem_params(problem: dict) -> dict:
    return {key: problem[key] for key in PARAM_KEYS}


def test_without_a_mistake_the_pass_is_the_lab_s_hand_written_backward():
    problem = make_problems(0)[5]  # the lab's widths
    params, x, y = problem_params(problem), problem["x"], problem["y"]
    grads, deltas = mistaken_backward(
        params, forward_layers(params, x, LAB_NETWORK), y, LAB_NETWORK, Mistake()
    )
    chex.assert_trees_all_close((grads, deltas), backward_with_deltas(params, x, y), rtol=1e-12)


def test_the_mistake_trained_is_the_one_the_checker_models_and_it_changes_every_term():
    """The JAX pass with the checker's switches equals the checker's own NumPy model of the
    mistake, term by term, and is far from the right pass."""
    mistake = handout_mistake().mistake
    for problem in make_problems(0)[:4]:
        params, x, y = problem_params(problem), problem["x"], problem["y"]
        cache = forward_layers(params, x, LAB_NETWORK)
        grads, deltas = mistaken_backward(params, cache, y, LAB_NETWORK, mistake)
        ours = grads | deltas._asdict()
        modelled = lab_backward(params, x, y, LAB_NETWORK, mistake)
        right = lab_backward(params, x, y, LAB_NETWORK, Mistake())
        for term, value in modelled.items():
            np.testing.assert_allclose(ours[term], value, rtol=1e-10, atol=1e-14, err_msg=term)
            assert not np.allclose(ours[term], right[term]), term


def test_a_switch_the_training_pass_does_not_model_is_refused():
    problem = make_problems(0)[0]
    params = problem_params(problem)
    cache = forward_layers(params, problem["x"], LAB_NETWORK)
    with pytest.raises(ValueError, match="only the σ'-of-the-pre-activation switch"):
        mistaken_backward(params, cache, problem["y"], LAB_NETWORK, Mistake(derivative_twice=(1,)))


def test_the_checker_grades_the_mistake_wrong_and_names_it():
    verdict = diagnosis(LAB_NETWORK, handout_mistake().mistake)
    assert verdict["verdict"] == "wrong" and verdict["named"] == [watch.HANDOUT_MISTAKE]
    assert verdict["hints"] == [handout_mistake().hint]
    assert verdict["where"].startswith("δ3 is wrong")
    assert any(line.startswith("hint: σ' was applied to the pre-activations") for line in verdict["printout"])


def test_the_checker_grades_the_pass_without_the_mistake_right():
    verdict = diagnosis(LAB_NETWORK, Mistake())
    assert verdict["verdict"] == "right" and not verdict["hints"] and not verdict["named"]


def test_the_three_runs_start_alike_and_train_on_their_own_loss_and_gradient():
    """One start for all three; the cross-entropy run's history is the cross-entropy of its params
    and the mistake's first step is not the lab's."""
    dataset = xor_easy()
    lab = record_seed(CONFIG, HParams(), dataset, 3)
    mse, bce, mistake = compared_runs(CONFIG, dataset, 3, lab)
    assert (
        bce.config.network.loss == "bce" and mse.config.network.loss == mistake.config.network.loss == "mse"
    )
    initial = lab.at(0)
    for run in (bce, mistake):
        chex.assert_trees_all_equal(run.recording.at(0), initial)
    x, y = jnp.asarray(dataset.x, CONFIG.dtype), jnp.asarray(dataset.y, CONFIG.dtype)
    for frame in (0, 3):
        params, epoch = bce.recording.at(frame), bce.recording.epochs[frame]
        np.testing.assert_allclose(
            bce.recording.loss[epoch], network_loss(bce.config.network)(params, x, y), rtol=1e-5
        )
    assert abs(bce.recording.loss[0] - mse.recording.loss[0]) > 0.1  # ≈ 0.69 against ≈ 0.25
    assert not np.allclose(mistake.recording.loss[1:3], mse.recording.loss[1:3])


def test_a_recording_trains_on_the_gradient_it_is_given():
    dataset = xor_easy()
    right = record_seed(CONFIG, HParams(), dataset, 3)
    wrong = record_seed(
        CONFIG, HParams(), dataset, 3, mistaken_gradient(LAB_NETWORK, handout_mistake().mistake)
    )
    chex.assert_trees_all_equal(wrong.at(0), right.at(0))
    assert not np.allclose(np.asarray(wrong.at(1)["W1"]), np.asarray(right.at(1)["W1"]))


def test_the_record_names_every_file_and_the_gifs_are_animations(section):
    out, record = section
    files = watch_files(record)
    assert set(files.values()) == {p.name for p in out.iterdir()}
    assert sum(f.endswith(".gif") for f in files.values()) == 3
    frames = EPOCHS + 1  # one per epoch (Pillow folds the held copies of the last into one longer frame)
    for file in files.values():
        if file.endswith(".gif"):
            with Image.open(out / file) as gif:
                assert gif.format == "GIF" and gif.is_animated and gif.n_frames == frames, file
        else:
            with Image.open(out / file) as png:
                assert png.format == "PNG" and min(png.size) > 300, file
    assert record["epochs"] == EPOCHS and set(record["datasets"]) == set(SEEDS)
    assert {name: r["seed"] for name, r in record["datasets"].items()} == SEEDS
    assert record["comparison"]["dataset"] == XOR_EASY and record["comparison"]["seed"] == SEEDS[XOR_EASY]
    assert record["datasets"]["linear"]["units_shown"] == [16, 12]


def test_the_record_holds_the_runs_outcomes_and_the_diagnosis(section):
    _, record = section
    runs = record["comparison"]["runs"]
    assert [runs[k]["loss"] for k in watch.COMPARED_KEYS] == ["mse", "bce", "mse"]
    assert list(runs) == list(watch.COMPARED_KEYS)
    # the lab's run in the comparison is the shown seed's recording, not a second one
    outcome = {k: v for k, v in runs["lab"].items() if k not in ("label", "loss")}
    assert outcome == record["datasets"][XOR_EASY]["run"]
    assert runs["cross_entropy"]["final_loss"] != runs["lab"]["final_loss"]
    assert record["diagnosis"]["mistake"] == watch.HANDOUT_MISTAKE
    assert record["diagnosis"]["named"] == [watch.HANDOUT_MISTAKE]


def results_of(record: dict) -> dict:
    return {"watch": record, "settings": {"hidden": list(CONFIG.hidden), "threshold": 0.5}}


def test_every_number_in_the_section_is_in_the_record(section):
    _, record = section
    results = results_of(record)
    text = "\n".join(watch_it_learn(results))
    known = set().union(*(renderings(v) for v in numeric_leaves(results)))
    quoted = quoted_numbers(text)
    assert len(quoted) > 40
    assert not sorted({n for n in quoted if n not in known})
    planted = text.replace("watching it learn\n", "watching it learn\n\nIt takes 4321 epochs.\n")
    assert [n for n in quoted_numbers(planted) if n not in known] == ["4321"]


def test_the_section_reads_its_sentences_off_the_record(section):
    """Each still links to its GIF; the outcome sentences change when the record does."""
    _, record = section
    text = "\n".join(watch_it_learn(results_of(record)))
    for files in [r["files"] for r in record["datasets"].values()]:
        assert "[![" in text and f"]({files['learning_still']})]({files['learning_animation']})" in text
    assert (
        f"]({record['comparison']['files']['still']})]({record['comparison']['files']['animation']})" in text
    )
    assert "### Anything else worth showing: watching it learn" in text and "```text" in text
    settled = json.loads(json.dumps(record))
    runs = settled["comparison"]["runs"]
    runs["lab"] |= {"settled_at_100": 812, "diverged_at": None, "final_loss": 0.0042}
    runs["cross_entropy"] |= {"settled_at_100": 377, "diverged_at": None, "final_loss": 0.0071}
    runs["mistake"] |= {"diverged_at": 9, "settled_at_100": None}
    text = "\n".join(watch_it_learn(results_of(settled)))
    assert "On this one seed cross-entropy gets there sooner: epoch 377 against 812 with MSE" in text
    assert "it diverges at epoch 9" in text


def test_a_diverged_column_says_so_on_its_map_and_in_its_headline():
    """Only the column whose loss is no longer finite at the frame's epoch is marked diverged."""
    dataset = xor_easy()
    lab = record_seed(CONFIG, HParams(), dataset, 3)
    loss = lab.loss.copy()
    loss[3:] = np.nan  # diverged at epoch 3
    blown = lab._replace(loss=loss)
    contenders = [Contender("a", lab, CONFIG), Contender("b", blown, CONFIG)]
    outputs = [np.zeros((len(lab.epochs), 3, 3))] * 2
    fig, show, _ = animation.side_by_side_figure(contenders, outputs, dataset, "t")
    notes = [t for ax in fig.axes for t in ax.texts if t.get_text() == "diverged"]
    for frame, expected in ((2, [False, False]), (len(lab.epochs) - 1, [False, True])):
        show(frame)
        assert [note.get_visible() for note in notes] == expected
        titles = [ax.get_title() for ax in fig.axes[:2]]  # the maps (the first row), their headlines
        assert [title.endswith("diverged") for title in titles] == expected
    # its loss panel ends soon after epoch 3, with a cross where its loss was last finite; the
    # headline names the dots and the cross, both drawn
    loss_axes = [ax for ax in fig.axes if ax.get_ylabel().endswith("loss")]
    assert [ax.get_xlim()[1] for ax in loss_axes] == [1.3 * CONFIG.epochs, 10]
    assert [t.get_text().splitlines()[0] for t in loss_axes[1].texts] == ["diverged at epoch 3"]
    assert "the dots on the loss curves; ×:" in fig._suptitle.get_text()
    fig, _, _ = animation.side_by_side_figure(contenders[:1], outputs[:1], dataset, "t")
    assert "×" not in fig._suptitle.get_text() and "the dots on the loss curves" in fig._suptitle.get_text()
