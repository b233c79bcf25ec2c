"""The public API of fgcore.metrics, fgcore.clp and fgcore.measure is documented in numpydoc style, and every
example in it runs.

The section check is a few lines of parsing rather than numpydoc's validator, which would bring
Sphinx into the test dependencies for what is needed here: the sections exist and the Parameters
section names exactly the arguments of the signature.
"""

from __future__ import annotations

import dataclasses
import doctest
import importlib
import inspect
import pkgutil
import re

import pytest

import fgcore.clp
import fgcore.measure
import fgcore.metrics

PACKAGES = (fgcore.metrics, fgcore.clp, fgcore.measure)
MODULES = [f"{pkg.__name__}.{m.name}"
           for pkg in PACKAGES for m in pkgutil.iter_modules(pkg.__path__)]
PUBLIC = [(pkg.__name__, name, getattr(pkg, name)) for pkg in PACKAGES for name in pkg.__all__]


def sections(doc: str) -> dict[str, str]:
    """numpydoc sections: header line, then a line of dashes, then the body up to the next one."""
    lines = doc.splitlines()
    found, current = {}, None
    for i, line in enumerate(lines):
        if i + 1 < len(lines) and re.fullmatch(r"-{3,}", lines[i + 1].strip()) and line.strip():
            current = line.strip()
            found[current] = []
        elif current is not None and not re.fullmatch(r"-{3,}", line.strip()):
            found[current].append(line)
    return {k: "\n".join(v) for k, v in found.items()}


def documented_names(body: str) -> list[str]:
    """Names of the entries of a Parameters / Attributes section ("a, b : type" lines)."""
    names = []
    for line in body.splitlines():
        m = re.match(r"^(\w+(?:, \w+)*)\s*(?::|$)", line)
        if m and not line.startswith(" "):
            names += m.group(1).split(", ")
    return names


def signature_names(func) -> list[str]:
    params = inspect.signature(func).parameters.values()
    return [p.name for p in params if p.name != "self"
            and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def check_function(func, where: str, example: bool = True) -> None:
    doc = inspect.getdoc(func) or ""
    found = sections(doc)
    names = signature_names(func)
    if names:
        assert "Parameters" in found, f"{where}: no Parameters section"
        assert sorted(documented_names(found["Parameters"])) == sorted(names), (
            f"{where}: Parameters documents {documented_names(found['Parameters'])}, "
            f"the signature has {names}")
    if func.__name__ != "__init__":
        assert "Returns" in found, f"{where}: no Returns section"
    if example:
        assert ">>>" in found.get("Examples", ""), f"{where}: no runnable example"


@pytest.mark.parametrize("package, name, obj", PUBLIC, ids=[f"{p}.{n}" for p, n, _ in PUBLIC])
def test_public_names_have_numpydoc_sections_and_an_example(package, name, obj):
    where = f"{package}.{name}"
    if inspect.isfunction(obj):
        check_function(obj, where)
        return
    if not inspect.isclass(obj):  # a module-level constant (DEFAULTS): documented by its class
        assert inspect.getdoc(type(obj)), f"{where}: its class has no docstring"
        return
    doc = inspect.getdoc(obj) or ""
    found = sections(doc)
    if dataclasses.is_dataclass(obj):
        fields = [f.name for f in dataclasses.fields(obj)]
        if "Attributes" in found:  # a result object: every field is described
            assert sorted(documented_names(found["Attributes"])) == sorted(fields), where
        else:  # a settings object: each field carries its own docstring (reason) in the source
            assert ">>>" in found.get("Examples", ""), f"{where}: no runnable example"
        return
    # A class with behaviour: constructor parameters, an example, and its public methods.
    init_names = signature_names(obj.__init__)
    assert sorted(documented_names(found.get("Parameters", ""))) == sorted(init_names), where
    assert ">>>" in found.get("Examples", ""), f"{where}: no runnable example"
    for method_name, method in inspect.getmembers(obj, inspect.isfunction):
        if not method_name.startswith("_"):
            check_function(method, f"{where}.{method_name}", example=False)


def doctests():
    finder = doctest.DocTestFinder(exclude_empty=True)
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for test in finder.find(module, module_name):
            if test.examples:
                yield test


DOCTESTS = list(doctests())


@pytest.mark.parametrize("test", DOCTESTS, ids=[t.name for t in DOCTESTS])
def test_examples_run(test):
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    runner.run(test, out=lambda s: None)
    result = runner.summarize(verbose=False)
    if result.failed:
        # Run again, reporting, so the failure shows expected and got.
        report = []
        doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS).run(
            test, out=report.append)
        pytest.fail("".join(report))


def test_every_public_name_has_an_example_that_runs():
    # Functions and behavioural classes: their own docstring holds an example found above.
    ran = {t.name for t in DOCTESTS}
    for package, name, obj in PUBLIC:
        if inspect.isfunction(obj) or (inspect.isclass(obj) and not (
                dataclasses.is_dataclass(obj) and "Attributes" in (inspect.getdoc(obj) or ""))):
            assert f"{obj.__module__}.{obj.__qualname__}" in ran, f"{package}.{name}"
