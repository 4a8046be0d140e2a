"""How the window words an error: a user's mistake in one sentence, an internal bug with its type."""

from __future__ import annotations

from interreid.engine.errors import UserError


def describe_error(exc: BaseException) -> str:
    """One line for the window. UserError is the user's to fix; anything else is our bug."""
    if isinstance(exc, UserError):
        return str(exc)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"Internal error ({type(exc).__name__}){': ' + text if text else ''} — details are in the log."


# Advice written for the command line, and what the window offers instead (buttons and menus).
_APP_WORDING = [
    (r"check the path or create it with 'case new'", "check the path, or create a case with File → New case"),
    (r"give one with --title", "type one in the Title box"),
    (r"with 'interreid gallery import SRC --gallery DIR'", "with File → Import gallery"),
    (r"with 'interreid gallery import'", "with File → Import gallery"),
    (r"run 'interreid case verify' for all of them", "use File → Verify case to see all of them"),
    (r"install it with 'interreid pack install SRC' or give --pack DIR",
     "ask this workstation's administrator to install it"),
    (r"'interreid pack install'", "the administrator's pack installation"),
    (r"is not an interreid gallery (no gallery.db)", "is not a gallery made by interreid"),
    (r"or record its new place with 'interreid case relocate FILE --gallery DIR'",
     "or open the case again and choose the gallery's new folder when asked"),
    (r"another passphrase (give that one)", "another passphrase (open it again and type that passphrase)"),
]


def app_wording(message: str) -> str:
    """The same sentence with command-line advice replaced by what to do in the window."""
    for phrase, replacement in _APP_WORDING:
        message = message.replace(phrase, replacement)
    return message
