"""A probe that returns a reading it was given: for tests and for planning a box."""

from __future__ import annotations

from appliance.domain.governor import HostReading


class FixedProbe:
    name = "fixed"

    def __init__(self, reading: HostReading) -> None:
        self.reading = reading

    def read(self) -> HostReading:
        return self.reading

    def close(self) -> None:
        pass
