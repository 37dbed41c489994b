"""The import structure, read from the source (AST, nothing imported): `bot/` → `handlers/` → `models/`.

- nothing in `handlers/`, `models/` or `richmenus/` imports `bot` (at module level or inside a function);
- no new import cycle between project modules at module level (imports under ``if TYPE_CHECKING:``
  do not run, so they do not count);
- a function-local import inside `models/` that exists to dodge a cycle is listed, with its reason,
  in ``MODELS_LOCAL_IMPORTS``; a new one fails here until it is listed (or moved to the top, when
  it makes no cycle). Entries that no longer exist fail too, so the list only shrinks.
"""
from __future__ import annotations

import ast
import functools
import typing
from dataclasses import dataclass, fields
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "models", "richmenus")
LOWER = ("handlers", "models", "richmenus")  # may never import bot

# Module-level cycles allowed for now (each a set of modules) -> why. None today: keep it so.
KNOWN_CYCLES: dict[frozenset[str], str] = {}

_CYCLE = "at the top it would close a cycle"
_WIDE = "no cycle today: export, erasure and the pre-member merge touch every member table; can move to the top"
# models/ function-local imports (importer, imported) -> why each is local. Shrink it; never grow it silently.
MODELS_LOCAL_IMPORTS: dict[tuple[str, str], str] = {
    # added with the branches of issues 17–19; each reaches back to a module that imports it, or to every table
    ("models.campaign_link", "models.campaign"): _CYCLE + ": segment_rules → campaign_link; campaign → segment_rules",
    ("models.campaign_link", "models.coupon"): _WIDE,
    ("models.campaign_link", "models.ledger"): _WIDE,
    ("models.campaign_link", "models.member"): _WIDE,
    ("models.dashboard", "models.campaign_blocks"): _WIDE,
    ("models.journey", "models.journey_insight"): _CYCLE + ": journey_insight imports journey",
    ("models.journey", "models.ledger"): _CYCLE + ": ledger → … → journey (joining triggers the welcome journey)",
    ("models.member_import", "models.ledger"): _WIDE,
    ("models.member_import", "models.premember"): _WIDE,
    ("models.member_import", "models.rule"): _WIDE,
    ("models.member_import", "models.tag"): _WIDE,
    ("models.member_import", "models.tier"): _WIDE,
    ("models.premember", "models.product"): _WIDE,
    ("models.privacy", "models.product"): _WIDE,
    ("models.card", "models.ledger"): _CYCLE + ": ledger imports card (the card's prefetch key)",
    ("models.card", "models.tier"): _CYCLE + ": tier → ledger → card",
    ("models.ledger", "models.reward"): _CYCLE + ": reward spends and credits through the ledger",
    ("models.member", "models.journey"): _CYCLE + ": journey → ledger → member (joining triggers the welcome journey)",
    ("models.member", "models.premember"): _CYCLE + ": a pre-member is a member row (premember → member)",
    ("models.tag", "models.segment_rules"): _CYCLE + ": segment rules select by tag (segment_rules → tag)",
    ("models.tier", "models.journey"): _CYCLE + ": journey → ledger → … → tier (an upgrade triggers tier_up)",
    ("models.premember", "models.claim"): _WIDE,
    ("models.premember", "models.correction"): _WIDE,
    ("models.premember", "models.coupon"): _WIDE,
    ("models.premember", "models.ledger"): _WIDE,
    ("models.premember", "models.reward"): _WIDE,
    ("models.premember", "models.segment"): _WIDE,
    ("models.premember", "models.tier"): _WIDE,
    ("models.privacy", "models.campaign"): _WIDE,
    ("models.privacy", "models.conversation"): _WIDE,
    ("models.privacy", "models.coupon"): _WIDE,
    ("models.privacy", "models.journey"): _WIDE,
    ("models.privacy", "models.ledger"): _WIDE,
    ("models.privacy", "models.outbox"): _WIDE,
    ("models.privacy", "models.referral"): _WIDE,
    ("models.privacy", "models.reward"): _WIDE,
    ("models.privacy", "models.richmenu"): _WIDE,
    ("models.privacy", "models.store"): _WIDE,
    ("models.privacy", "models.tag"): _WIDE,
    ("models.privacy", "models.tier"): _WIDE,
}


