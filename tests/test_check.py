"""``python -m twolayer_jax.check``: a mutation suite of learners' NumPy backward passes (each
planted mistake rejected, localised to the right tensor, and the recognisable ones named), the
broken-contract cases (exit 1, the tensor named) and the ungradeable ones (exit 2, one-line
reason), and grading many submissions. Hostile submissions: ``test_check_hostile.py``."""

import argparse
import json
import re

import jax
import numpy as np
import pytest

from benchmarks.checker import CORRECT, EPS_IN_THE_LOGS
from twolayer_jax.checks import check
from twolayer_jax.checks.sandbox import choose_isolation
from twolayer_jax.checks.terms import SYMBOLS
from twolayer_jax.cli import run_cli
from twolayer_jax.network import LAB_NETWORK

# A right NumPy backward pass, written the way a student writes it; each mutant below changes
# one or more of its lines.

WITH_DELTAS = [
    ("    return grads", '    return grads | {"delta1": delta1, "delta2": delta2, "delta3": delta3}')
]

# name → (line replacements, first wrong term, hypothesis that must be named or None, exit code)
MUTANTS = {
    "sigma_prime_of_pre_activation_everywhere": (
        [("derivative_sigmoid(out)", "derivative_sigmoid(x3)"), ("derivative_sigmoid(z2)", "derivative_sigmoid(x2)"),
         ("derivative_sigmoid(z1)", "derivative_sigmoid(x1)")], "W3", "pre_activation_everywhere", 1),
    "sigma_prime_of_pre_activation_hidden": (
        [("derivative_sigmoid(z2)", "derivative_sigmoid(x2)"), ("derivative_sigmoid(z1)", "derivative_sigmoid(x1)")],
        "W2", "pre_activation_hidden", 1),
    "sigma_prime_of_pre_activation_output": (
        [("derivative_sigmoid(out)", "derivative_sigmoid(x3)")], "W3", "pre_activation_output", 1),
    "sigma_prime_twice": (
        [("derivative_sigmoid(out)", "derivative_sigmoid(out) * derivative_sigmoid(out)"),
         ("derivative_sigmoid(z2)", "derivative_sigmoid(z2) * derivative_sigmoid(z2)"),
         ("derivative_sigmoid(z1)", "derivative_sigmoid(z1) * derivative_sigmoid(z1)")], "W3", "derivative_twice", 1),
    "output_sigma_prime_forgotten": (
        [("delta3 = dL_dout * derivative_sigmoid(out)", "delta3 = dL_dout")], "W3", "output_derivative_forgotten", 1),
    "two_over_n_dropped": ([("2 / n * (out - y)", "(out - y)")], "W3", "two_over_n_dropped", 1),
    "one_over_n_dropped": ([("2 / n * (out - y)", "2 * (out - y)")], "W3", "one_over_n_dropped", 1),
    "factor_two_dropped": ([("2 / n * (out - y)", "(out - y) / n")], "W3", "factor_two_dropped", 1),
    "two_over_n_doubled": ([("2 / n * (out - y)", "4 / n * (out - y)")], "W3", "two_over_n_doubled", 1),
    "sign_flipped": ([("2 / n * (out - y)", "2 / n * (y - out)")], "W3", "sign_flipped", 1),
    "cross_entropy_gradient": (
        [("2 / n * (out - y)", "(out - y) / (out * (1 - out)) / n")], "W3", "cross_entropy_gradient", 1),
    "bias_not_summed": ([("grad_b2 = delta2.sum(axis=0)", "grad_b2 = delta2")], "b2", "bias_not_summed_2", 1),
    "bias_averaged": ([("grad_b1 = delta1.sum(axis=0)", "grad_b1 = delta1.mean(axis=0)")], "b1", "bias_averaged_1", 1),
    "weight_gradient_in_the_wrong_order": (
        [("grad_W3 = z2.T @ delta3", "grad_W3 = delta3.T @ z2")], "W3", "weight_gradient_transposed_3", 1),
    "weight_gradient_with_another_layers_input": (
        [("grad_W2 = z1.T @ delta2", "grad_W2 = z2.T @ delta2")], "W2", "weight_gradient_of_layer_2_uses_z2", 1),
    "sigma_prime_from_another_layers_cache": (
        [("derivative_sigmoid(z2)", "derivative_sigmoid(z1)")], "W2", "sigma_prime_of_layer_2_uses_z1", 1),
    "delta_sent_back_untransposed": (
        [("(delta2 @ W2.T)", "(delta2 @ W2)")], "W1", "weights_untransposed_1", 1),
    "unrecognised_scaling_of_one_tensor": ([("grad_W1 = x.T @ delta1", "grad_W1 = 0.5 * x.T @ delta1")], "W1", None, 1),
}  # fmt: skip


