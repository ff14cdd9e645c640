"""PPB: Personalized Post Bot, one Ray application."""

__version__ = "0.1.0"
