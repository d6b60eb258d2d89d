"""How the report writes a number or a list: the few formats every sentence of REPORT.md uses,
shared by :mod:`twolayer_jax.report.text` and :mod:`twolayer_jax.report.explain`."""


def number(value: float) -> str:
    """An integer as such, anything else to 4 significant digits."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.4g}"


def percent(fraction: float) -> str:
    return f"{100 * fraction:.2f} %"


def scientific(value: float) -> str:
    return f"{value:.1e}"


def listing(values: list[str]) -> str:
    if not values:
        return "none"
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " and " + values[-1]