def mutate(replacements) -> str:
    source = CORRECT
    for old, new in replacements:
        assert old in source, old
        source = source.replace(old, new)
    return source


@pytest.fixture(scope="module")
def graded():
    """The problems and references, made once: ``grade(source_or_target) -> Report``."""
    jax.config.update("jax_enable_x64", True)
    problems = check.make_problems(0)
    references = [check.reference_terms(p, LAB_NETWORK) for p in problems]
    args = argparse.Namespace(timeout=20.0, network=LAB_NETWORK, memory_limit=2048, allow_import=[],
                              contract="backward", convention="row")  # fmt: skip
    isolation = choose_isolation()

    def grade(tmp_path, source: str, name: str = "submission.py"):
        path = tmp_path / name
        path.write_text(source)
        return check.check_target(str(path), problems, references, args, isolation)

    return grade


def test_the_correct_backward_passes_on_every_batch_size_and_width(graded, tmp_path):
    report = graded(tmp_path, CORRECT)
    assert report.exit_code == 0 and report.verdict == "right" and not report.hints
    assert set(report.errors) == {"W1", "b1", "W2", "b2", "W3", "b3"}
    assert max(report.errors.values()) < 1e-12
    shapes = {(n, hidden) for n, hidden in check.PROBLEM_SHAPES}
    assert {1, 21, 100} < {n for n, _ in shapes} and any(h1 != h2 for _, (h1, h2) in shapes)
    assert {(100, 100)} < {hidden for _, hidden in shapes}  # the lab's own sizes


def test_the_correct_backward_passes_with_deltas_and_another_seed(tmp_path):
    (tmp_path / "mine.py").write_text(mutate(WITH_DELTAS))
    assert run_cli(check.main, [str(tmp_path / "mine.py"), "--seed", "7"], "check") == 0


def test_the_reference_manual_backward_passes_where_the_course_allows_its_imports(tmp_path):
    wrapper = tmp_path / "reference.py"
    wrapper.write_text(
        "import jax\nimport numpy as np\nimport manual\n\njax.config.update('jax_enable_x64', True)\n\n\n"
        "def backward(params, x, y):\n"
        "    grads, deltas = manual.backward_with_deltas(params, x, y)\n"
        "    return {k: np.asarray(v) for k, v in (grads | deltas._asdict()).items()}\n"
    )
    allowed = ["--allow-import", "jax", "--allow-import", "twolayer_jax"]
    assert run_cli(check.main, [str(wrapper), *allowed], "check") == 0


@pytest.mark.parametrize("mutant", MUTANTS)
def test_each_planted_mistake_is_rejected_localised_and_named(graded, tmp_path, mutant):
    replacements, first_wrong, hypothesis, exit_code = MUTANTS[mutant]
    report = graded(tmp_path, mutate(replacements))
    assert report.exit_code == exit_code, report.reason
    named = re.search(r"(∂[Wb]\d|δ\d)(?: and \S+)? (?:is|are) wrong", report.localisation).group(1)
    assert named == SYMBOLS[first_wrong], report.localisation
    # the terms before the first wrong one are declared right
    before = check.BACKWARD_ORDER[: check.BACKWARD_ORDER.index(first_wrong)]
    assert all(report.errors[t] <= check.RIGHT for t in before if t in report.errors)
    if hypothesis is None:
        assert report.hints == []
    else:
        expected = next(h.hint for h in check_hypotheses() if h.name == hypothesis)
        assert report.hints == [expected]


