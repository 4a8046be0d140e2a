"""Errors a user can cause. Each carries one clear sentence: what is wrong and what to do."""


class UserError(Exception):
    """A mistake in the user's input (bad folder, corrupt file, wrong model pack, ...).

    The CLI prints ``str(error)`` as one line and exits with status 2; the desktop app shows it
    in the window. Internal bugs must NOT be raised as UserError.
    """


class GalleryError(UserError):
    """The gallery folder is missing, not a gallery, from a newer version, or locked."""


class CaseFileError(UserError):
    """The case file is missing, not a case file, from a newer version, or locked."""


class GalleryMovedError(CaseFileError):
    """The case's gallery is not at the folder the case names (moved, renamed, a drive not connected)."""

    def __init__(self, message: str, folder: str):
        super().__init__(message)
        self.folder = folder


class ModelPackError(UserError):
    """A model pack is missing a file, has a wrong hash, or holds a component we cannot load."""
