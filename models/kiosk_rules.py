"""Shared-terminal safety on a kiosk (DESIGN "Channels"): when an idle session ends, and how
often the page tells the server that someone is still using it. Pure functions of seconds."""

from __future__ import annotations

from dataclasses import dataclass

# The warning must leave a person this long to answer it (issue 5: at least 30 s).
MIN_ANSWER_SECONDS = 30.0


@dataclass(frozen=True)
class IdleTimings:
    """The warning after `warn` seconds without input, the reset after `reset` seconds."""

    warn: float
    reset: float

    def check(self, *, strict: bool) -> None:
        """Refuse timings that make no sense; `strict` (outside tests) also refuses a
        warning that leaves less than MIN_ANSWER_SECONDS to answer."""
        if self.warn <= 0 or self.reset <= self.warn:
            raise ValueError(f"kiosk idle timings need 0 < warn < reset (got {self.warn}, {self.reset})")
        if strict and self.answer_seconds < MIN_ANSWER_SECONDS:
            raise ValueError(
                f"the kiosk idle warning leaves {self.answer_seconds:g} s to answer; at least "
                f"{MIN_ANSWER_SECONDS:g} s are needed (KIOSK_IDLE_RESET_SECONDS - KIOSK_IDLE_WARN_SECONDS)"
            )

    @property
    def answer_seconds(self) -> float:
        return self.reset - self.warn

    @property
    def keepalive_seconds(self) -> float:
        """At most this long after the last input the page tells the server (a trailing
        throttle), so the server's idle clock never runs out before the page's does."""
        return min(10.0, self.answer_seconds / 3)


def is_idle_expired(last_seen: object, now: float, reset_seconds: float) -> bool:
    """A session last seen more than `reset_seconds` ago has ended. A missing or malformed
    mark (a new session, a forged value) is not expired: the request sets a fresh one."""
    if isinstance(last_seen, bool) or not isinstance(last_seen, (int, float)):
        return False
    return now - last_seen > reset_seconds
