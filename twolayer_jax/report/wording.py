"""How the report writes a number or a list: the few formats every sentence of REPORT.md uses,
shared by :mod:`twolayer_jax.report.text` and :mod:`twolayer_jax.report.explain`."""


def number(value: float) -> str:
    """An integer as such, anything else to 4 significant digits."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.4g}"


def percent(fraction: float) -> str:
    return f"{100 * fraction:.2f} %"


def whole_percent(fraction: float) -> str:
    """A share as a whole percentage, without the sign: ``89``."""
    return f"{100 * fraction:.0f}"


def scientific(value: float) -> str:
    return f"{value:.1e}"


def listing(values: list[str]) -> str:
    if not values:
        return "none"
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " and " + values[-1]


def significant(value: float, digits: int = 2) -> float:
    """``value`` rounded to ``digits`` significant digits, for a record to store where more digits
    would mean nothing (a median over 8 seeds, a curvature at initialisation): the report then
    prints the stored value as it is, and the number it prints is the one results.json holds."""
    return float(f"{value:.{digits}g}")


def share_interval(outcome: dict) -> str:
    """The Wilson interval on a cell's share of seeds at 100 %, in whole percent: "89–100 %"."""
    low, high = outcome["at_100_interval"]
    return f"{whole_percent(low)}–{whole_percent(high)} %"


def intervals_overlap(first: dict, second: dict) -> bool:
    """Whether two cells' Wilson intervals on the share of seeds at 100 % overlap: if they do, the
    two counts are not told apart."""
    (a_low, a_high), (b_low, b_high) = first["at_100_interval"], second["at_100_interval"]
    return a_low <= b_high and b_low <= a_high


def interquartile(outcome: dict) -> str:
    """A cell's interquartile range of epochs to 100 %, ``831–882``, over the seeds that get
    there (``none at 100 %`` when none does)."""
    quartiles = outcome["quartiles_epochs_to_100"]
    return "none at 100 %" if quartiles is None else f"{number(quartiles[0])}–{number(quartiles[1])}"


def epochs_overlap(first: dict, second: dict) -> bool:
    """Neither cell gets to 100 % sooner than the other by interquartile ranges apart: the seeds
    do not tell their order (see :func:`faster_apart`)."""
    return not (faster_apart(first, second) or faster_apart(second, first))


def faster_apart(first: dict, second: dict) -> bool:
    """The first cell gets to 100 % sooner than the second, interquartile ranges apart (or the
    second has no run there at all)."""
    if first["quartiles_epochs_to_100"] is None:
        return False
    if second["quartiles_epochs_to_100"] is None:
        return True
    return first["quartiles_epochs_to_100"][1] < second["quartiles_epochs_to_100"][0]
