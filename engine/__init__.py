"""interreid engine: the Qt-free core (gallery, index, retrievers, interview loop, case file).

Nothing here imports PySide6 or ``desktop``; heavy libraries (torch, onnxruntime, transformers)
are imported lazily inside the functions that need them.
"""

__version__ = "0.1.0"
APP_NAME = "interreid"
