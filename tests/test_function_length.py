"""No function of fgcore has more than 80 lines of code: a longer one is cut into named steps.

Lines of code are the function's lines without its docstring: a numpydoc docstring with its runnable
example (tests/test_docstrings.py asks for one) says what a function does, and its length is no sign
that the function does too much.
"""

from __future__ import annotations

import ast
from pathlib import Path

FGCORE = Path(__file__).resolve().parents[1] / "fgcore"
MOST_LINES = 80


def code_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """The function's lines, decorators and docstring left out."""
    lines = node.end_lineno - node.lineno + 1
    first = node.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        lines -= first.end_lineno - first.lineno + 1
    return lines


def long_functions(root: Path, most: int = MOST_LINES) -> dict[str, int]:
    """'path:line name' -> lines of code, for every function of more than `most`."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and code_lines(node) > most:
                found[f"{path.relative_to(root.parent)}:{node.lineno} {node.name}"] = code_lines(node)
    return found


def test_no_function_has_more_than_80_lines_of_code():
    assert not long_functions(FGCORE), f"cut these into named steps: {long_functions(FGCORE)}"


def test_the_count_leaves_out_the_docstring_only(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(81))
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text(f'def long():\n    """A\n    docstring."""\n{body}\n\n'
                                           f'def short():\n    """{"x" * 10}\n' + "\n" * 100 + '    """\n    return 1\n')
    assert long_functions(tmp_path / "pkg") == {"pkg/m.py:1 long": 82}
