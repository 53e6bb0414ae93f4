"""Small image datasets bundled with the installed packages (no downloads)."""

from ._digits import load_digits_pair, make_shifted_digits

__all__ = ["load_digits_pair", "make_shifted_digits"]