# right values in another shape that holds them unambiguously: a bias as a row or a column,
# ∂W3 as a vector; each must be right, with a remark that names the shape
RESHAPED = {
    "biases_as_rows": [("delta1.sum(axis=0)", "delta1.sum(axis=0, keepdims=True)"),
                       ("delta2.sum(axis=0)", "delta2.sum(axis=0, keepdims=True)"),
                       ("delta3.sum(axis=0)", "delta3.sum(axis=0, keepdims=True)")],
    "biases_as_columns": [("grad_b1 = delta1.sum(axis=0)", "grad_b1 = delta1.sum(axis=0)[:, None]"),
                          ("grad_b2 = delta2.sum(axis=0)", "grad_b2 = delta2.sum(axis=0).reshape(-1, 1)")],
    "w3_as_a_vector": [("grad_W3 = z2.T @ delta3", "grad_W3 = (z2.T @ delta3).ravel()")],
}  # fmt: skip


@pytest.mark.parametrize("case", RESHAPED)
def test_right_values_in_an_unambiguous_shape_are_right_with_a_remark(graded, tmp_path, case):
    report = graded(tmp_path, mutate(RESHAPED[case]))
    assert report.exit_code == 0, report.reason
    assert max(report.errors.values()) < 1e-12
    assert report.remarks and all("its values were compared as they are" in r for r in report.remarks)


@pytest.mark.parametrize(
    ("replacements", "first_wrong", "hypothesis"),
    [
        # the bias of every row, not summed: (n, h), tested against the mistake it is
        ([("grad_b1 = delta1.sum(axis=0)", "grad_b1 = delta1")], "b1", "bias_not_summed_1"),
        # a transposed weight gradient is never reshaped into a right one
        ([("grad_W2 = z1.T @ delta2", "grad_W2 = delta2.T @ z1")], "W2", "weight_gradient_transposed_2"),
        ([("grad_W3 = z2.T @ delta3", "grad_W3 = delta3.T @ z2")], "W3", "weight_gradient_transposed_3"),
    ],
)
def test_a_shape_that_is_a_mistake_stays_wrong_and_is_named(
    graded, tmp_path, replacements, first_wrong, hypothesis
):
    report = graded(tmp_path, mutate(replacements))
    assert report.exit_code == 1 and report.reason.startswith(SYMBOLS[first_wrong])
    expected = next(h.hint for h in check_hypotheses() if h.name == hypothesis)
    assert expected in report.hints
    assert not any("compared as they are" in remark for remark in report.remarks)  # no leniency
    # the shape is described on a problem where n > 1 and h1 ≠ h2, so no two sizes read alike
    if "shape" in report.reason:
        n, h1, h2 = map(int, re.search(r"on batch (\d+), widths (\d+)x(\d+)", report.reason).groups())
        assert n > 1 and h1 != h2


def test_a_near_miss_names_the_closest_mistake_and_how_close(graded, tmp_path):
    """Cross-entropy's gradient with the common ε = 1e-4 inside the logs matches no mistake to
    1e-6, but comes far closer to it than to the right answer: the hint says which, and how close."""
    report = graded(tmp_path, mutate([EPS_IN_THE_LOGS]))
    assert report.exit_code == 1 and len(report.hints) == 1
    cross_entropy = next(h.hint for h in check_hypotheses() if h.name == "cross_entropy_gradient")
    agreement, truth = map(
        float, re.search(r"agreeing to (\S+) where the right answer is (\S+) away", report.hints[0]).groups()
    )
    assert report.hints[0].startswith("closest known mistake") and cross_entropy in report.hints[0]
    assert agreement <= 1e-2 and 100 * agreement <= truth


def check_hypotheses():
    from twolayer_jax.checks.diagnosis import HYPOTHESES

    return HYPOTHESES


def test_returned_deltas_pin_the_wrong_term_exactly(graded, tmp_path):
    replacements, *_ = MUTANTS["sigma_prime_of_pre_activation_hidden"]
    report = graded(tmp_path, mutate(replacements + WITH_DELTAS))
    assert report.localisation.startswith(
        "δ3, ∂W3 and ∂b3 are right, δ2 is wrong: the error is in δ2 = (δ3·W3ᵀ)"
    )
    scaled = graded(tmp_path, mutate(MUTANTS["unrecognised_scaling_of_one_tensor"][0] + WITH_DELTAS))
    assert scaled.localisation.endswith("∂b2 and δ1 are right, ∂W1 is wrong: the error is in ∂W1 = xᵀ·δ1")


