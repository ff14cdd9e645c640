"""Typed callback data and the inline keyboards built from it."""
