# The fgcore pytest plugin (fixtures for cached runs, claim records, tiers) is registered through the
# `pytest11` entry point of the installed package; this file only makes sure it is loaded when pytest
# runs from a checkout without the entry point (PYTHONPATH=. on a machine where pip cannot install).
import importlib.metadata as _md

if not any(ep.name == "fgcore" for ep in _md.entry_points(group="pytest11")):
    pytest_plugins = ["fgcore.suite.plugin"]
