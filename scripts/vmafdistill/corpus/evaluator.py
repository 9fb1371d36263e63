"""The safe evaluator of Netflix dataset files: an :mod:`ast` walk, the file is *never executed*.

:class:`_Evaluator` runs a parsed module's top level: only plain ``name = expr`` assignments (and
docstrings or bare strings) are accepted, where ``expr`` is built from constants
(str/int/float/bool/None, signed numbers), lists, tuples, dicts, names assigned earlier in the
file and ``+`` on strings (at most ``_MAX_STRING`` characters). Anything else is refused with a
:class:`~vmafdistill.corpus.records.CorpusError` naming the file, the line and the construct
(``_EXPR_NAMES`` / ``_STMT_NAMES`` say what it is, :func:`_snippet` quotes it). List literals
come back as ``_LList``, which remembers the line of each element for messages.
"""

from __future__ import annotations

import ast
from typing import Any

from .records import CorpusError

_MAX_STRING = 1 << 20  # longest string a dataset file may build with `+`


class _LList(list):  # a list literal that remembers the line of each element
    __slots__ = ("linenos",)


_EXPR_NAMES: dict[type, str] = {
    ast.Call: "a function call",
    ast.Attribute: "an attribute access",
    ast.Lambda: "a lambda",
    ast.JoinedStr: "an f-string",
    ast.FormattedValue: "an f-string",
    ast.Subscript: "a subscript",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a comprehension (generator expression)",
    ast.Set: "a set",
    ast.Starred: "starred unpacking",
    ast.NamedExpr: "an assignment expression (:=)",
    ast.IfExp: "a conditional expression",
    ast.BoolOp: "a boolean operator",
    ast.Compare: "a comparison",
    ast.Await: "an await",
    ast.Yield: "a yield",
    ast.YieldFrom: "a yield",
    ast.Slice: "a slice",
}


_STMT_NAMES: dict[type, str] = {
    ast.Import: "an import",
    ast.ImportFrom: "an import",
    ast.FunctionDef: "a function definition",
    ast.AsyncFunctionDef: "a function definition",
    ast.ClassDef: "a class definition",
    ast.AugAssign: "an augmented assignment",
    ast.AnnAssign: "an annotated assignment",
    ast.Delete: "a del statement",
    ast.Global: "a global statement",
    ast.Nonlocal: "a nonlocal statement",
    ast.Assert: "an assert statement",
    ast.Raise: "a raise statement",
    ast.Return: "a return statement",
    ast.If: "an if statement",
    ast.For: "a for loop",
    ast.AsyncFor: "a for loop",
    ast.While: "a while loop",
    ast.With: "a with statement",
    ast.AsyncWith: "a with statement",
    ast.Try: "a try statement",
    ast.Match: "a match statement",
    ast.Pass: "a pass statement",
}


def _snippet(node: ast.AST) -> str:
    try:
        text = ast.unparse(node)
    except Exception:  # noqa: BLE001  # pragma: no cover - unparse of a parsed tree should not fail
        return ""
    text = " ".join(text.split())
    return f" `{text[:60]}{'...' if len(text) > 60 else ''}`"


class _Evaluator:
    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.env: dict[str, Any] = {}
        self.lines: dict[str, int] = {}

    def refuse(self, node: ast.AST, what: str) -> CorpusError:
        line = getattr(node, "lineno", "?")
        return CorpusError(
            f"{self.filename}:{line}: {what}{_snippet(node)} is not allowed in a dataset file "
            "(it is parsed, not executed: only constants, lists, tuples, dicts, names assigned "
            "earlier and '+' on strings)"
        )

    def run(self, tree: ast.Module) -> None:
        for stmt in tree.body:
            t = type(stmt)
            if t is ast.Assign:
                if len(stmt.targets) != 1:
                    raise self.refuse(stmt, "a chained assignment")
                target = stmt.targets[0]
                if type(target) is not ast.Name:
                    raise self.refuse(
                        stmt,
                        "assignment to "
                        + _EXPR_NAMES.get(type(target), "a " + type(target).__name__),
                    )
                self.env[target.id] = self.eval(stmt.value)
                self.lines[target.id] = stmt.lineno
            elif (
                t is ast.Expr and type(stmt.value) is ast.Constant and type(stmt.value.value) is str
            ):
                continue  # a docstring or bare string
            elif t is ast.Expr:
                what = _EXPR_NAMES.get(type(stmt.value), "an expression")
                raise self.refuse(stmt, f"{what} (as a statement)")
            else:
                raise self.refuse(stmt, _STMT_NAMES.get(t, f"a {t.__name__} statement"))

    def eval(self, node: ast.AST) -> Any:
        t = type(node)
        if t is ast.Constant:
            v = node.value
            if v is None or type(v) in (str, int, float, bool):
                return v
            raise self.refuse(node, f"a constant of type {type(v).__name__}")
        if t is ast.List:
            lst = _LList(self.eval(e) for e in node.elts)
            lst.linenos = [e.lineno for e in node.elts]
            return lst
        if t is ast.Tuple:
            return tuple(self.eval(e) for e in node.elts)
        if t is ast.Dict:
            d = {}
            for k, v in zip(node.keys, node.values):
                if k is None:
                    raise self.refuse(v, "dict unpacking (**)")
                key = self.eval(k)
                try:
                    d[key] = self.eval(v)
                except TypeError:
                    raise self.refuse(k, "an unhashable dict key") from None
            return d
        if t is ast.Name:
            try:
                return self.env[node.id]
            except KeyError:
                raise CorpusError(
                    f"{self.filename}:{node.lineno}: name {node.id!r} is not assigned earlier "
                    "in the file (a dataset file may only refer to its own earlier assignments)"
                ) from None
        if t is ast.UnaryOp and type(node.op) in (ast.USub, ast.UAdd):
            operand = node.operand
            if type(operand) is ast.Constant and type(operand.value) in (int, float):
                return -operand.value if type(node.op) is ast.USub else operand.value
            raise self.refuse(node, "a sign on something other than a number")
        if t is ast.BinOp:
            if type(node.op) is not ast.Add:
                raise self.refuse(node, f"the operator {type(node.op).__name__}")
            left, right = self.eval(node.left), self.eval(node.right)
            if type(left) is not str or type(right) is not str:
                raise self.refuse(node, "'+' on something other than two strings")
            if len(left) + len(right) > _MAX_STRING:
                raise self.refuse(node, f"a string longer than {_MAX_STRING} characters")
            return left + right
        raise self.refuse(node, _EXPR_NAMES.get(t, f"a {t.__name__} expression"))
