"""Leakage-safe, deterministic split by content hash.

bucket(file) = first 8 bytes of sha256(seed_utf8 ‖ content_digest_bytes), read as a
big-endian unsigned integer, divided by 2**64. The file goes to the first split
whose cumulative ratio exceeds its bucket. Because only the content and the seed
enter the bucket, duplicate bytes always land in the same split and a rename never
moves a file.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from appliance.errors import InvalidInput

DEFAULT_RATIOS: tuple[tuple[str, float], ...] = (("train", 0.8), ("val", 0.1), ("test", 0.1))
DEFAULT_SEED = "ahoy"


@dataclass(frozen=True, slots=True)
class SplitConfig:
    ratios: tuple[tuple[str, float], ...] = DEFAULT_RATIOS
    seed: str = DEFAULT_SEED

    def __post_init__(self) -> None:
        if not self.ratios:
            raise InvalidInput("a split needs at least one part", hint="e.g. train=0.8,val=0.2")
        names = [n for n, _ in self.ratios]
        if len(set(names)) != len(names):
            raise InvalidInput(f"split names repeat: {names}", hint="name each part once")
        for name, ratio in self.ratios:
            if not name or not name.isidentifier():
                raise InvalidInput(
                    f"split name {name!r} is not a plain word", hint="use e.g. train"
                )
            if not 0 <= ratio <= 1:
                raise InvalidInput(f"split ratio {name}={ratio} is outside 0..1")
        total = sum(r for _, r in self.ratios)
        if abs(total - 1.0) > 1e-9:
            raise InvalidInput(
                f"split ratios add up to {total:g}, not 1", hint="e.g. train=0.8,val=0.1,test=0.1"
            )

    @classmethod
    def parse(cls, text: str, seed: str = DEFAULT_SEED) -> SplitConfig:
        """Parse ``train=0.8,val=0.1,test=0.1``."""
        parts: list[tuple[str, float]] = []
        for item in filter(None, (p.strip() for p in text.split(","))):
            name, sep, value = item.partition("=")
            if not sep:
                raise InvalidInput(f"split part {item!r} lacks '='", hint="write name=ratio")
            try:
                parts.append((name.strip(), float(value)))
            except ValueError:
                raise InvalidInput(f"split ratio {value!r} is not a number") from None
        return cls(tuple(parts), seed)

    def as_dict(self) -> dict[str, object]:
        """The one JSON shape of a split, in requests, answers, the catalog and a
        pull's manifest: ``{"ratios": [["train", 0.8], ...], "seed": "ahoy"}``.
        The parts are a list, not an object, because their order decides which
        part each bucket falls in."""
        return {"ratios": [[n, r] for n, r in self.ratios], "seed": self.seed}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> SplitConfig:
        """The inverse of ``as_dict``."""
        ratios = tuple((str(n), float(r)) for n, r in data["ratios"])  # type: ignore[attr-defined]
        return cls(ratios, str(data["seed"]))

    def __str__(self) -> str:
        return ",".join(f"{n}={r:g}" for n, r in self.ratios) + f" seed={self.seed}"


def bucket(seed: str, content_sha256: str) -> float:
    digest = hashlib.sha256(seed.encode("utf-8") + bytes.fromhex(content_sha256)).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign_split(config: SplitConfig, content_sha256: str) -> str:
    b = bucket(config.seed, content_sha256)
    cumulative = 0.0
    for name, ratio in config.ratios:
        cumulative += ratio
        if b < cumulative:
            return name
    return config.ratios[-1][0]


def split_moves(config: SplitConfig, placed: Iterable[tuple[str, str]]) -> Counter[tuple[str, str]]:
    """(split a source folder gave, content sha256) → how many files go from each
    source split to each split of ``config`` (pairs with equal names stayed put)."""
    return Counter((given, assign_split(config, sha)) for given, sha in placed)
