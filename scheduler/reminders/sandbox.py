"""The sandbox admins' message templates run in: Jinja's, with bounds on what one render may
cost, so that a template like ``{{ 9**9**9 }}`` or ``{{ "x" * 2000000000 }}`` fails (and the
message is marked failed) instead of holding a worker.

Bounded: exponents, repetition of strings and lists, ``range`` lengths, the output's size and
the render's wall time (checked at every call, attribute lookup and ``range``, which every
loop that could run long goes through).
"""

from __future__ import annotations

import math
import operator
import threading
import time
from typing import Any

from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment

#: Characters one part of one message may have.
MAX_OUTPUT = 100_000
#: Seconds one render may take.
MAX_SECONDS = 0.5
MAX_EXPONENT = 64
MAX_RANGE = 1_000


class TooCostly(TemplateError):
    pass


class BoundedSandbox(SandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals["range"] = self._range
        # One environment serves every worker thread: each render keeps its own deadline.
        self._renders = threading.local()

    def _check_time(self) -> None:
        deadline = getattr(self._renders, "deadline", None)
        if deadline is not None and time.monotonic() > deadline:
            raise TooCostly(f"the template took over {MAX_SECONDS:g} s to render")

    def _range(self, *args: int) -> range:
        self._check_time()
        found = range(*args)
        if len(found) > MAX_RANGE:
            raise TooCostly(f"range() of more than {MAX_RANGE} numbers")
        return found

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        self._check_time()
        if operator_name == "**":
            if isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
                raise TooCostly(f"an exponent over {MAX_EXPONENT}")
            numbers = isinstance(left, int | float) and isinstance(right, int | float)
            if numbers and abs(left) > 1 and right > 0 and right * math.log10(abs(left)) > 300:
                raise TooCostly("a power of more than 300 digits")
            return operator.pow(left, right)
        for sequence, times in ((left, right), (right, left)):
            repeated = isinstance(sequence, str | list | tuple) and isinstance(times, int)
            if repeated and len(sequence) * times > MAX_OUTPUT:
                raise TooCostly(f"repetition into more than {MAX_OUTPUT} characters")
        return operator.mul(left, right)

    def getattr(self, obj: Any, attribute: str) -> Any:
        self._check_time()
        return super().getattr(obj, attribute)

    def call(self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        self._check_time()
        return super().call(__context, __obj, *args, **kwargs)

    def render_bounded(self, template: Any, context: dict[str, Any]) -> str:
        """Render ``template`` within the bounds; ``TooCostly`` when it would exceed one."""
        self._renders.deadline = time.monotonic() + MAX_SECONDS
        try:
            parts: list[str] = []
            size = 0
            for chunk in template.generate(**context):
                size += len(chunk)
                if size > MAX_OUTPUT:
                    raise TooCostly(f"the message would be over {MAX_OUTPUT} characters")
                parts.append(chunk)
                self._check_time()
            return "".join(parts)
        finally:
            self._renders.deadline = None
