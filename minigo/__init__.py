"""The game and the search: rules, coordinates, SGF, GTP. numpy and numba only; no torch, no processes."""

__version__ = "0.1.0"
