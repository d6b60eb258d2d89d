"""The package's layering, read from its source: the lab core imports no wing, and no module
imports one above its layer. A new module must be placed in LAYERS before this test passes, so
where it sits is a decision, not an accident."""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT_PACKAGES = ("twolayer_jax", "manual", "benchmarks")

# Bottom to top. A module may import modules of lower layers only: never its own layer's, never
# a higher one's. Lazy imports inside functions count.
LAYERS = [
    # the lab core: data and model at the bottom, training above them, its CLI on top
    ["twolayer_jax", "twolayer_jax.registry", "twolayer_jax.devices", "twolayer_jax.data"],
    ["twolayer_jax.activations", "twolayer_jax.losses"],
    ["twolayer_jax.network", "twolayer_jax.optimizers"],
    ["twolayer_jax.model", "manual.optimizers"],
    ["manual.conv", "manual.derivatives"],
    ["manual.backpropagation"],
    ["manual"],
    ["twolayer_jax.gradients"],
    ["twolayer_jax.config"],
    ["twolayer_jax.one_run"],
    ["twolayer_jax.many_runs"],
    ["twolayer_jax.summary", "twolayer_jax.plots"],
    ["twolayer_jax.formats", "twolayer_jax.cli"],
    ["twolayer_jax.train"],
    # the checkers' wing
    [
        "twolayer_jax.checks",
        "twolayer_jax.checks.sandbox",
        "twolayer_jax.checks.learner_harness",
        "twolayer_jax.checks.terms",
        "twolayer_jax.checks.backward_template",
    ],
    ["twolayer_jax.checks.comparison", "twolayer_jax.checks.learner"],
    ["twolayer_jax.checks.diagnosis", "twolayer_jax.checks.gradcheck"],
    ["twolayer_jax.checks.check"],
    # the report's wing, which quotes the gradient check
    ["twolayer_jax.report", "twolayer_jax.report.study"],
    ["twolayer_jax.report.text"],
    ["twolayer_jax.report.cli"],
    # the doors: `python -m twolayer_jax.<command>` and `twolayer-jax <command>`
    ["twolayer_jax.check", "twolayer_jax.gradcheck", "twolayer_jax.report.__main__"],
    ["twolayer_jax.__main__"],
    # the performance lab, beside the package
    ["benchmarks", "benchmarks.numpy_reference"],
    ["benchmarks.measure", "benchmarks.report"],
    ["benchmarks.throughput", "benchmarks.distributed"],
]
LAYER_OF = {module: index for index, layer in enumerate(LAYERS) for module in layer}
CORE_TOP = LAYER_OF["twolayer_jax.train"]
WINGS = ("twolayer_jax.checks", "twolayer_jax.report", "benchmarks")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in PROJECT_PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The project module ``name`` refers to (a module, or the module holding a name), if any."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(path: Path, modules: dict[str, Path]) -> set[str]:
    """Every project module ``path`` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {target for name in names if (target := resolve(name, modules))}
    return found - {module_name(path)}


MODULES = project_modules()


def test_every_module_has_a_layer():
    unplaced = sorted(set(MODULES) - set(LAYER_OF))
    assert not unplaced, f"place these in LAYERS: {unplaced}"
    gone = sorted(set(LAYER_OF) - set(MODULES))
    assert not gone, f"LAYERS names modules that do not exist: {gone}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_module_imports_only_lower_layers(module):
    upward = sorted(
        target for target in imports_of(MODULES[module], MODULES) if LAYER_OF[target] >= LAYER_OF[module]
    )
    assert not upward, f"{module} (layer {LAYER_OF[module]}) imports its own layer or above: {upward}"


def test_the_core_imports_no_wing():
    core = [module for module in MODULES if LAYER_OF[module] <= CORE_TOP]
    for module in core:
        wings = sorted(t for t in imports_of(MODULES[module], MODULES) if t.startswith(WINGS))
        assert not wings, f"core module {module} imports the wing modules {wings}"


def test_the_layering_test_sees_a_planted_upward_import(tmp_path, monkeypatch):
    """The checks above can fail: a core module that imports the checker is caught."""
    planted = tmp_path / "twolayer_jax" / "model.py"
    planted.parent.mkdir()
    source = MODULES["twolayer_jax.model"].read_text()
    planted.write_text(source + "\n\ndef late():\n    from twolayer_jax.checks import terms\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    found = imports_of(planted, MODULES)
    assert "twolayer_jax.checks.terms" in found
    assert LAYER_OF["twolayer_jax.checks.terms"] > LAYER_OF["twolayer_jax.model"]
