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


def error_for(status_code: int, detail: str) -> DomainError:
    """The domain error an HTTP status stands for (clients of the REST API raise these)."""
    kinds: dict[int, type[DomainError]] = {
        403: Blocked, 404: NotFound, 409: Conflict, 422: Invalid, 503: Unavailable,
    }
    kind = kinds.get(status_code)
    if kind is None:
        error = DomainError(detail)
        error.status_code = status_code
        return error
    return kind(detail)
