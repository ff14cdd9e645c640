"""Vendored front-end libraries (see README.md here for versions and licences)."""
