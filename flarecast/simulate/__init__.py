"""Simulated data written in the real file formats (:mod:`~flarecast.simulate.generate`,
:mod:`~flarecast.simulate.formats`), so the demo and the tests go through the same readers as real data."""

from flarecast.simulate.generate import simulate

__all__ = ["simulate"]
