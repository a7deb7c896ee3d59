"""The sqlparse_ch AST: frozen slots dataclasses, equality ignores `span`."""
from .base import Node, Span
from .expr import *  # noqa: F401,F403
from .expr import Expr
from .query import *  # noqa: F401,F403
from .query import Query
from .ddl import *  # noqa: F401,F403
