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
    ["twolayer_jax.validation"],  # the argument checks, which any module may call
    ["twolayer_jax", "twolayer_jax.registry", "twolayer_jax.devices", "twolayer_jax.data"],
    ["twolayer_jax.activations", "twolayer_jax.losses", "twolayer_jax.initialisations"],
    ["twolayer_jax.network", "twolayer_jax.optimizers"],
    ["twolayer_jax.model", "manual.optimizers"],
    ["manual.conv", "manual.derivatives"],
    ["manual.backpropagation"],
    ["manual"],
    ["twolayer_jax.gradients"],
    ["twolayer_jax.config"],
    ["twolayer_jax.one_run"],
    ["twolayer_jax.many_runs"],
    ["twolayer_jax.summary", "twolayer_jax.plots", "twolayer_jax.footprint"],
    ["twolayer_jax.animation"],  # a run's snapshots drawn with the plots' pieces
    ["twolayer_jax.formats", "twolayer_jax.cli"],
    ["twolayer_jax.train"],
    # the checkers' wing
    [
        "twolayer_jax.checks",
        "twolayer_jax.checks.sandbox",
        "twolayer_jax.checks.learner_harness",
        "twolayer_jax.checks.terms",
        "twolayer_jax.checks.backward_template",
        "twolayer_jax.checks.numpy_twins",
    ],
    ["twolayer_jax.checks.comparison", "twolayer_jax.checks.learner"],
    ["twolayer_jax.checks.diagnosis", "twolayer_jax.checks.gradcheck", "twolayer_jax.checks.contracts"],
    ["twolayer_jax.checks.platforms"],
    ["twolayer_jax.checks.check"],
    # the report's wing, which quotes the gradient check
    [
        "twolayer_jax.report",
        "twolayer_jax.report.study",
        "twolayer_jax.report.watch",
        "twolayer_jax.report.diagram",
        "twolayer_jax.report.wording",
    ],
    ["twolayer_jax.report.explain"],
    ["twolayer_jax.report.initialisation"],
    ["twolayer_jax.report.text"],
    ["twolayer_jax.report.cli"],
    # the doors: `python -m twolayer_jax.<command>` and `twolayer-jax <command>`
    ["twolayer_jax.check", "twolayer_jax.gradcheck", "twolayer_jax.report.__main__"],
    # the performance lab, beside the package
    ["benchmarks", "benchmarks.numpy_reference"],
    ["benchmarks.measure", "benchmarks.report"],
    ["benchmarks.throughput", "benchmarks.distributed", "benchmarks.checker"],
    # the one entry point, `twolayer-jax <command>`, over every command line
    ["twolayer_jax.__main__"],
]
LAYER_OF = {module: index for index, layer in enumerate(LAYERS) for module in layer}
WINGS = ("twolayer_jax.checks", "twolayer_jax.report", "benchmarks")
# modules of twolayer_jax/ itself that are not the core: each only runs a wing's CLI
DOORS = {"twolayer_jax.check", "twolayer_jax.gradcheck", "twolayer_jax.__main__"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in PROJECT_PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def is_core(module: str) -> bool:
    return (
        module.split(".")[0] in ("twolayer_jax", "manual")
        and not module.startswith(WINGS)
        and module not in DOORS
    )


def resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The project module ``name`` refers to (a module, or the module holding a name), if any."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def absolute(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    """The absolute module an ``from ... import`` names, relative ones (``from .x``) included."""
    if node.level == 0:
        return node.module or ""
    package = importer if is_package else importer.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return ".".join(part for part in (package, node.module) if part)


def imported_names(node: ast.AST, importer: str, is_package: bool) -> list[str]:
    """The dotted names one node imports: import statements, and ``importlib.import_module`` or
    ``__import__`` called with a literal name (a door that picks its command at run time)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        base = absolute(node, importer, is_package)
        return [base] + [f"{base}.{alias.name}" for alias in node.names]
    if isinstance(node, ast.Call):
        function = node.func
        called = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
        if called in ("import_module", "__import__"):
            return [
                arg.value
                for arg in node.args[:1]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            ]
    return []


def string_constants(tree: ast.AST) -> list[str]:
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def imports_of(path: Path, modules: dict[str, Path]) -> set[str]:
    """Every project module ``path`` imports, at the top or inside a function."""
    importer, is_package = module_name(path), path.name == "__init__.py"
    tree = ast.parse(path.read_text(), str(path))
    names = [name for node in ast.walk(tree) for name in imported_names(node, importer, is_package)]
    if importer == "twolayer_jax.__main__":  # its command table names modules it imports by name
        names += [text for text in string_constants(tree) if text in modules]
    return {target for name in names if (target := resolve(name, modules))} - {importer}


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
    core = [module for module in MODULES if is_core(module)]
    assert "twolayer_jax.train" in core and "manual.backpropagation" in core
    for module in core:
        wings = sorted(t for t in imports_of(MODULES[module], MODULES) if t.startswith(WINGS))
        assert not wings, f"core module {module} imports the wing modules {wings}"


@pytest.mark.parametrize(
    "planted",
    [
        "from twolayer_jax.checks import terms",
        "import twolayer_jax.checks.terms as t",
        "from .checks import terms",
        "from . import checks",
        "importlib.import_module('twolayer_jax.checks.terms')",
    ],
)
def test_the_layering_test_sees_a_planted_upward_import(tmp_path, monkeypatch, planted):
    """The checks above can fail: a core module that reaches the checker, in any of the ways a
    module can import another, is caught."""
    planted_file = tmp_path / "twolayer_jax" / "model.py"
    planted_file.parent.mkdir()
    planted_file.write_text(MODULES["twolayer_jax.model"].read_text() + f"\n\ndef late():\n    {planted}\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    found = imports_of(planted_file, MODULES)
    assert any(t.startswith(WINGS) for t in found), found
    assert is_core("twolayer_jax.model")
