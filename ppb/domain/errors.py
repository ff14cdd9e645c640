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


class NotFound(DomainError):
    status_code = 404


class ForbiddenTransition(DomainError):
    status_code = 409

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
    """A dependency (database, scraper, scorer) is down."""

    status_code = 503
