"""``python -m twolayer_jax.gradcheck``: passes the real backward pass, fails a planted one at the
right term, and refuses a bad ``--backward`` with exit code 2."""

import re

import numpy as np
import pytest

from twolayer_jax.activations import ACTIVATIONS
from twolayer_jax.checks.comparison import relative_error
from twolayer_jax.checks.gradcheck import main
from twolayer_jax.cli import run_cli
from twolayer_jax.losses import LOSSES

# A learner's backward pass with the lab's classic mistake in the hidden layer: σ' of x2, the
# pre-activation, through the helper that expects the sigmoid's output.
PLANTED = """
from manual import Deltas
from twolayer_jax.model import forward_layers
from twolayer_jax.network import Network


def derivative_sigmoid(z):
    return z * (1 - z)


def backward(params, x, y, activation, output_activation, loss):
    c = forward_layers(params, x, Network(activation, output_activation, loss))
    delta3 = 2 * (c.y - y) / y.shape[0] * derivative_sigmoid(c.y)
    delta2 = delta3 @ params["W3"].T * derivative_sigmoid(c.x2)
    delta1 = delta2 @ params["W2"].T * derivative_sigmoid(c.z1)
    grads = {"W3": c.z2.T @ delta3, "b3": delta3.sum(0), "W2": c.z1.T @ delta2, "b2": delta2.sum(0),
             "W1": x.T @ delta1, "b1": delta1.sum(0)}
    return grads, Deltas(delta1, delta2, delta3)
"""


def gradcheck(capsys, *argv):
    code = run_cli(main, list(argv), "gradcheck")
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def table(out, network):
    """The rows of one network's table, term → row text."""
    block = out.split(f"hidden {network[0]}, output {network[1]}, loss {network[2]}\n")[1].split("\n\n")[0]
    return {line.split()[0]: line for line in block.splitlines()[1:]}


@pytest.mark.slow  # a whole run: make test-slow (CI)
def test_the_real_backward_pass_passes_every_row(capsys):
    code, out, _ = gradcheck(capsys, "--problems", "1")
    assert code == 0 and out.rstrip().endswith("all terms pass")
    rows = table(out, ("sigmoid", "sigmoid", "mse"))
    assert list(rows) == ["∂W3", "∂b3", "∂W2", "∂b2", "∂W1", "∂b1", "δ3", "δ2", "δ1"]
    for row in rows.values():
        errors = [float(e) for e in re.findall(r"\d\.\de[-+]\d\d", row)]
        assert row.endswith(" ok") and errors and max(errors) < 1e-6
    networks = re.findall(r"^hidden (\S+), output (\S+), loss (\S+)$", out, re.M)
    hidden = {spec for n in networks for spec in n[0].split(",")}
    assert hidden == set(ACTIVATIONS) == {n[1] for n in networks}  # every activation, both places
    assert {n[2] for n in networks} == set(LOSSES)  # and every loss


def test_float32_mode_shows_the_float32_error_level(capsys):
    code, out, _ = gradcheck(
        capsys,
        "--dtype",
        "float32",
        "--problems",
        "1",
        "--network",
        "sigmoid/sigmoid/mse",
        "--network",
        "relu/sigmoid/bce",
    )
    assert code == 0
    row = table(out, ("sigmoid", "sigmoid", "mse"))["∂W1"]
    assert 1e-6 < max(float(e) for e in re.findall(r"\d\.\de[-+]\d\d", row)) < 1e-1


def test_a_planted_mistake_fails_with_exit_1_at_the_term_it_breaks(capsys, tmp_path):
    planted = tmp_path / "planted_backward.py"
    planted.write_text(PLANTED)
    code, out, _ = gradcheck(
        capsys, "--problems", "1", "--backward", f"{planted}:backward", "--network", "sigmoid/sigmoid/mse",
        "--network", "conv/sigmoid/sigmoid/mse",
    )  # fmt: skip
    assert code == 1 and out.rstrip().endswith("SOME TERMS ARE WRONG")
    rows = table(out, ("sigmoid", "sigmoid", "mse"))
    for right in ("∂W3", "∂b3", "δ3"):
        assert rows[right].endswith(" ok"), rows[right]
    for wrong in ("δ2", "∂W2", "∂b2", "δ1", "∂W1", "∂b1"):
        assert rows[wrong].endswith("WRONG"), rows[wrong]


def test_networks_can_be_chosen_and_bad_ones_are_refused(capsys):
    code, out, _ = gradcheck(capsys, "--problems", "1", "--network", "conv/tanh/sigmoid/bce")
    assert code == 0 and re.findall(r"^(conv model: )?hidden .*$", out, re.M) == ["conv model: "]
    code, _, err = gradcheck(capsys, "--network", "relu/identity/bce")
    assert code == 2 and "loss 'bce' needs a sigmoid output" in err and err.count("\n") == 1
    code, _, err = gradcheck(capsys, "--network", "relu/sigmoid")
    assert code == 2 and "want HIDDEN/OUTPUT/LOSS" in err


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("no_colon_here", "--backward wants MODULE:FUNCTION"),
        ("no_such_module_xyz:backward", "loading it raised ModuleNotFoundError"),
        ("manual:no_such_function", "it defines no function 'no_such_function'"),
        ("missing_file.py:backward", "no file 'missing_file.py'"),
    ],
)
def test_a_bad_backward_is_one_line_and_exit_2(capsys, spec, message):
    code, out, err = gradcheck(capsys, "--backward", spec)
    assert code == 2 and err.count("\n") == 1 and message in err and out == ""


def test_relative_error_is_scaled_floored_and_infinite_for_a_wrong_shape():
    reference = np.array([3.0, 4.0])
    assert relative_error(reference * 1.01, reference) == pytest.approx(0.01 / 1.01)
    assert relative_error(np.zeros(2), np.zeros(2)) == 0.0
    # a zero gradient against rounding noise: the floor keeps the error small, not 1
    assert relative_error(np.zeros(2), np.array([1e-9, 0.0]), floor=1e-3) == pytest.approx(1e-6)
    assert relative_error(reference, reference[:, None]) == float("inf")
    assert relative_error(reference.reshape(1, 2), reference.reshape(2, 1)) == float("inf")
