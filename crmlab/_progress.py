"""One progress bar with a total and time left over work reported as fractions.

Long-running functions (``crmlab.synth.generate``, ``CRMData.save``) accept a
``progress`` callable, called as ``progress(fraction_done, stage)`` with the fraction of
their whole job done. :class:`ProgressBar` is such a callable drawing a tqdm bar in
percent; :meth:`ProgressBar.part` maps one job onto a slice of the bar, so several jobs
(generate, then save) share one bar whose time left covers all of them.

>>> bar = ProgressBar("working", disable=True)
>>> first, second = bar.part(0.0, 0.25), bar.part(0.25, 1.0)
>>> first(1.0, "a"); second(0.5, "b")
>>> round(bar.fraction, 3)
0.625
>>> bar.close()
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["ProgressBar"]


class ProgressBar:
    """A tqdm bar from 0 to 100 % driven by ``bar(fraction_done, stage)`` calls.

    Parameters
    ----------
    desc : str
        Text before the bar.
    disable : bool or None
        None (default) shows the bar only when standard error is a terminal.
    """

    def __init__(self, desc: str, *, disable: bool | None = None):
        from tqdm.auto import tqdm

        self.fraction = 0.0
        self._bar = tqdm(total=100.0, desc=desc, unit="%", disable=disable,
                         bar_format="{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}{postfix}]")

    def __call__(self, fraction: float, stage: str = "") -> None:
        fraction = min(max(float(fraction), self.fraction), 1.0)
        step, self.fraction = 100.0 * (fraction - self.fraction), fraction
        if stage:
            self._bar.set_postfix_str(stage, refresh=False)
        self._bar.update(step)

    def part(self, start: float, stop: float, label: str = "{}") -> Callable[..., None]:
        """A ``progress(fraction, stage)`` callable that fills the bar from ``start`` to ``stop``.

        ``label`` formats the stage name shown after the bar, e.g. ``"saving {}"``.
        """
        if not 0.0 <= start <= stop <= 1.0:
            raise ValueError(f"start and stop must satisfy 0 <= start <= stop <= 1, got {start}, {stop}.")
        return lambda fraction, stage="": self(start + (stop - start) * fraction, label.format(stage) if stage else "")

    def close(self) -> None:
        self._bar.close()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
