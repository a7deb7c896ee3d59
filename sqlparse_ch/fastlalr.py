"""A leaner LALR driver loop over lark's own parse table and callbacks.

lark's `ParserState.feed_token` is generic: every reduction slices the value stack,
calls the rule's callback and looks the callback up by Rule object, even for the
chain rules of a precedence ladder (`?add_expr: mul_expr`), which make up most
reductions of an expression (an operand climbs ~11 levels). This driver precomputes,
per rule, (length, origin name, callback, is-chain-rule) and handles a chain-rule
reduction as a pure state-stack step (the value is the child itself, exactly what
lark's ExpandSingleChild returns), and memoises where a run of chain reductions ends.
On the lexer side, the per-state "is this IDENT a keyword?" check (a regex fullmatch
per word) becomes a dict lookup. The parse table, lexer, error objects and interactive
parser are lark's, unchanged; only the loops are tighter.

`install(lark_parser)` patches one Lark instance; if lark's internals are not the
expected shape it does nothing and lark's own loop runs.
"""
from __future__ import annotations

from lark.exceptions import UnexpectedToken

try:  # lark internals (1.2 / 1.3); absent or different -> install() is a no-op
    from lark.lexer import UnlessCallback
    from lark.parse_tree_builder import ExpandSingleChild
    from lark.parsers.lalr_analysis import Shift
    from lark.parsers.lalr_interactive_parser import InteractiveParser
    from lark.parsers.lalr_parser import _Parser
    from lark.parsers.lalr_parser_state import ParseConf, ParserState
except ImportError:  # pragma: no cover - other lark versions
    _Parser = None

_RULE_INFO: dict = {}  # id(Rule) -> (size, origin name, callback, is chain rule)
_CHAIN_MEMO: dict = {}  # (state below, top state, lookahead) -> top after chain reductions
_KEEP_ALIVE: list = []  # the Rule objects whose ids key _RULE_INFO

if _Parser is not None:

    class FastParserState(ParserState):
        __slots__ = ()

        def feed_token(self, token, is_end=False):
            state_stack = self.state_stack
            value_stack = self.value_stack
            states = self.parse_conf.states
            info = _RULE_INFO
            ttype = token.type
            while True:
                state = state_stack[-1]
                try:
                    action, arg = states[state][ttype]
                except KeyError:
                    expected = {s for s in states[state].keys() if s.isupper()}
                    raise UnexpectedToken(token, expected, state=self, interactive_parser=None)
                if action is Shift:
                    state_stack.append(arg)
                    value_stack.append(token)
                    return None
                entry = info.get(id(arg))
                if entry is None:
                    entry = _rule_info(arg, self.parse_conf.callbacks)
                size, origin, callback, chain = entry
                if chain:
                    # A run of chain reductions only replaces the top state and depends
                    # only on (state below, top, lookahead): memoise where it ends.
                    below = state_stack[-2]
                    key = (below, state, ttype)
                    top = _CHAIN_MEMO.get(key)
                    if top is None:
                        top = _CHAIN_MEMO[key] = _run_chain(states, below, origin, ttype)
                    state_stack[-1] = top
                else:
                    if size:
                        children = value_stack[-size:]
                        del state_stack[-size:]
                        del value_stack[-size:]
                    else:
                        children = []
                    value_stack.append(callback(children))
                    state_stack.append(states[state_stack[-1]][origin][1])
                if is_end and state_stack[-1] == self.parse_conf.end_state:
                    return value_stack[-1]

    def _rule_info(rule, callbacks):
        callback = callbacks[rule]
        size = len(rule.expansion)
        entry = (size, str(rule.origin.name), callback,
                 size == 1 and type(callback) is ExpandSingleChild)
        _RULE_INFO[id(rule)] = entry
        _KEEP_ALIVE.append(rule)
        return entry

    def _run_chain(states, below, origin, ttype):
        while True:
            top = states[below][origin][1]
            action = states[top].get(ttype)
            if action is None or action[0] is Shift:
                return top
            rule = action[1]
            entry = _RULE_INFO.get(id(rule))
            if entry is None:
                return top  # not seen yet: let the main loop compute it
            size, origin, _callback, chain = entry
            if not chain:
                return top

    class FastParser(_Parser):
        def parse(self, lexer, start, value_stack=None, state_stack=None, start_interactive=False):
            parse_conf = ParseConf(self.parse_table, self.callbacks, start)
            parser_state = FastParserState(parse_conf, lexer, state_stack, value_stack)
            if start_interactive:
                return InteractiveParser(self, parser_state, parser_state.lexer)
            return self.parse_from_state(parser_state)


class _KeywordLookup:
    """Drop-in for lark's UnlessCallback when every keyword is a case-insensitive string."""

    __slots__ = ("words",)

    def __init__(self, scanner):
        self.words = {}
        for t in scanner.terminals:
            if t.pattern.type != "str" or "i" not in t.pattern.flags:
                raise ValueError(t.name)
            self.words[t.pattern.value.lower()] = t.name

    def __call__(self, t):
        kind = self.words.get(t.value.lower())
        if kind is not None:
            t.type = kind
        return t


def _speed_up_lexers(parser) -> None:
    lexer = getattr(parser.parser, "lexer", None)
    lexer = getattr(lexer, "lexer", lexer)  # unwrap PostLexConnector
    for basic in {id(x): x for x in getattr(lexer, "lexers", {}).values()}.values():
        original = basic._build_scanner

        def build(basic=basic, original=original):
            scanner = original()
            callback = basic.callback.get("IDENT")
            if type(callback) is UnlessCallback:
                try:
                    basic.callback["IDENT"] = _KeywordLookup(callback.scanner)
                except ValueError:
                    pass
            return scanner

        basic._build_scanner = build


def install(parser) -> bool:
    """Switch a built Lark(parser='lalr') instance to the fast loop. Returns whether it did."""
    if _Parser is None:
        return False
    try:
        inner = parser.parser.parser.parser
    except AttributeError:
        return False
    if type(inner) is not _Parser:
        return False
    callbacks = inner.callbacks
    if any(isinstance(k, str) for k in callbacks):  # terminal callbacks: keep lark's loop
        return False
    inner.__class__ = FastParser  # rule facts are computed lazily, on first use
    _speed_up_lexers(parser)
    return True
