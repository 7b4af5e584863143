"""How long-running services report progress without knowing who listens."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def start(self, stage: str, total: int, unit: str = "files") -> None: ...
    def advance(self, amount: int = 1) -> None: ...
    def finish(self) -> None: ...


class NoProgress:
    def start(self, stage: str, total: int, unit: str = "files") -> None:
        pass

    def advance(self, amount: int = 1) -> None:
        pass

    def finish(self) -> None:
        pass
