"""What the templates of one storyboard may cost: size, nesting, work and time.

``storyboard plan`` runs in CI on a colleague's pull request, so a template is untrusted
code. Jinja2's sandbox stops it from escaping; the bounds here stop it from exhausting
the machine, and each is one clear problem at the template's line:

* **size** — every value a template makes, by any route (``~``, ``+``, ``*``, ``%``,
  ``**``, a method call, a filter, ``format``, a block's or a whole template's output,
  the items a ``map`` yields), is at most ``MAX_VALUE`` characters (items for a list;
  a number has at most ``MAX_DIGITS`` digits). Operations whose result can be far larger
  than what they are given — repeating, padding, joining, replacing, formatting
  (``template_sizes.GROWERS``) — are sized *before* they run; every other result is
  measured after. One render makes at most ``MAX_MADE`` characters in all, so a loop
  cannot pile up values that are each small.
* **source** — a template's text and each included file are at most ``MAX_SOURCE``
  characters; blocks nest at most ``MAX_BLOCKS`` deep, brackets ``MAX_BRACKETS``, and
  an expression's tree ``MAX_EXPRESSION_DEPTH``: Jinja2's parser and code generator,
  and Python's compiler after them, recurse once per level.
* **work** — one render runs at most ``MAX_STEPS`` loop iterations, calls and filtered
  items: a nested loop over ``range(99999)`` stops in a fraction of a second.
* **time** — all templates of one storyboard share one deadline, ``RENDER_SECONDS``,
  however many variants it has. Checked at every step, so it holds in any thread.

There is no constant folding (``optimized=False``, a finalize that needs the
environment): an expression is evaluated only when rendered, under these bounds, so
``{{ (1.5)[0] or 1 }}`` fails at its line instead of inside the compiler.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from jinja2 import nodes
from jinja2.exceptions import TemplateSyntaxError
from jinja2.nodes import EvalContext
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedFormatter
from jinja2.utils import pass_environment, pass_eval_context
from jinja2.visitor import NodeTransformer

from storyboard.compile.template_sizes import (
    FILTER_GROWERS,
    MAX_VALUE,
    METHOD_GROWERS,
    Exhausted,
    binop_estimate,
    check_digits,
    check_growth,
    too_large,
    weight,
)

MAX_MADE = 20 * MAX_VALUE  # characters one render may make in all
MAX_STEPS = 100_000  # loop iterations, calls and filtered items in one render
RENDER_SECONDS = 20.0  # all templates of one storyboard, all variants together
MAX_SOURCE = 200_000  # characters in one template or included file
MAX_BLOCKS = 16  # {% for %} / {% if %} / … nesting (Python allows 20 nested loops)
MAX_BRACKETS = 32  # ( [ { nesting inside one expression
MAX_EXPRESSION_DEPTH = 48  # levels of one expression's tree (a|f|f|…, a.b.c…, 1+1+…)
_CLOCK_EVERY = 1024  # steps between two looks at the clock

_COUNTED = "_storyboard_counted"  # the filter every {% for %} iterates through
_JOINED = "_storyboard_joined"  # the filter every `~` becomes


# ------------------------------------------------------------------------------ budget


@dataclass
class Budget:
    """What the templates of one storyboard may still spend: one deadline for them all,
    and for each render a number of steps and of characters made."""

    seconds: float | None = None  # RENDER_SECONDS
    clock: Callable[[], float] = time.monotonic
    deadline: float | None = None
    steps: int = 0
    made: int = 0
    _next_look: int = field(default=_CLOCK_EVERY, repr=False)

    def start(self) -> None:
        """Before each compile or render: the deadline starts with the first one."""
        now = self.clock()
        if self.deadline is None:
            self.seconds = RENDER_SECONDS if self.seconds is None else self.seconds
            self.deadline = now + self.seconds
        self.steps = self.made = 0
        self._next_look = _CLOCK_EVERY
        self._look(now)

    @property
    def expired(self) -> bool:
        return self.deadline is not None and self.clock() > self.deadline

    def _look(self, now: float) -> None:
        if self.deadline is not None and now > self.deadline:
            raise Exhausted(f"the storyboard's templates took over {self.seconds or 0:g} s to "
                            "render in all (a runaway loop?); simplify the templates")

    def step(self, count: int = 1) -> None:
        self.steps += count
        if self.steps > MAX_STEPS:
            raise Exhausted(f"the template runs over {MAX_STEPS:,} loop iterations and "
                            "calls (a runaway loop?); loop over fewer items")
        if self.steps >= self._next_look:
            self._next_look = self.steps + _CLOCK_EVERY
            self._look(self.clock())

    def made_value(self, value: Any, what: str = "a value") -> Any:
        """``value``, once it is known to fit (and counted toward this render's total)."""
        size = weight(value)
        if size > MAX_VALUE:
            raise too_large(what, size)
        self.made += size
        if self.made > MAX_MADE:
            raise Exhausted(f"the template makes over {MAX_MADE:,} characters in all; "
                            "build less text in loops")
        return value

    def bounded_items(self, items: Iterator[Any]) -> Iterator[Any]:
        """The items of a generator (``map``, ``select``, …), each counted as it comes."""
        total = 0
        for item in items:
            self.step()
            total += weight(item)
            if total > MAX_VALUE:
                raise too_large("the items of a filter", total)
            yield item


# ------------------------------------------------------------------------- environment


class _BoundedFormatter(SandboxedFormatter):
    """``str.format``: no field wider than the bound, and the whole result within it."""

    def __init__(self, env: BoundedEnvironment) -> None:
        super().__init__(env)
        self._made = 0

    def format_field(self, value: Any, format_spec: str) -> Any:
        for digits in re.findall(r"\d+", format_spec):
            if len(digits) > 7 or int(digits) > MAX_VALUE:
                raise too_large(f"a format field of width {digits[:12]}")
        piece = super().format_field(value, format_spec)
        self._made += len(piece)
        if self._made > MAX_VALUE:
            raise too_large("the result of format()", self._made)
        return piece


class _Bounder(NodeTransformer):
    """Routes what Jinja2 would run unseen through the bounds: each ``{% for %}``
    iterates through a counting filter, each ``a ~ b`` is a sized join."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = nodes.Filter(node.iter, _COUNTED, [], [], None, None,
                                 lineno=node.iter.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return nodes.Filter(nodes.Tuple(node.nodes, "load", lineno=node.lineno), _JOINED,
                            [], [], None, None, lineno=node.lineno)


def _check_nesting(env: BoundedEnvironment, source: str, name: str | None,
                   filename: str | None) -> None:
    """Blocks and brackets nest within bounds, found from tokens before the parser
    recurses through them."""
    blocks = brackets = 0
    tag: str | None = None
    expecting_tag = assigns = False
    for token in env._tokenize(source, name, filename):
        kind = token.type
        if kind in ("lparen", "lbracket", "lbrace"):
            brackets += 1
            if brackets > MAX_BRACKETS:
                raise TemplateSyntaxError(
                    f"brackets nest more than {MAX_BRACKETS} deep; split the expression "
                    "with {% set %}", token.lineno, name, filename)
        elif kind in ("rparen", "rbracket", "rbrace"):
            brackets -= 1
        elif kind == "block_begin":
            expecting_tag, tag, assigns = True, None, False
        elif kind == "name" and expecting_tag:
            expecting_tag, tag = False, str(token.value)
            if tag.startswith("end"):
                blocks -= 1
        elif kind == "assign" and tag == "set":
            assigns = True
        elif kind == "block_end" and tag is not None:
            opens = tag in _BLOCK_TAGS or (tag == "set" and not assigns)
            if opens:
                blocks += 1
                if blocks > MAX_BLOCKS:
                    raise TemplateSyntaxError(
                        f"blocks nest more than {MAX_BLOCKS} deep; move the inner part "
                        "into a macro or another template", token.lineno, name, filename)
            tag = None


_BLOCK_TAGS = frozenset({"for", "if", "macro", "call", "filter", "block", "with",
                         "autoescape"})


def _check_depth(tree: nodes.Node, name: str | None, filename: str | None) -> None:
    """An expression's tree is at most ``MAX_EXPRESSION_DEPTH`` deep (walked without
    recursion: the tree may be deeper than Python's stack)."""
    pending: list[tuple[nodes.Node, int]] = [(tree, 0)]
    while pending:
        node, depth = pending.pop()
        depth = depth + 1 if isinstance(node, nodes.Expr) else 0
        if depth > MAX_EXPRESSION_DEPTH:
            raise TemplateSyntaxError(
                f"an expression nests more than {MAX_EXPRESSION_DEPTH} levels deep; split "
                "it with {% set %}", node.lineno, name, filename)
        pending.extend((child, depth) for child in node.iter_child_nodes())


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox (immutable: a template cannot change a list other templates read, and
    nothing random: a storyboard compiles to the same requests every time), bounded as
    the module docstring says."""

    intercepted_binops = frozenset({"+", "*", "%", "**"})

    def __init__(self, budget: Budget | None = None, **options: Any) -> None:
        super().__init__(finalize=_finalize, optimized=False, **options)
        self.budget = budget or Budget()
        del self.filters["random"]
        del self.globals["lipsum"]
        for name, function in list(self.filters.items()):
            self.filters[name] = _bounded_filter(name, function)
        self.filters[_COUNTED] = _counted
        self.filters[_JOINED] = _joined
        self.concat = self._concat  # type: ignore[method-assign]

    # -- source

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        if len(source) > MAX_SOURCE:
            raise TemplateSyntaxError(
                f"the template is {len(source):,} characters, over the limit of "
                f"{MAX_SOURCE:,}; split it into smaller includes", 1, name, filename)
        _check_nesting(self, source, name, filename)
        try:
            tree = super()._parse(source, name, filename)
        except RecursionError:
            raise TemplateSyntaxError("the template nests too deeply to read; flatten it",
                                      1, name, filename) from None
        _check_depth(tree, name, filename)
        bounded = _Bounder().visit(tree)
        assert isinstance(bounded, nodes.Template)
        bounded.set_environment(self)
        return bounded

    # -- what runs

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        self.budget.step()
        check_digits(operator, left, right)
        check_growth(f"'{operator}'", binop_estimate(operator, left, right))
        return self.budget.made_value(super().call_binop(context, operator, left, right),
                                      f"the result of '{operator}'")

    def call(__self, __context: Any, __obj: Any,
             *args: Any, **kwargs: Any) -> Any:
        __self.budget.step()
        owner = getattr(__obj, "__self__", None)
        name = getattr(__obj, "__name__", "")
        if isinstance(owner, str | bytes | int) and name in METHOD_GROWERS:
            check_growth(f".{name}()", METHOD_GROWERS[name](owner, *args, **kwargs))
        result = super().call(__context, __obj, *args, **kwargs)
        if isinstance(result, Iterator):
            return __self.budget.bounded_items(result)
        return __self.budget.made_value(result, f"the result of {name or 'a call'}()")

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        text: str = value.__self__
        as_map = value.__name__ == "format_map"

        def bounded(*args: Any, **kwargs: Any) -> str:
            if as_map:
                if kwargs or len(args) != 1:
                    return wrapped(*args, **kwargs)  # Jinja2's own error
                kwargs, args = args[0], ()
            return type(text)(_BoundedFormatter(self).vformat(text, args, kwargs))

        return bounded

    def _concat(self, pieces: Iterable[str]) -> str:
        """A block's or a template's output, stopped as soon as it passes the bound."""
        parts = []
        total = 0
        for piece in pieces:
            total += len(piece)
            if total > MAX_VALUE:
                raise too_large("the template's output", total)
            parts.append(piece)
        return "".join(parts)


_SIZED = (str, bytes, list, tuple, dict, set, frozenset, range)


def _bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """``function``, sized before it runs when it is a grower and measured after
    otherwise; it takes the environment (for the budget) or keeps what it took."""
    grower = FILTER_GROWERS.get(name)
    pass_arg = getattr(function, "jinja_pass_arg", None)

    def run(budget: Budget, passed: tuple[Any, ...], values: tuple[Any, ...],
            kwargs: dict[str, Any]) -> Any:
        if values and isinstance(values[0], Iterator):  # bounded by whoever made it
            values = (tuple(values[0]), *values[1:])
        budget.step(len(values[0]) if values and isinstance(values[0], _SIZED) else 1)
        if grower is not None and values:
            check_growth(f"the {name} filter", grower(*values, **kwargs))
        result = function(*passed, *values, **kwargs)
        if isinstance(result, Iterator):
            return budget.bounded_items(result)
        return budget.made_value(result, f"the result of the {name} filter")

    def bounded(first: Any, *values: Any, **kwargs: Any) -> Any:
        """``first`` is what Jinja2 passes: the environment, a context or an eval context."""
        env = first if isinstance(first, BoundedEnvironment) else first.environment
        passed = () if pass_arg is None else (first,)
        return run(env.budget, passed, values, kwargs)

    if pass_arg is None:
        pass_environment(bounded)  # every bounded filter needs the budget
    else:
        bounded.jinja_pass_arg = pass_arg  # type: ignore[attr-defined]
    bounded.__name__ = getattr(function, "__name__", name)
    bounded.__doc__ = function.__doc__
    return bounded


@pass_environment
def _counted(environment: BoundedEnvironment, items: Iterable[Any]) -> Iterator[Any]:
    for item in items:
        environment.budget.step()
        yield item


@pass_environment
def _joined(environment: BoundedEnvironment, operands: tuple[Any, ...]) -> str:
    check_growth("'~'", sum(weight(o) for o in operands))
    joined = "".join(str(o) for o in operands)
    environment.budget.made_value(joined, "'~'")
    return joined


class TemplateRenderError(Exception):
    """A value a template must not print; reported as a problem at the template."""


@pass_eval_context
def _finalize(eval_ctx: EvalContext, value: Any) -> Any:
    """What ``{{ }}`` may print into a paid prompt: no ``None``, no Python list or dict.
    Taking the evaluation context keeps Jinja2 from evaluating output at compile time."""
    budget = eval_ctx.environment.budget  # type: ignore[attr-defined]
    if type(value) is str:  # nearly always: one check, then done
        return budget.made_value(value, "a printed value")
    if value is None:
        raise TemplateRenderError("an expression rendered None (an empty value?); give it "
                                  "a value, or use | default('…')")
    if isinstance(value, list | tuple | dict):
        kind = "a mapping" if isinstance(value, dict) else "a list"
        raise TemplateRenderError(f"an expression rendered {kind}, which would print as "
                                  "Python; pick an item, or use | join(', ')")
    return budget.made_value(value, "a printed value")


__all__ = ["MAX_SOURCE", "BoundedEnvironment", "Budget", "Exhausted", "TemplateRenderError"]
