"""Domain errors; the HTTP layer maps each to a status code."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a person can cause; `detail` is for that person."""

    status_code = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def __reduce__(self) -> tuple:
        """Pickle by state, whatever the subclass's constructor takes (errors cross Ray)."""
        return (_rebuild, (type(self), self.args, self.__dict__))


def _rebuild(cls: type[DomainError], args: tuple, state: dict) -> DomainError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class Invalid(DomainError):
    """A value a person or client gave is wrong; `detail` names the field and the reason,
    `reason` is the reason alone (for a sentence in a chat)."""

    status_code = 422

    def __init__(self, detail: str, *, reason: str | None = None) -> None:
        super().__init__(detail)
        self.reason = reason or detail


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    """The request is valid, but the state forbids it now (a limit reached, say)."""

    status_code = 409


class NotYetKnown(Conflict):
    """A thing the request names in its body is not in the store yet (a channel PPB has not
    scraped or imported): the same request succeeds once it is, so 409, not a 404 (which
    would say the path's resource is missing). Its detail reads `<field>: PPB has no …`."""

    MARK = ": PPB has no "


class LimitReached(Conflict):
    """A person's limit (bonus channels) is used up."""


class ForbiddenTransition(Conflict):

    def __init__(self, status: str, event: str, allowed: list[str]) -> None:
        choices = ", ".join(allowed) if allowed else "none"
        super().__init__(
            f"event {event!r} is not allowed for a user in status {status!r} "
            f"(allowed: {choices})"
        )
        self.status = status
        self.event = event


class Blocked(DomainError):
    """An operator blocked this user: no feed, no nudges, no Mini App."""

    status_code = 403


class Unavailable(DomainError):
    """A dependency (database, scraper, scorer, the API itself) is down: retry later."""

    status_code = 503


class NotConfigured(Unavailable):
    """A part this server runs without (no scraper session): unavailable here until an
    operator configures it, which no retry mends, so 409 rather than 503. Its detail starts
    with `<part>: not configured`, which REST clients read it back by."""

    status_code = 409
    MARK = ": not configured"


def error_for(status_code: int, detail: str) -> DomainError:
    """The domain error an HTTP status stands for (clients of the REST API raise these)."""
    if status_code == NotConfigured.status_code and NotConfigured.MARK in detail.split(" (", 1)[0]:
        return NotConfigured(detail)
    if status_code == NotYetKnown.status_code and NotYetKnown.MARK in detail:
        return NotYetKnown(detail)
    kinds: dict[int, type[DomainError]] = {
        403: Blocked, 404: NotFound, 409: Conflict, 422: Invalid, 503: Unavailable,
    }
    kind = kinds.get(status_code)
    if kind is None:
        error = DomainError(detail)
        error.status_code = status_code
        return error
    return kind(detail)
