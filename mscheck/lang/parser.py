"""Text to syntax tree: parsing with Lark, and precise parse errors (files are read by
:mod:`mscheck.lang.source`; trees kept between runs by :mod:`mscheck.lang.cache`)."""

from __future__ import annotations

import re

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from mscheck.diagnostics import Diagnostic, Span, SpecError
from mscheck.lang import ast
from mscheck.lang.source import MAX_BYTES, read_source

__all__ = ["read_source", "parse", "parse_file", "MAX_DEPTH", "MAX_BYTES"]

#: Deepest nesting of the syntax tree accepted (brackets, prefixes, operators).
MAX_DEPTH = 400

_PARSER: Lark | None = None


def _parser() -> Lark:
    global _PARSER
    if _PARSER is None:
        _PARSER = Lark.open(
            "grammar.lark",
            rel_to=__file__,
            parser="lalr",
            maybe_placeholders=True,
            cache=True,  # the parse tables are kept in a temporary file between runs
        )
    return _PARSER


def parse_file(path: str) -> ast.Module:
    return parse(read_source(path), path)


def parse(text: str, filename: str = "<string>") -> ast.Module:
    """Parse spec text into an :class:`ast.Module`, or raise :class:`SpecError`."""
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as exc:
        raise SpecError([_syntax_diagnostic(exc, text, filename)]) from None
    deep = _too_deep(tree)
    if deep is not None:
        raise SpecError([Diagnostic(
            "MS103",
            f"nesting is deeper than {MAX_DEPTH} levels; split the expression or process "
            "into definitions",
            _span_of(deep, filename) or _deep_bracket(text, filename),
        )])
    decls = _ToAst(filename).convert(tree)
    return ast.Module(file=filename, decls=tuple(_flatten(decls.children)),
                      span=Span(filename, 1, 1))


# ---------------------------------------------------------------- depth guard


