"""How the window words an error: a user's mistake in one sentence, an internal bug with its type."""

from __future__ import annotations

from engine.errors import UserError


def describe_error(exc: BaseException) -> str:
    """One line for the window. UserError is the user's to fix; anything else is our bug."""
    if isinstance(exc, UserError):
        return str(exc)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"Internal error ({type(exc).__name__}){': ' + text if text else ''} — details are in the log."