def test_the_cli_prints_the_table_the_place_and_the_hint(capsys, tmp_path):
    replacements, *_ = MUTANTS["sigma_prime_of_pre_activation_hidden"]
    (tmp_path / "mine.py").write_text(mutate(replacements))
    assert run_cli(check.main, [str(tmp_path / "mine.py")], "check") == 1
    out = capsys.readouterr().out
    assert re.search(r"^∂W3 +\d\.\de-\d\d  right$", out, re.M)
    assert re.search(r"^∂W2 +\d\.\de[+-]\d\d  WRONG$", out, re.M)
    assert (
        "where: ∂W3 and ∂b3 are right, ∂W2 and ∂b2 are wrong: the error is in δ2 = (δ3·W3ᵀ) ⊙ σ'(x2)" in out
    )
    assert "hint: σ' of the hidden layers was applied to the pre-activations" in out
    assert out.rstrip().splitlines()[-1] == "WRONG: ∂W2 is wrong"


# --- a broken contract is gradeable and wrong: exit 1, the tensor named ---------------------------


BROKEN = {
    "missing_keys": (CORRECT.replace('"b3": grad_b3}', "}"), "∂b3 not returned (on 7 of 7 problems)"),
    "wrong_shape": (CORRECT.replace("grad_b3 = delta3.sum(axis=0)", "grad_b3 = delta3.sum()"), "∂b3 has shape ()"),
    "nan": (CORRECT.replace("grad_W1 = x.T @ delta1", "grad_W1 = x.T @ delta1 * np.nan"), "∂W1 contains NaN or inf"),
    "lists": (CORRECT.replace("    return grads", "    return {k: v.tolist() for k, v in grads.items()}"),
              "∂W3 is a list, expected a NumPy array"),
    "complex": (CORRECT.replace("    return grads", "    return {k: v + 0j for k, v in grads.items()}"),
                "∂W3 has dtype complex128"),
    "raises_on_one_problem": (CORRECT.replace("    n = x.shape[0]", "    n = x.shape[0] // (x.shape[0] - 1)"),
                              "it raised ZeroDivisionError on 1 of 7 problems (e.g. batch 1"),
}  # fmt: skip


@pytest.mark.parametrize("case", BROKEN)
def test_a_broken_contract_is_wrong_with_exit_1_naming_the_tensor(capsys, tmp_path, case):
    source, reason = BROKEN[case]
    (tmp_path / "mine.py").write_text(source)
    code = run_cli(check.main, [str(tmp_path / "mine.py")], "check")
    out = capsys.readouterr().out
    assert code == 1, out
    last = out.rstrip().splitlines()[-1]
    assert last.startswith("WRONG: ") and reason in last, last


def test_unexpected_keys_are_named_and_ignored(capsys, tmp_path):
    (tmp_path / "mine.py").write_text(CORRECT.replace('"b3": grad_b3}', '"b3": grad_b3, "W4": grad_W3}'))
    assert run_cli(check.main, [str(tmp_path / "mine.py")], "check") == 0
    assert "note: the returned dict also has W4, which the contract does not name" in capsys.readouterr().out


# --- nothing could be graded → exit 2, a one-line reason in the checker's own words -----------------


ROBUST = {
    "raises": (CORRECT.replace("    n = x.shape[0]", "    n = x.shape[0] // 0"),
               "could not grade it: it raised ZeroDivisionError on every problem"),
    "jax_arrays": (CORRECT.replace("    return grads", "    import jax.numpy as jnp\n    return {k: jnp.asarray(v) "
                   "for k, v in grads.items()}"), "it imports jax, which a submission may not use"),
    "not_a_dict": (CORRECT.replace("    return grads", "    return list(grads.values())"),
                   "it returned a list, not a dict of NumPy arrays on every problem"),
    "slow": (CORRECT.replace("    n = x.shape[0]", "    import time; time.sleep(600)\n    n = x.shape[0]"),
             "did not finish within"),
    "syntax_error": (CORRECT.replace("def backward(params, x, y):", "def backward(params, x, y)"),
                     "loading it raised SyntaxError"),
    "import_error": ("import numpyy\n" + CORRECT, "loading it raised ModuleNotFoundError"),
    "no_backward": (CORRECT.replace("def backward(", "def my_backward("), "it defines no function 'backward'"),
    "reads_stdin": (CORRECT.replace("    n = x.shape[0]", "    n = int(input())"), "it raised EOFError on every problem"),
    "exits": (CORRECT.replace("    n = x.shape[0]", "    raise SystemExit(3)"), "it raised SystemExit on every problem"),
    "trains_at_import": ("import time\ntime.sleep(600)\n" + CORRECT, "it did not finish importing within 4 s"),
    "notebook_magic": ("import numpy as np\n%matplotlib inline\n" + CORRECT, "line 2 is a notebook magic (%matplotlib inline)"),
}  # fmt: skip