def _too_deep(tree: Tree) -> Tree | Token | None:
    """Return the first subtree nested deeper than MAX_DEPTH, without recursion."""
    stack: list[tuple[Tree, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return node
        step = 0 if node.data == "paren" else 1  # the tree conversion drops parentheses
        for child in node.children:
            if isinstance(child, Tree):
                stack.append((child, depth + step))
    return None


def _deep_bracket(text: str, filename: str) -> Span:
    """Where brackets first nest too deep (for trees that hold no token to point at)."""
    depth, line, col = 0, 1, 0
    for ch in text:
        col += 1
        if ch == "\n":
            line, col = line + 1, 0
        elif ch in "([{":
            depth += 1
            if depth > MAX_DEPTH // 2:
                return Span(filename, line, col)
        elif ch in ")]}":
            depth -= 1
    return Span(filename, 1, 1)


def _span_of(node: Tree | Token, filename: str) -> Span | None:
    """The position of the first token under ``node`` (iteratively: trees may be deep)."""
    stack = [node]
    while stack:
        x = stack.pop()
        if isinstance(x, Token):
            if x.line is not None:
                return Span(filename, x.line, x.column, x.end_line, x.end_column)
        elif isinstance(x, Tree):
            stack.extend(reversed(x.children))
    return None


# ---------------------------------------------------------------- syntax errors

_FRIENDLY = {
    "NAME": "a name",
    "INT": "an integer",
    "STRING": "a string",
    "$END": "end of file",
}

_DEFINITION = re.compile(r"\s*(const|type|def)\s+\w+\s*(\(.*\))?\s*(:[^=]*)?=?$")

_MISTAKES = {
    "MS110": "'=' does not assign; write ':=' (as in 'x := 1')",
    "MS111": "definitions use a single '=' (as in 'const N = 3')",
    "MS112": "C-style operators are not used; write 'and', 'or', 'not'",
    "MS114": "statements belong inside an action or handler body: "
    "'action name { ... }' or 'on ch?Msg { ... }'",
}


def _expected_names(exc: UnexpectedInput) -> list[str]:
    names = getattr(exc, "expected", None) or getattr(exc, "allowed", None) or set()
    interactive = getattr(exc, "interactive_parser", None)
    if interactive is not None:
        try:
            names = set(names) | set(interactive.accepts())
        except Exception:  # noqa: BLE001 - the plain list is still right, only shorter
            pass
    terminals = {t.name: t for t in _parser().terminals}
    out = set()
    for name in names:
        if name in _FRIENDLY:
            out.add(_FRIENDLY[name])
            continue
        term = terminals.get(name)
        if term is not None and term.pattern.type == "str":
            out.add(f"'{term.pattern.value}'")
        elif not name.startswith("_"):
            out.add(name.lower())
    return sorted(out, key=lambda s: (not s.startswith("'"), s))


def _syntax_diagnostic(exc: UnexpectedInput, text: str, filename: str) -> Diagnostic:
    line = getattr(exc, "line", 1) or 1
    column = getattr(exc, "column", 1) or 1
    if isinstance(exc, UnexpectedEOF) or (
        isinstance(exc, UnexpectedToken) and exc.token.type == "$END"
    ):
        # Point at the last character of the file rather than past it.
        lines = text.rstrip().splitlines() or [""]
        line, column = len(lines), max(1, len(lines[-1]))
        expected = _expected_names(exc)
        code, msg = "MS102", "unexpected end of file"
        if "'}'" in expected:
            code, msg = "MS113", "unexpected end of file: a '{' is never closed (missing '}')"
        return Diagnostic(code, msg, Span(filename, line, column), expected=tuple(expected))
    offset = exc.pos_in_stream if exc.pos_in_stream is not None else 0
    expected = tuple(_expected_names(exc))
    if isinstance(exc, UnexpectedCharacters):
        ch = text[offset] if offset < len(text) else ""
        two = text[offset : offset + 2]
        if two in ("&&", "||") or (ch == "!" and not text[offset + 1 : offset + 2] == "="):
            word = {"&&": "and", "||": "or"}.get(two, "not")
            return Diagnostic(
                "MS112",
                f"'{two if two in ('&&', '||') else ch}' is not an operator here; write '{word}'",
                Span(filename, line, column),
            )
        shown = repr(ch) if ch else "end of file"
        # The lexer's list of terminals is not specific to the place, so it is not shown.
        return Diagnostic("MS101", f"unexpected character {shown}", Span(filename, line, column))
    token = exc.token if isinstance(exc, UnexpectedToken) else None
    end_col = column + max(len(str(token)), 1) - 1 if token is not None else None
    span = Span(filename, line, column, line, end_col)
    code = _common_mistake(token, text, offset, expected)
    if code == "MS111" and str(token) == "=" and offset > 0 and text[offset - 1] == "=":
        span = Span(filename, line, column - 1, line, column + 1)
    if code:
        return Diagnostic(code, _MISTAKES[code], span, expected=expected)
    return Diagnostic("MS100", f"unexpected {_describe(token)}", span, expected=expected)


def _common_mistake(token: Token | None, text: str, offset: int,
                    expected: tuple[str, ...]) -> str | None:
    """Name the usual slips: '=' for ':=', '==' in a definition, C operators, statements
    outside a body. Decided from the token and what the parser expected there."""
    if token is None:
        return None
    value = str(token)
    if value == "=" and "':='" in expected:
        return "MS110"
    line_start = text.rfind("\n", 0, offset) + 1
    before = text[line_start:offset]
    if _DEFINITION.match(before) and (value == "==" or (value == "=" and before.endswith("="))):
        return "MS111"  # (the lexer may read the first '=' of '==' as the definition's own)
    if text.startswith("||", offset) or text.startswith("&&", offset):
        return "MS112"
    if value == "!" and not text.startswith("!=", offset) and _operand_expected(text, offset):
        return "MS112"
    if value in (":=", "!") and "'calls'" in expected:
        return "MS114"
    line_end = text.find("\n", offset)
    line = text[line_start:line_end if line_end >= 0 else len(text)]
    if ":=" in line and _brace_depth(text, offset) == 0:
        return "MS114"
    return None


def _operand_expected(text: str, offset: int) -> bool:
    """Whether the text before ``offset`` ends where an operand should start."""
    before = text[:offset].rstrip()
    if not before or before[-1] in ":(,=[{<>|&+-*":
        return True
    word = re.search(r"(\w+)$", before)
    return bool(word) and word.group(1) in ("and", "or", "not", "then", "else", "when", "if",
                                            "in", "assert")


def _brace_depth(text: str, offset: int) -> int:
    """How many '{' are open at ``offset`` (comments and strings skipped)."""
    depth, i = 0, 0
    while i < offset:
        ch = text[i]
        if ch == "#" or text.startswith("//", i):
            nl = text.find("\n", i)
            i = offset if nl < 0 else nl
            continue
        if ch == '"':
            end = text.find('"', i + 1)
            i = offset if end < 0 else end + 1
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        i += 1
    return depth


def _describe(token: Token | None) -> str:
    if token is None:
        return "input"
    if token.type == "NAME":
        return f"name '{token}'"
    if token.type == "INT":
        return f"integer {_short(str(token))}"
    return f"'{_short(str(token))}'"


def _short(s: str) -> str:
    return s if len(s) <= 20 else s[:17] + "..."


# ---------------------------------------------------------------- tree to AST


def _opt(children: list, default=None):
    return [default if c is None else c for c in children]


class _Meta:
    __slots__ = ("line", "column", "end_line", "end_column", "empty")

    def __init__(self, line, column, end_line, end_column, empty=False):
        self.line, self.column, self.end_line, self.end_column = line, column, end_line, end_column
        self.empty = empty


_EMPTY = _Meta(None, None, None, None, True)


class _ToAst:
    """One method per grammar rule; each takes (meta, children) and returns an :mod:`ast`
    node with its span. :meth:`convert` walks the tree without recursion."""

    def __init__(self, filename: str):
        self.file = filename
        self.parens: set[int] = set()

    def _as_binder(self, e) -> ast.Binder | None:
        """Read ``x in S`` as a binder (the comprehension forms use the expression grammar)."""
        if id(e) in self.parens:
            return None
        return _as_binder(e)

    def convert(self, tree: Tree):
        # Positions are computed here from the tokens (cheaper than Lark's propagation):
        # a node spans from its first positioned child to its last.
        values: list = []
        spans: list = []
        stack: list[tuple[object, bool]] = [(tree, False)]
        while stack:
            node, done = stack.pop()
            if not isinstance(node, Tree):
                values.append(node)
                spans.append(_Meta(node.line, node.column, node.end_line, node.end_column)
                             if isinstance(node, Token) and node.line is not None else None)
            elif done:
                n = len(node.children)
                if n:
                    children = values[-n:]
                    del values[-n:]
                    child_spans = [m for m in spans[-n:] if m is not None]
                    del spans[-n:]
                else:
                    children, child_spans = [], []
                meta = _Meta(child_spans[0].line, child_spans[0].column,
                             child_spans[-1].end_line, child_spans[-1].end_column) \
                    if child_spans else _EMPTY
                method = getattr(self, node.data, None)
                values.append(method(meta, children) if method else
                              Tree(node.data, children, meta))
                spans.append(meta if child_spans else None)
            else:
                stack.append((node, True))
                stack.extend((child, False) for child in reversed(node.children))
        return values[0]

    def _sp(self, meta) -> Span | None:
        if getattr(meta, "empty", True):
            return None
        return Span(self.file, meta.line, meta.column, meta.end_line, meta.end_column)

    def _tok_span(self, tok: Token) -> Span:
        return Span(self.file, tok.line, tok.column, tok.end_line, tok.end_column)

    def _int(self, tok: Token) -> int:
        text = str(tok)
        if len(text) > 1000:
            raise SpecError([Diagnostic(
                "MS104",
                f"integer literal has {len(text)} digits; at most 1000 are allowed",
                Span(self.file, tok.line, tok.column, tok.line, tok.column + 9),
            )])
        return int(text)

    # -------- top level
    def start(self, meta, children):
        return Tree("decls", [c for c in children if c is not None and not isinstance(c, Token)])

    def system_decl(self, meta, c):
        return ast.SystemDecl(str(c[0]), span=self._sp(meta))

    def const_value(self, meta, c):
        return ast.ConstDecl(str(c[0]), None, None, c[1], span=self._sp(meta))

    def const_typed(self, meta, c):
        return ast.ConstDecl(str(c[0]), c[1], c[2], c[3], span=self._sp(meta))

    def type_decl(self, meta, c):
        return ast.TypeDecl(str(c[0]), c[1], span=self._sp(meta))

    def def_param(self, meta, c):
        return ast.DefParam(str(c[0]), c[1], span=self._sp(meta))

    def def_decl(self, meta, c):
        name, *rest = c
        result, body = rest[-2], rest[-1]
        params = tuple(p for p in rest[:-2] if p is not None)
        return ast.DefDecl(str(name), params, result, body, span=self._sp(meta))

    def field(self, meta, c):
        return ast.FieldDecl(str(c[0]), c[1], span=self._sp(meta))

    def message_decl(self, meta, c):
        return ast.MessageDecl(str(c[0]), tuple(f for f in c[1:] if f is not None),
                               span=self._sp(meta))

    # -------- types
    def named_type(self, meta, c):
        return ast.NamedType(str(c[0]), span=self._sp(meta))

    def bool_type(self, meta, c):
        return ast.BoolType(span=self._sp(meta))

    def int_type(self, meta, c):
        return ast.IntType(span=self._sp(meta))

    def str_type(self, meta, c):
        return ast.StrType(span=self._sp(meta))

    def low_int(self, meta, c):
        return ast.IntLit(self._int(c[0]), span=self._tok_span(c[0]))

    def low_name(self, meta, c):
        return ast.Name(str(c[0]), span=self._tok_span(c[0]))

    def low_neg(self, meta, c):
        return ast.IntLit(-self._int(c[0]), span=self._tok_span(c[0]))

    def range_type(self, meta, c):
        return ast.RangeType(c[0], c[1], span=self._sp(meta))

    def enum_type(self, meta, c):
        return ast.EnumType(tuple(str(t) for t in c), span=self._sp(meta))

    def record_type(self, meta, c):
        return ast.RecordType(tuple(c), span=self._sp(meta))

    def set_type(self, meta, c):
        return ast.SetType(c[0], span=self._sp(meta))

    def map_type(self, meta, c):
        return ast.MapType(c[0], c[1], span=self._sp(meta))

    def seq_type(self, meta, c):
        return ast.SeqType(c[0], c[1], span=self._sp(meta))

    def chan_type(self, meta, c):
        return ast.ChanType(c[0], span=self._sp(meta))

    def tuple_type(self, meta, c):
        return ast.TupleType(tuple(c), span=self._sp(meta))

    def union_type(self, meta, c):
        return ast.UnionType(tuple(c), span=self._sp(meta))

    # -------- architecture
    def context_decl(self, meta, c):
        name = str(c[0])
        out = [ast.ContextDecl(name, span=self._sp(meta))]
        for item in c[1:]:
            if isinstance(item, ast.ServiceDecl):
                out.append(_replace(item, context=name))
            elif isinstance(item, ast.DatastoreDecl):
                out.append(_replace(item, context=name))
            elif isinstance(item, ast.TopicDecl):
                out.append(_replace(item, context=name))
            elif isinstance(item, Tree) and item.data == "topics":
                out.extend(_replace(t, context=name) for t in item.children)
        return Tree("group", out)

    def crashable(self, meta, c):
        return "crashable"

    def replica(self, meta, c):
        return ast.IndexDecl(str(c[0]), c[1], span=self._sp(meta))

    def service_decl(self, meta, c):
        mods = [x for x in c if x == "crashable" and not isinstance(x, Token)]
        rest = c[len(mods):]
        name, replica, ctx = rest[0], rest[1], rest[2]
        items = [x for x in rest[3:] if x is not None and not isinstance(x, Token)]
        comps, vars_, actions, handlers, end_when = [], [], [], [], None
        for it in items:
            if isinstance(it, Tree) and it.data == "components":
                comps.extend(it.children)
            elif isinstance(it, ast.VarDecl):
                vars_.append(it)
            elif isinstance(it, ast.ActionDecl):
                actions.append(it)
            elif isinstance(it, ast.HandlerDecl):
                handlers.append(it)
            elif isinstance(it, Tree) and it.data == "end_when":
                end_when = it.children[0]
        return ast.ServiceDecl(
            str(name), replica, str(ctx) if ctx is not None else None, bool(mods), tuple(comps),
            tuple(vars_), tuple(actions), tuple(handlers), end_when, span=self._sp(meta),
        )

    def component_decl(self, meta, c):
        return Tree("components", [ast.ComponentDecl(str(t), span=self._tok_span(t)) for t in c])

    def service_end(self, meta, c):
        return Tree("end_when", [c[0]])

    def datastore_decl(self, meta, c):
        name, owner = c[0], c[1]
        vars_ = tuple(x for x in c[2:] if isinstance(x, ast.VarDecl))
        return ast.DatastoreDecl(
            str(name), str(owner) if owner is not None else None,
            self._tok_span(owner) if owner is not None else None, None, vars_, span=self._sp(meta),
        )

    def topic_decl(self, meta, c):
        return Tree("topics", [ast.TopicDecl(str(t), None, span=self._tok_span(t)) for t in c])

    def team_decl(self, meta, c):
        return ast.TeamDecl(str(c[0]), tuple((str(t), self._tok_span(t)) for t in c[1:]),
                            span=self._sp(meta))

    def rel_kind(self, meta, c):
        return str(c[0])

    def qname(self, meta, c):
        return ast.QName(str(c[0]), str(c[1]) if len(c) > 1 and c[1] is not None else None,
                         span=self._sp(meta))

    def relation_decl(self, meta, c):
        source, kind = c[0], c[1]
        weight_tok = c[-1]
        targets = tuple(x for x in c[2:-1] if isinstance(x, ast.QName))
        weight = self._int(weight_tok) if weight_tok is not None else None
        return ast.RelationDecl(kind, source, targets, weight, span=self._sp(meta))

    def ctx_side(self, meta, c):
        return ast.ContextSide(str(c[0]), tuple(str(t) for t in c[1:] if t is not None),
                               span=self._sp(meta))

    def ctx_arrow(self, meta, c):
        return str(c[0])

    def context_rel(self, meta, c):
        left, arrow, right = c[0], c[1], c[2]
        weight_tok = c[-1]
        kinds = tuple(str(t) for t in c[3:-1] if t is not None)
        weight = self._int(weight_tok) if weight_tok is not None else None
        return ast.ContextRelDecl(left, arrow, right, kinds, weight, span=self._sp(meta))

    # -------- behaviour declarations
    def durable(self, meta, c):
        return "durable"

    def init_value(self, meta, c):
        return ("value", c[0])

    def init_choice(self, meta, c):
        return ("choice", c[0])

    def var_decl(self, meta, c):
        durable = any(x == "durable" and not isinstance(x, Token) for x in c)
        rest = [x for x in c if not (x == "durable" and not isinstance(x, Token))]
        name, type_, init = rest[0], rest[1], rest[2]
        kind, value = init if init is not None else ("default", None)
        return ast.VarDecl(str(name), type_, value, kind, durable, span=self._sp(meta))

    def chan_index(self, meta, c):
        return ast.IndexDecl(str(c[0]), c[1], span=self._sp(meta))

    def kind_sync(self, meta, c):
        return ("sync", None)

    def kind_fifo(self, meta, c):
        return ("fifo", c[0])

    def kind_bag(self, meta, c):
        return ("bag", c[0])

    def kind_set(self, meta, c):
        return ("set", None)

    def kind_log(self, meta, c):
        return ("log", None)

    def chan_flag(self, meta, c):
        return str(c[0])

    def channel_decl(self, meta, c):
        name = c[0]
        indices = tuple(x for x in c[1:] if isinstance(x, ast.IndexDecl))
        i = 1 + len(indices)
        (kind, cap), payload = c[i], c[i + 1]
        flags = tuple(str(f) for f in c[i + 2:-1])
        return ast.ChannelDecl(str(name), indices, kind, cap, payload, flags, c[-1],
                               span=self._sp(meta))

    def binder(self, meta, c):
        return ast.Binder(tuple(str(t) for t in c[:-1]), c[-1], span=self._sp(meta))

    def binders(self, meta, c):
        return tuple(c)

    def params(self, meta, c):
        return tuple(x for x in c if x is not None)

    def action_decl(self, meta, c):
        name, params, guard, body = c
        return ast.ActionDecl(str(name), params or (), guard, body, span=self._sp(meta))

    def handler_label(self, meta, c):
        return (str(c[0]), c[1] or ())

    def handler_decl(self, meta, c):
        label, chan, pattern, guard, body = c
        name, params = label if label is not None else (None, ())
        return ast.HandlerDecl(name, params, chan, pattern, guard, body, span=self._sp(meta))

    def chan_ref(self, meta, c):
        return ast.ChanRef(str(c[0]), tuple(c[1:]), span=self._sp(meta))

    def pat_var(self, meta, c):
        return str(c[0])

    def pat_wild(self, meta, c):
        return "_"

    def pat_msg(self, meta, c):
        return ast.Pattern("msg", str(c[0]), tuple(v for v in c[1:] if v is not None),
                           span=self._sp(meta))

    def pat_tuple(self, meta, c):
        return ast.Pattern("tuple", None, tuple(v for v in c if v is not None), span=self._sp(meta))

    def pat_name(self, meta, c):
        return ast.Pattern("name", str(c[0]), (), span=self._sp(meta))

    def block(self, meta, c):
        return tuple(s for s in c if s is not None and not isinstance(s, Token))

    def lvalue(self, meta, c):
        return ast.LValue(str(c[0]), (), span=self._sp(meta))

    def lv_index(self, meta, c):
        base, idx = c
        return ast.LValue(base.name, base.path + (ast.UpdateStep(index=idx, span=idx.span),),
                          span=self._sp(meta))

    def lv_field(self, meta, c):
        base, name = c
        return ast.LValue(base.name, base.path + (ast.UpdateStep(field_name=str(name),
                                                                 span=self._tok_span(name)),),
                          span=self._sp(meta))

    def assign(self, meta, c):
        return ast.Assign(c[0], c[1], span=self._sp(meta))

    def payload_msg(self, meta, c):
        return ast.Payload("msg", str(c[0]), tuple(x for x in c[1:] if x is not None),
                           span=self._sp(meta))

    def payload_tuple(self, meta, c):
        return ast.Payload("tuple", None, tuple(x for x in c if x is not None), span=self._sp(meta))

    def payload_name(self, meta, c):
        return ast.Payload("name", str(c[0]), (), span=self._sp(meta))

    def send(self, meta, c):
        target, payload = c
        chan = ast.ChanRef(target.name, tuple(s.index for s in target.path), span=target.span)
        if any(s.index is None for s in target.path):
            raise SpecError([Diagnostic("MS100", "a channel is named as 'ch' or 'ch[i]', not with "
                                        "a field", target.span)])
        return ast.Send(chan, payload, span=self._sp(meta))

    def let_stmt(self, meta, c):
        return ast.Let(str(c[0]), c[1], span=self._sp(meta))

    def if_stmt(self, meta, c):
        orelse = c[-1]
        pairs = c[:-1]
        branches = tuple((pairs[i], pairs[i + 1]) for i in range(0, len(pairs), 2))
        return ast.If(branches, orelse, span=self._sp(meta))

    def choose_stmt(self, meta, c):
        return ast.Choose(c[0], c[1], c[2], span=self._sp(meta))

    def assert_stmt(self, meta, c):
        msg = str(c[1])[1:-1] if c[1] is not None else None
        return ast.Assert(c[0], msg, span=self._sp(meta))

    def skip_stmt(self, meta, c):
        return ast.Skip(span=self._sp(meta))

    # -------- processes
    def proc_param(self, meta, c):
        return ast.FieldDecl(str(c[0]), c[1], span=self._sp(meta))

    def process_decl(self, meta, c):
        name = c[0]
        body, service = c[-1], c[-2]
        params = tuple(p for p in c[1:-2] if p is not None)
        return ast.ProcessDecl(str(name), params, str(service) if service is not None else None,
                               body, span=self._sp(meta))

    def init_decl(self, meta, c):
        return ast.InitDecl(c[0], span=self._sp(meta))

    def p_par(self, meta, c):
        return c[0] if len(c) == 1 else ast.PPar(tuple(c), span=self._sp(meta))

    def p_choice(self, meta, c):
        return c[0] if len(c) == 1 else ast.PChoice(tuple(c), span=self._sp(meta))

    def p_prefix(self, meta, c):
        return ast.PPrefix(c[0], c[1], span=self._sp(meta))

    def p_new(self, meta, c):
        return ast.PNew(str(c[0]), c[1], c[2], span=self._sp(meta))

    def p_if(self, meta, c):
        return ast.PIf(c[0], c[1], c[2], span=self._sp(meta))

    def p_match(self, meta, c):
        return ast.PMatch(c[0], c[1], span=self._sp(meta))

    def p_repl(self, meta, c):
        bound, prefix, body = c
        if not isinstance(prefix, ast.PIn):
            raise SpecError([Diagnostic(
                "MS218", "replication '![k]' must start with an input 'c?(x)'", prefix.span)])
        return ast.PRepl(bound, prefix, body, span=self._sp(meta))

    def p_nil(self, meta, c):
        tok = c[0]
        if str(tok) != "0":
            raise SpecError([Diagnostic(
                "MS100", f"'{_short(str(tok))}' is not a process; the inactive process is '0'",
                self._tok_span(tok), expected=("'0'", "a process name", "a prefix"))])
        return ast.PNil(span=self._sp(meta))

    def p_call(self, meta, c):
        return ast.PCall(str(c[0]), tuple(x for x in c[1:] if x is not None), span=self._sp(meta))

    def pre_tau(self, meta, c):
        return ast.PTau(span=self._sp(meta))

    def pre_out(self, meta, c):
        return ast.POut(c[0], c[1], span=self._sp(meta))

    def pre_in(self, meta, c):
        return ast.PIn(c[0], c[1], span=self._sp(meta))

    # -------- properties
    def deadlock_decl(self, meta, c):
        return ast.DeadlockDecl(span=self._sp(meta))

    def invariant_decl(self, meta, c):
        return ast.PropertyDecl("invariant", str(c[0]), c[1], span=self._sp(meta))

    def reachable_decl(self, meta, c):
        return ast.PropertyDecl("reachable", str(c[0]), c[1], span=self._sp(meta))

    def leadsto_decl(self, meta, c):
        return ast.PropertyDecl("leadsto", str(c[0]), c[1], c[2], span=self._sp(meta))

    def eventually_decl(self, meta, c):
        return ast.PropertyDecl("eventually", str(c[0]), c[1], span=self._sp(meta))

    def always_eventually_decl(self, meta, c):
        return ast.PropertyDecl("always_eventually", str(c[0]), c[1], span=self._sp(meta))

    def constraint_decl(self, meta, c):
        return ast.PropertyDecl("constraint", str(c[0]) if c[0] is not None else None, c[1],
                                span=self._sp(meta))

    def fair_kind(self, meta, c):
        return str(c[0])

    def step_ref(self, meta, c):
        return ast.StepRef(str(c[0]), str(c[1]) if len(c) > 1 and c[1] is not None else None,
                           span=self._sp(meta))

    def fair_item(self, meta, c):
        return (c[0], c[1])

    def fairness_decl(self, meta, c):
        return ast.FairnessDecl(tuple(c), span=self._sp(meta))

    def progress_decl(self, meta, c):
        return ast.ProgressDecl(tuple(c), span=self._sp(meta))

    def prove_decl(self, meta, c):
        return ast.ProveDecl(str(c[0]), tuple(str(t) for t in c[1:] if t is not None),
                             span=self._sp(meta))

    def end_decl(self, meta, c):
        return ast.EndDecl(tuple(str(t) for t in c), span=self._sp(meta))

    # -------- expressions
    def implies_op(self, meta, c):
        return ast.Binary("=>", c[0], c[1], span=self._sp(meta))

    def equiv_op(self, meta, c):
        return ast.Binary("<=>", c[0], c[1], span=self._sp(meta))

    def or_op(self, meta, c):
        return ast.BoolOp("or", tuple(c), span=self._sp(meta))

    def and_op(self, meta, c):
        return ast.BoolOp("and", tuple(c), span=self._sp(meta))

    def not_op(self, meta, c):
        return ast.Unary("not", c[0], span=self._sp(meta))

    def quant_kind(self, meta, c):
        return str(c[0])

    def quant(self, meta, c):
        return ast.Quant(c[0], c[1], c[2], span=self._sp(meta))

    def ite(self, meta, c):
        return ast.Ite(c[0], c[1], c[2], span=self._sp(meta))

    def cmp_sym(self, meta, c):
        return str(c[0])

    sum_sym = prod_sym = cmp_sym

    def cmp_op(self, meta, c):
        return ast.Binary(c[1], c[0], c[2], span=self._sp(meta))

    def range_op(self, meta, c):
        return ast.Binary("..", c[0], c[1], span=self._sp(meta))

    def bin_op(self, meta, c):
        if len(c) > 2 * MAX_DEPTH:
            raise SpecError([Diagnostic(
                "MS103", f"an operator chain of {len(c) // 2 + 1} operands nests deeper than "
                f"{MAX_DEPTH} levels; split it into definitions", self._sp(meta))])
        left = c[0]
        for i in range(1, len(c), 2):
            right = c[i + 1]
            span = None
            if left.span and right.span:
                span = Span(self.file, left.span.line, left.span.column, right.span.end_line,
                            right.span.end_column)
            left = ast.Binary(c[i], left, right, span=span)
        return left

    def neg_op(self, meta, c):
        return ast.Unary("-", c[0], span=self._sp(meta))

    def index(self, meta, c):
        return ast.Index(c[0], c[1], span=self._sp(meta))

    def field_op(self, meta, c):
        return ast.FieldAccess(c[0], str(c[1]), span=self._sp(meta))

    def upd_index(self, meta, c):
        return ast.UpdateStep(index=c[0], span=self._sp(meta))

    def upd_field(self, meta, c):
        return ast.UpdateStep(field_name=str(c[0]), span=self._sp(meta))

    def upd_path(self, meta, c):
        return tuple(c)

    def update(self, meta, c):
        return ast.Update(c[0], c[1], c[2], span=self._sp(meta))

    def int_lit(self, meta, c):
        return ast.IntLit(self._int(c[0]), span=self._sp(meta))

    def str_lit(self, meta, c):
        return ast.StrLit(str(c[0])[1:-1], span=self._sp(meta))

    def true_lit(self, meta, c):
        return ast.BoolLit(True, span=self._sp(meta))

    def false_lit(self, meta, c):
        return ast.BoolLit(False, span=self._sp(meta))

    def name(self, meta, c):
        return ast.Name(str(c[0]), span=self._sp(meta))

    def call(self, meta, c):
        return ast.Call(str(c[0]), tuple(x for x in c[1:] if x is not None), span=self._sp(meta))

    def paren(self, meta, c):
        # Remember that the user wrote parentheses: `{flag: (x in S)}` is a record, not a map.
        self.parens.add(id(c[0]))
        return c[0]

    def tuple_lit(self, meta, c):
        return ast.TupleLit(tuple(c), span=self._sp(meta))

    def set_item(self, meta, c):
        return (c[0], c[1])

    def brace_lit(self, meta, c):
        items = [x for x in c if x is not None]
        span = self._sp(meta)
        if not items:
            return ast.SetLit((), span=span)
        if all(rhs is None for _, rhs in items):
            return ast.SetLit(tuple(lhs for lhs, _ in items), span=span)
        first_lhs, first_rhs = items[0]
        binder_form = self._as_binder(first_rhs)
        if (all(rhs is not None and isinstance(lhs, ast.Name) for lhs, rhs in items)
                and not (len(items) == 1 and binder_form is not None)
                and not (len(items) == 1 and self._as_binder(first_lhs) is not None)):
            return ast.RecordLit(tuple((lhs.id, rhs) for lhs, rhs in items), span=span)
        if len(items) == 1 and self._as_binder(first_lhs) is not None and first_rhs is not None:
            b = self._as_binder(first_lhs)
            if len(b.names) == 1:
                return ast.SetFilter(b.names[0], b.domain, first_rhs, span=span)
        binders = [binder_form] + [self._as_binder(lhs) if rhs is None else None for lhs, rhs in items[1:]]
        if first_rhs is not None and all(b is not None for b in binders):
            return ast.SetMap(first_lhs, tuple(binders), span=span)
        raise SpecError([Diagnostic(
            "MS100",
            "cannot read this brace expression: write a set {a, b}, a filter {x in S : p}, "
            "a map {f(x) : x in S} or a record {field: value}",
            span,
        )])

    def empty_set(self, meta, c):
        return ast.SetLit((), span=self._sp(meta))

    def empty_seq(self, meta, c):
        return ast.SeqLit((), span=self._sp(meta))

    def seq_lit(self, meta, c):
        return ast.SeqLit(tuple(x for x in c if x is not None), span=self._sp(meta))

    def map_lit(self, meta, c):
        b = self._as_binder(c[0])
        if b is None or len(b.names) != 1:
            raise SpecError([Diagnostic(
                "MS100", "a map literal is written [x in S |-> e]", self._sp(meta))])
        return ast.MapLit(b.names[0], b.domain, c[1], span=self._sp(meta))


def _as_binder(e) -> ast.Binder | None:
    """Read ``x in S`` as a binder (the comprehension forms use the expression grammar)."""
    if isinstance(e, ast.Binary) and e.op == "in" and isinstance(e.left, ast.Name):
        return ast.Binder((e.left.id,), e.right, span=e.span)
    return None


def _replace(node, **changes):
    import dataclasses

    return dataclasses.replace(node, **changes)


def _flatten(items):
    for it in items:
        if isinstance(it, Tree) and it.data in ("group", "topics", "decls"):
            yield from _flatten(it.children)
        else:
            yield it

