"""A model's weights from a file: a state dict, loaded as data only (``torch.load(weights_only=True)``).

A checkpoint is a dict of parameter and buffer names to tensors, as ``torch.save(model.state_dict(),
path)`` writes it. Two wrappers are common enough to unwrap: a dict whose ``"state_dict"`` entry is one
(PyTorch Lightning) and one whose ``"model"`` entry is one (fgcore's own ``checkpoint.pt``); so are the
name prefixes ``module.`` (DataParallel) and ``_orig_mod.`` (torch.compile) when every name has them.
Anything else (a pickled model, a list, a file torch.save did not write) is refused with a
`CheckpointError` that says what the file holds and what to save instead; nothing in it is run.
"""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path
from typing import Any

import torch

from ..errors import CheckpointError, NotFoundError
from ..train.cache import sha256_file

__all__ = ["check_file", "load_state_dict", "state_dict_sha256", "checkpoint_sha256"]

WRAPPERS = ("state_dict", "model")
PREFIXES = ("module.", "_orig_mod.")
SAVE_HINT = "save the weights with torch.save(model.state_dict(), path) and pass that file"


def checkpoint_sha256(path: str | Path) -> str:
    """sha256 of the checkpoint file (part of the feature cache's key)."""
    return sha256_file(check_file(path))


def check_file(path: str | Path) -> Path:
    """`path` as a Path, or NotFoundError when no file is there."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise NotFoundError(f"checkpoint {str(path)!r}: no such file; pass the path of a state dict "
                            "(torch.save(model.state_dict(), path)).")
    return path


def state_dict_sha256(state: dict[str, torch.Tensor]) -> str:
    """sha256 of a state dict's names, dtypes, shapes and values (a model given as an object)."""
    digest = hashlib.sha256()
    for name, tensor in sorted(state.items()):
        t = tensor.detach().cpu().contiguous()
        digest.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        digest.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return digest.hexdigest()


def load_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The state dict in ``path``, on the CPU.

    Parameters
    ----------
    path : str or Path
        A file written by ``torch.save(model.state_dict(), path)`` (or a wrapper, see the module).

    Returns
    -------
    dict
        Parameter and buffer names to tensors.

    Raises
    ------
    NotFoundError
        When there is no such file.
    CheckpointError
        When the file holds Python objects other than tensors and plain values (a pickled model),
        is not a file torch.save wrote, or holds something other than a state dict.
    """
    path = check_file(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        detail = next((line.strip() for line in str(exc).splitlines() if "GLOBAL" in line), "")
        if detail:
            found = detail.split("GLOBAL", 1)[1].split()[0]
            raise CheckpointError(
                f"checkpoint {str(path)!r} holds Python objects other than tensors and plain values "
                f"(it names {found}: a pickled model or other code, not a state dict), so it was not "
                f"loaded: loading it would run code from the file. {SAVE_HINT[0].upper() + SAVE_HINT[1:]}."
            ) from None
        raise CheckpointError(f"checkpoint {str(path)!r} cannot be read as data ({_first_line(exc)}); "
                              f"{SAVE_HINT}.") from None
    except Exception as exc:  # torch raises RuntimeError, KeyError, EOFError ... for foreign bytes
        raise CheckpointError(f"checkpoint {str(path)!r} is not a file written by torch.save "
                              f"({type(exc).__name__}: {_first_line(exc)}); {SAVE_HINT}.") from None
    return _as_state_dict(state, path)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else "no detail"


def _is_state_dict(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in value.items())


def _as_state_dict(state: Any, path: Path) -> dict[str, torch.Tensor]:
    if not _is_state_dict(state) and isinstance(state, dict):
        inner = next((state[k] for k in WRAPPERS if _is_state_dict(state.get(k))), None)
        if inner is not None:
            state = inner
    if not _is_state_dict(state):
        raise CheckpointError(f"checkpoint {str(path)!r} holds {_describe(state)}, not a state dict (a dict of "
                              f"parameter names to tensors); {SAVE_HINT}.")
    for prefix in PREFIXES:
        if all(k.startswith(prefix) for k in state):
            state = {k[len(prefix):]: v for k, v in state.items()}
    return state


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        if not value:
            return "an empty dict"
        bad = [k for k, v in value.items() if not (isinstance(k, str) and isinstance(v, torch.Tensor))]
        listed = ", ".join(repr(k) for k in bad[:5]) + (", ..." if len(bad) > 5 else "")
        return f"a dict whose entries {listed} are not tensors"
    if isinstance(value, torch.Tensor):
        return f"a single tensor of shape {tuple(value.shape)}"
    return f"a {type(value).__name__}"
