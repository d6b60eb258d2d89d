"""The walkthrough notebook is kept twice: ``notebooks/walkthrough.py`` (jupytext percent format)
is the source a reviewer reads in a diff, and ``notebooks/walkthrough.ipynb`` is generated from it
with ``jupytext --to ipynb --update notebooks/walkthrough.py``. These tests keep the two from
drifting apart and keep outputs out of the committed notebook. They read files only; running the
notebook is ``pytest --nbmake notebooks/``."""

from pathlib import Path

import jupytext
import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
SOURCE = NOTEBOOKS / "walkthrough.py"
NOTEBOOK = NOTEBOOKS / "walkthrough.ipynb"
REGENERATE = "regenerate it: jupytext --to ipynb --update notebooks/walkthrough.py"
# --update keeps the cell ids (a small diff) and also any outputs, so a notebook saved after a run
# is rebuilt without --update, which writes no outputs
CLEAR = "rebuild it without outputs: jupytext --to ipynb notebooks/walkthrough.py"


def cells(notebook) -> list[tuple[str, str]]:
    """Each cell's type and source, the part of a notebook its script determines."""
    return [(cell.cell_type, cell.source) for cell in notebook.cells]


@pytest.fixture(scope="module")
def committed():
    return nbformat.read(NOTEBOOK, as_version=4)


def test_the_notebook_is_what_jupytext_makes_of_the_script(committed):
    expected = cells(jupytext.read(SOURCE))
    found = cells(committed)
    for index, (want, got) in enumerate(zip(expected, found, strict=False)):
        assert got == want, f"cell {index} differs from walkthrough.py; {REGENERATE}"
    assert len(found) == len(expected), f"{len(found)} cells, the script has {len(expected)}; {REGENERATE}"


def test_the_notebook_keeps_the_scripts_kernel(committed):
    assert committed.metadata.kernelspec == jupytext.read(SOURCE).metadata.kernelspec


def test_the_committed_notebook_has_no_outputs(committed):
    code = [cell for cell in committed.cells if cell.cell_type == "code"]
    assert code
    ran = [index for index, cell in enumerate(committed.cells) if cell.get("outputs")]
    counted = [index for index, cell in enumerate(committed.cells) if cell.get("execution_count") is not None]
    assert not ran, f"cells {ran} hold outputs; {CLEAR}"
    assert not counted, f"cells {counted} hold execution counts; {CLEAR}"
