"""fgcore: train networks on relabeled data, cache their last-layer features, measure them.

Data flow (one direction): data -> labels -> models -> train (cached Run) -> metrics / clp -> report.
README.md lists the public names; fgcore.settings the environment variables it reads.
"""

__version__ = "0.1.0"


def __getattr__(name: str):
    """``fgcore.measure(model, data, ...)`` without importing torch when fgcore is imported."""
    if name == "measure":
        import importlib

        return importlib.import_module(".measure", __name__)
    raise AttributeError(f"module 'fgcore' has no attribute {name!r}")
