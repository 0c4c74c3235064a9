"""The dependency rules of docs/architecture.md, checked over every module's imports (top-level and in functions).

A rule broken here is a layer reaching where it must not: fix the import, not the rule.
"""
import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path):
    """Every module `path` imports, absolute, with the line it is on."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else _module_name(path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                yield ".".join(base + ([node.module] if node.module else [])), node.lineno
            else:
                yield node.module, node.lineno


MODULES = {_module_name(p): p for p in SRC.rglob("*.py")}

# (modules the rule is about, what they must not import, why)
RULES = [
    ("imds_ext.core", ("imds_ext.cli", "imds_ext.frontend", "azext_imds", "imds_ext.emulator", "knack"),
     "the domain core knows nothing of a command line or of the emulator"),
    ("imds_ext.emulator", ("imds_ext.core", "imds_ext.cli", "imds_ext.frontend", "azext_imds", "knack"),
     "the emulator is an independent model of the service: sharing the core's facts would let one mistake pass "
     "both sides"),
    ("imds_ext.frontend", ("imds_ext.cli", "azext_imds", "imds_ext.emulator"),
     "the shared front end serves both command lines and depends on neither"),
    ("azext_imds", ("imds_ext.cli", "imds_ext.emulator"),
     "the extension shares the front end, never the standalone CLI's private modules"),
    ("imds_ext.cli", ("azext_imds",), "the standalone CLI runs without az"),
    # The emulator's back end has no HTTP: the HTTP layer (responses/, urls, app, server) maps requests onto it.
    ("imds_ext.emulator.providers", ("werkzeug", "cheroot", "imds_ext.emulator.responses", "imds_ext.emulator.app"),
     "back ends hold state and rules, not HTTP"),
    ("imds_ext.emulator.store", ("werkzeug", "imds_ext.emulator.responses"), "back ends hold no HTTP"),
    ("imds_ext.emulator.operations", ("werkzeug", "imds_ext.emulator.responses"), "back ends hold no HTTP"),
    ("imds_ext.emulator.backend", ("werkzeug", "imds_ext.emulator.responses"), "back ends hold no HTTP"),
]


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


@pytest.mark.parametrize("owner, forbidden, why", RULES, ids=[r[0] for r in RULES])
def test_layer_rule(owner, forbidden, why):
    broken = [f"{MODULES[m].relative_to(SRC)}:{line} imports {imported}"
              for m in sorted(MODULES) if _under(m, owner)
              for imported, line in _imports(MODULES[m]) if any(_under(imported or "", f) for f in forbidden)]
    assert not broken, f"{why}:\n" + "\n".join(broken)


def test_the_rules_see_the_imports_they_are_about():
    """The checker itself: it finds a known import of each kind (a rule that sees nothing proves nothing)."""
    service = [name for name, _ in _imports(MODULES["imds_ext.core.service"])]
    assert "imds_ext.core.preflight" in service or "imds_ext.core" in service
    assert "azure.core.exceptions" in service
    custom = [name for name, _ in _imports(MODULES["azext_imds.custom"])]
    assert "imds_ext.frontend" in custom and "imds_ext.core.errors" in custom


def test_every_module_says_what_it_holds():
    missing = [str(p.relative_to(SRC)) for p in MODULES.values()
               if not ast.get_docstring(ast.parse(p.read_text(encoding="utf-8")))]
    assert not missing, f"modules without an opening docstring: {missing}"