@pytest.mark.parametrize("case", ROBUST)
def test_code_that_cannot_be_run_gives_exit_2_and_a_one_line_reason(capsys, tmp_path, case):
    source, reason = ROBUST[case]
    (tmp_path / "mine.py").write_text(source)
    code = run_cli(check.main, [str(tmp_path / "mine.py"), "--timeout", "4"], "check")
    out, err = capsys.readouterr()
    assert code == 2, out
    last = out.rstrip().splitlines()[-1]
    assert last.startswith("ERROR: ") and reason in last, last
    assert "twolayer_jax/" not in out and "twolayer_jax/" not in err  # no checker traceback


def test_the_learners_own_traceback_is_shown(capsys, tmp_path):
    (tmp_path / "mine.py").write_text(ROBUST["raises"][0])
    run_cli(check.main, [str(tmp_path / "mine.py")], "check")
    out = capsys.readouterr().out
    assert "the submission's own output (not the checker's):" in out
    assert re.search(
        rf'  \| +File "{tmp_path / "mine.py"}", line \d+, in backward\n  \| +n = x.shape\[0\] // 0', out
    )
    assert "  | ZeroDivisionError: integer division or modulo by zero" in out


def test_a_missing_file_and_no_target_are_usage_errors(capsys, tmp_path):
    assert run_cli(check.main, [str(tmp_path / "absent.py")], "check") == 2
    assert "no file" in capsys.readouterr().out
    assert run_cli(check.main, [], "check") == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_the_template_is_printed_and_reports_what_to_fill_in(capsys, tmp_path):
    assert run_cli(check.main, ["--template"], "check") == 0
    template = capsys.readouterr().out
    assert "def backward(params, x, y):" in template
    (tmp_path / "mine.py").write_text(template)
    assert run_cli(check.main, [str(tmp_path / "mine.py")], "check") == 2
    out = capsys.readouterr().out
    assert "  | NotImplementedError: fill in delta3" in out
    assert out.rstrip().endswith("ERROR: could not grade it: it raised NotImplementedError on every problem")


def test_grading_a_folder_writes_one_record_per_submission(capsys, tmp_path):
    folder = tmp_path / "submissions"
    folder.mkdir()
    (folder / "alice.py").write_text(CORRECT)
    (folder / "bob.py").write_text(mutate(MUTANTS["two_over_n_dropped"][0]))
    (folder / "carol.py").write_text(ROBUST["not_a_dict"][0])
    report = tmp_path / "report.json"
    code = run_cli(check.main, [str(folder), "--json", str(report)], "check")
    assert code == 2  # the worst verdict
    out = capsys.readouterr().out
    assert "3 submissions: 1 right, 1 wrong, 1 could not be graded; 0 files skipped" in out
    records = {r["target"].rsplit("/", 1)[1]: r for r in json.loads(report.read_text())}
    assert records["alice.py"]["verdict"] == "right" and records["alice.py"]["exit_code"] == 0
    assert records["bob.py"]["verdict"] == "wrong" and "2/n" in records["bob.py"]["hints"][0]
    assert records["bob.py"]["errors"]["∂W3"] > 1e-3
    assert records["carol.py"]["verdict"] == "error" and "returned a list" in records["carol.py"]["reason"]


@pytest.mark.parametrize("index", range(len(check.PROBLEM_SHAPES)))
def test_the_checkers_reference_is_jax_grad_on_every_problem(index):
    """The checker judges against the lab's pass in NumPy (the diagnosis's model with no mistake
    switched on); on every problem shape it must be ``jax.grad`` and autodiff's deltas."""
    from twolayer_jax.checks.comparison import relative_error
    from twolayer_jax.gradients import autodiff_gradient, reference_deltas

    jax.config.update("jax_enable_x64", True)
    problem = check.make_problems(3)[index]
    params = {k: problem[k] for k in check.PARAM_KEYS}

    @jax.jit  # one program per problem, not one per operation
    def autodiff_terms(params, x, y):
        grads, _ = autodiff_gradient(LAB_NETWORK)(params, x, y)
        return grads | reference_deltas(params, x, y, LAB_NETWORK)._asdict()

    expected = autodiff_terms(params, problem["x"], problem["y"])
    reference = check.reference_terms(problem, LAB_NETWORK)
    assert set(reference) == set(expected)
    for term, value in expected.items():
        assert relative_error(reference[term], np.asarray(value)) < 1e-13, term


