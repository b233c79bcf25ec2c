"""fgcore: train networks on relabeled data, cache their last-layer features, measure them.

Data flow (one direction): data -> labels -> models -> train (cached Run) -> metrics / clp -> report.
See README.md and DESIGN.md of the project for the public names.
"""

__version__ = "0.1.0"
