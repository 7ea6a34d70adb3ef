"""Progress reports of long calls: a tqdm bar, a user's callable, or nothing."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, Optional, Union

ProgressLike = Union[bool, Callable[[int, int], Any]]


def in_notebook() -> bool:
    """Whether code runs in a Jupyter kernel (where tqdm draws a widget)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


class Reporter:
    """The `progress` callable handed to the engine, and its clean-up.

    The engine calls it from the thread that made the call, with the GIL held,
    at most every 50 ms, with (runs done, runs in all).
    """

    def __init__(self, progress: ProgressLike, description: str):
        if not (isinstance(progress, bool) or callable(progress)):
            raise TypeError(f"progress must be True, False or a callable(done, total), not {progress!r}")
        self._user = progress if callable(progress) and not isinstance(progress, bool) else None
        self._wanted = progress is True
        self._description = description
        self._bar: Any = None

    @property
    def callback(self) -> Optional[Callable[[int, int], None]]:
        """What to pass to the engine: None when no progress is wanted."""
        return self if (self._wanted or self._user is not None) else None

    def __call__(self, done: int, total: int) -> None:
        if self._user is not None:
            self._user(done, total)
            return
        if self._bar is None:
            self._bar = _make_bar(total, self._description)
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _make_bar(total: int, description: str) -> Any:
    """A tqdm bar: a widget in Jupyter, else a text line on stderr after a second.

    Jupyter without ipywidgets (Debian python3-ipywidgets) gets the text line,
    which notebooks redraw in place.
    """
    # SI prefixes ("2.64k") only where counts are long: small counts stay integers.
    options = dict(total=total, desc=description, unit=" runs", unit_scale=total >= 10_000, dynamic_ncols=True)
    from tqdm.std import tqdm as text_tqdm

    if in_notebook():
        from tqdm import notebook

        # Checked before, not caught after: a widget bar that fails to build
        # still complains from its destructor.
        if notebook.IProgress is not None:
            return notebook.tqdm(**options)
        return text_tqdm(file=sys.stderr, **options)

    # Like the command line, short calls stay silent.
    return text_tqdm(file=sys.stderr, delay=1.0, **options)