def test_other_activations_are_checked_through_an_option(capsys, tmp_path):
    linear_hidden = mutate([("z1 = sigmoid(x1)", "z1 = x1"), ("z2 = sigmoid(x2)", "z2 = x2"),
                            ("* derivative_sigmoid(z2)", "* 1.0"), ("* derivative_sigmoid(z1)", "* 1.0")])  # fmt: skip
    (tmp_path / "mine.py").write_text(linear_hidden)
    assert run_cli(check.main, [str(tmp_path / "mine.py"), "--activation", "identity"], "check") == 0
    assert run_cli(check.main, [str(tmp_path / "mine.py")], "check") == 1  # against the sigmoid network
    capsys.readouterr()


# --- the contracts students write: a step that updates, weights stored as (out, in) ---------------

A_STEP = """

def step(params, x, y, lr):
    grads = backward(params, x, y)
    return {key: params[key] - lr * grads[key] for key in params}
"""
A_DECAYING_STEP = A_STEP.replace("params[key] - lr * grads[key]", "params[key] * 0.999 - lr * grads[key]")
COLUMN_CONVENTION = [  # the column convention's params, turned round to reuse the row-convention body
    ("    n = x.shape[0]\n", "    W1, W2, W3, b1, b2, b3 = W1.T, W2.T, W3.T, b1[:, 0], b2[:, 0], b3[:, 0]\n    n = x.shape[0]\n"),
    ('"W1": grad_W1, "b1": grad_b1, "W2": grad_W2, "b2": grad_b2, "W3": grad_W3, "b3": grad_b3',
     '"W1": grad_W1.T, "b1": grad_b1[:, None], "W2": grad_W2.T, "b2": grad_b2[:, None], "W3": grad_W3.T, '
     '"b3": grad_b3[:, None]'),
]  # fmt: skip


@pytest.mark.parametrize(
    ("source", "flags", "exit_code", "verdict"),
    [
        (CORRECT + A_STEP, ["--contract", "step"], 0, "RIGHT: every gradient matches"),
        (mutate(MUTANTS["sign_flipped"][0]) + A_STEP, ["--contract", "step"], 1, "WRONG: ∂W3 is wrong"),
        (CORRECT + A_DECAYING_STEP, ["--contract", "step"], 1, "the step is not plain gradient descent"),
        (mutate(COLUMN_CONVENTION), ["--convention", "column"], 0, "RIGHT: every gradient matches"),
        (
            mutate([*COLUMN_CONVENTION, ('"W2": grad_W2.T', '"W2": grad_W2')]),
            ["--convention", "column"],
            1,
            "WRONG: ∂W2 has shape",
        ),
        (mutate(COLUMN_CONVENTION) + A_STEP, ["--contract", "step", "--convention", "column"], 0, "RIGHT"),
    ],
    ids=["step", "step_sign_flipped", "step_with_decay", "column", "column_untransposed", "column_step"],
)
def test_a_step_or_the_column_convention_is_graded_like_a_backward(
    capsys, tmp_path, source, flags, exit_code, verdict
):
    (tmp_path / "mine.py").write_text(source)
    code = run_cli(check.main, [str(tmp_path / "mine.py"), *flags], "check")
    last = capsys.readouterr().out.rstrip().splitlines()[-1]
    assert code == exit_code and verdict in last, last


def test_a_column_convention_file_graded_as_row_is_not_right(capsys, tmp_path):
    (tmp_path / "mine.py").write_text(mutate(COLUMN_CONVENTION))
    assert run_cli(check.main, [str(tmp_path / "mine.py")], "check") != 0


def test_a_percent_line_inside_a_string_is_not_a_magic(capsys, tmp_path):
    """A file that parses has no notebook magic, whatever its strings hold: it is graded."""
    (tmp_path / "mine.py").write_text('"""Notes:\n% of points right\n!important\n"""\n' + CORRECT)
    assert run_cli(check.main, [str(tmp_path / "mine.py")], "check") == 0
