"""Domain errors: what went wrong, in the person's terms; the HTTP layer gives each kind its status
(`ppb/http/errors.py`), a REST client reads them back (`ppb/bot/api.py`)."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a person can cause; `detail` is for that person."""

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

    def __init__(self, detail: str, *, reason: str | None = None) -> None:
        super().__init__(detail)
        self.reason = reason or detail


class NotFound(DomainError):
    """The thing the request names is not there."""


class Conflict(DomainError):
    """The request is valid, but the state forbids it now (a limit reached, say)."""


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


class Forbidden(DomainError):
    """Understood, but not for this person or session (a blocked person, a private channel)."""


class Blocked(Forbidden):
    """An operator blocked this user: no feed, no nudges, no Mini App."""


class Unavailable(DomainError):
    """A dependency (database, scraper, scorer, the API itself) is down: retry later."""


class NotConfigured(Unavailable):
    """A part this server runs without (no scraper session): unavailable here until an
    operator configures it, which no retry mends, so 409 rather than 503. Its detail starts
    with `<part>: not configured`, which REST clients read it back by."""

    MARK = ": not configured"
