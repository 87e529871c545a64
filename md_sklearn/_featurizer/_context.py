"""Errors that say where they happened: which group, member and metric."""

from __future__ import annotations

import contextlib

__all__ = ["context", "per_member"]


def _with_context(error: Exception, where: str) -> Exception:
    """The same kind of error, its message prefixed with where it happened."""
    message = f"{where}: {error}"
    try:
        return type(error)(message)
    except Exception:  # an exception type whose constructor takes other arguments
        return RuntimeError(message)


@contextlib.contextmanager
def context(where: str):
    """Re-raise any error inside with ``where`` (group, member, metric) before its message."""
    try:
        yield
    except Exception as error:
        raise _with_context(error, where) from error


def per_member(task, models, metric, call):
    """``call(index, model)`` for each member, errors naming the group, member and metric."""
    results = []
    for index, model in enumerate(models):
        with context(f"group {task.label!r}, {task.group.describe_member(index)}, {metric}"):
            results.append(call(index, model))
    return results