@dataclass(frozen=True)
class Import:
    source: str  # the importing module, dotted
    target: str  # the imported project module, dotted
    line: int
    local: bool  # inside a function
    type_only: bool  # under `if TYPE_CHECKING:`


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[module_name(path)] = path
    return found


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The project module ``name`` refers to: itself, or its nearest enclosing module."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> list[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []

    class Reader(ast.NodeVisitor):
        local = False
        type_only = False

        def add(self, target: str, node: ast.stmt) -> None:
            resolved = _resolve(target, modules)
            if resolved and resolved != module:
                found.append(Import(module, resolved, node.lineno, self.local, self.type_only))

        def visit_Import(self, node: ast.Import) -> None:
            for alias in node.names:
                self.add(alias.name, node)

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - (node.level - 1)] + ([base] if base else []))
            for alias in node.names:  # `from models import member` imports models.member
                full = f"{base}.{alias.name}"
                self.add(full if full in modules else base, node)

        def visit_function(self, node: ast.AST) -> None:
            outer, self.local = self.local, True
            self.generic_visit(node)
            self.local = outer

        visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = visit_function

        def visit_If(self, node: ast.If) -> None:
            if not _is_type_checking(node.test):
                return self.generic_visit(node)
            outer, self.type_only = self.type_only, True
            for child in node.body:
                self.visit(child)
            self.type_only = outer
            for child in node.orelse:
                self.visit(child)

    Reader().visit(tree)
    return found


@functools.cache
def all_imports() -> list[Import]:
    modules = project_modules()
    return [imp for module, path in modules.items() for imp in imports_of(module, path, modules)]


def cycles(edges: dict[str, set[str]]) -> list[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(frozenset(component))
    return found


def _packages(module: str) -> set[str]:
    parts = module.split(".")
    return {".".join(parts[:n]) for n in range(1, len(parts))}


def module_graph(imports: list[Import]) -> dict[str, set[str]]:
    """Module-level edges. Importing ``a.b`` first runs package ``a`` (its ``__init__``): that counts
    too, unless the importer lives in ``a`` already (a package's own modules run inside its import)."""
    edges: dict[str, set[str]] = {}
    for imp in imports:
        if not imp.local and not imp.type_only:
            targets = {imp.target} | (_packages(imp.target) - _packages(imp.source) - {imp.source})
            edges.setdefault(imp.source, set()).update(targets)
    return edges


def test_nothing_below_bot_imports_bot():
    upward = [f"{imp.source}:{imp.line} imports {imp.target}" for imp in all_imports()
              if imp.source.split(".")[0] in LOWER and imp.target.split(".")[0] == "bot"]
    assert upward == [], "handlers/, models/ and richmenus/ must not import bot/:\n  " + "\n  ".join(upward)


def test_no_new_module_level_import_cycle():
    found = set(cycles(module_graph(all_imports())))
    new = [sorted(c) for c in found if c not in KNOWN_CYCLES]
    gone = [sorted(c) for c in KNOWN_CYCLES if c not in found]
    assert new == [], f"new module-level import cycle(s): {new}"
    assert gone == [], f"KNOWN_CYCLES lists cycles that no longer exist (remove them): {gone}"


def test_models_function_local_imports_are_listed():
    local = {(imp.source, imp.target) for imp in all_imports()
             if imp.local and imp.source.startswith("models") and imp.target.startswith("models")}
    unlisted = sorted(local - MODELS_LOCAL_IMPORTS.keys())
    stale = sorted(MODELS_LOCAL_IMPORTS.keys() - local)
    assert unlisted == [], ("function-local import(s) in models/ not in MODELS_LOCAL_IMPORTS: import at the top "
                            f"when it makes no cycle, otherwise list it with the reason: {unlisted}")
    assert stale == [], f"MODELS_LOCAL_IMPORTS lists imports that no longer exist (remove them): {stale}"


def test_the_checker_sees_imports():
    """The AST reader itself: a local import, a TYPE_CHECKING import and a relative import are told apart."""
    modules = project_modules()
    assert {"bot", "handlers", "models.member", "richmenus.menus"} <= modules.keys()
    imports = all_imports()
    assert any(imp.source == "bot.app" and imp.target.startswith("handlers") or imp.target.startswith("models") for imp in imports)
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [frozenset("abc")]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_handler_settings_are_the_apps_settings():
    """handlers/ name what they read of the settings in a Protocol (so they need not import bot/);
    the app's Settings must have each of those fields, with the same type."""
    from bot.config import Settings
    from handlers.settings import HandlerSettings

    declared = {f.name: f.type for f in fields(Settings)}
    wanted = {name: typing.get_type_hints(getattr(HandlerSettings, name).fget)["return"].__name__
              for name, member in vars(HandlerSettings).items() if isinstance(member, property)}
    assert wanted, "HandlerSettings declares no field"
    missing = {name: kind for name, kind in wanted.items()
               if name not in declared or getattr(declared[name], "__name__", declared[name]) != kind}
    assert missing == {}, f"bot.config.Settings lacks (or types differently) what handlers read: {missing}"
