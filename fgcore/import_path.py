"""Objects named by import path, ``"package.module:attribute"``: a user's data set, model, labeling or loss.

One rule for every registry: a name is an import path when it is a dotted module name, a colon and a
dotted attribute name, all Python identifiers (``mypkg.nets:build``, ``mydata:Loader.load``). Anything
else (``coarse:5``, ``image_folder:/data/x``) is not, and is looked up in the registry by name.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

from .errors import UnknownNameError

PATTERN = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
FORM = "'package.module:callable'"

__all__ = ["FORM", "PATTERN", "is_import_path", "resolve"]


def is_import_path(name: object) -> bool:
    """True when `name` has the form 'package.module:attribute'."""
    return isinstance(name, str) and bool(PATTERN.match(name))


def resolve(path: str, what: str) -> Any:
    """Import ``package.module`` and return ``attribute`` (dots walk into it).

    `what` names the object in errors ("model", "data set", ...). Raises UnknownNameError saying whether
    the module is missing, fails to import, or lacks the attribute.
    """
    if not is_import_path(path):
        raise UnknownNameError(f"{what} {path!r} is not an import path of the form {FORM}, e.g. 'mypkg.nets:build'.")
    module_name, _, attribute = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        missing = error.name or ""
        if missing and (module_name == missing or module_name.startswith(missing + ".")):
            raise UnknownNameError(
                f"{what} {path!r}: cannot import module {module_name!r} (no module named {missing!r}). "
                "Install the package, or put the folder that contains it on PYTHONPATH.") from error
        raise UnknownNameError(f"{what} {path!r}: importing module {module_name!r} failed: {error}") from error
    except ImportError as error:
        raise UnknownNameError(f"{what} {path!r}: importing module {module_name!r} failed: {error}") from error
    target: Any = module
    walked = module_name
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise UnknownNameError(f"{what} {path!r}: {walked!r} has no attribute {part!r}.")
        target = getattr(target, part)
        walked = f"{walked}.{part}" if walked != module_name else f"{module_name}:{part}"
    return target
