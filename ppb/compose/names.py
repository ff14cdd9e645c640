"""The names PPB's processes find the Serve application by."""

APP_NAME = "ppb"
"""The Serve application."""
SCORER = "Scorer"
"""Its ranking deployment."""
