"""The errors a person can fix: a name fgcore does not know, a fixture or setting it cannot use, data
that is not there.

Every one of them says which argument, file or variable was wrong, what was wrong with it and what to
do, in one sentence a person reads without the traceback; the command line prints the message and
exits with status 2 (fgcore.cli). They stay subclasses of the built-in exception the code raised before
(ValueError, FileNotFoundError), so ``except ValueError`` keeps working.
"""

from __future__ import annotations

__all__ = ["FgcoreError", "UnknownNameError", "FixtureError", "SpecError", "SettingError", "UsageError",
           "NotFoundError", "CheckpointError"]


class FgcoreError(Exception):
    """Base class: a mistake in what fgcore was asked to do, not a bug of fgcore."""

    def __str__(self) -> str:  # KeyError-like bases would quote the message
        return str(self.args[0]) if self.args else ""


class UnknownNameError(FgcoreError, ValueError):
    """A name fgcore does not know: a data set, model, labeling, loss, experiment or cache entry.
    The message lists the valid names (and the nearest one, where there is one)."""


class FixtureError(FgcoreError, ValueError):
    """An experiment definition (a fixture file, or an [[experiment]] of a sweep file) that cannot be
    used; the message names the file."""


class SpecError(FgcoreError, ValueError):
    """A RunSpec field (or a data set / model option) whose value cannot be used."""


class SettingError(FgcoreError, ValueError):
    """An FGCORE_* environment variable whose value cannot be used (fgcore.settings)."""


class UsageError(FgcoreError, ValueError):
    """A command-line option, or a combination of them, that cannot work."""


class NotFoundError(FgcoreError, FileNotFoundError):
    """Data, a fixture file or a sweep file that is not where fgcore looked; the message lists where it
    looked and, for data, how to get it."""


class CheckpointError(FgcoreError, ValueError):
    """A file of model weights that cannot be used: not data only (a pickled model), not a state dict, or
    a state dict that does not fit the model it is loaded into (fgcore measure)."""
