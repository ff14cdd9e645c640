"""The import path `serve deploy` and KubeRay configs have named since the first release
(`ppb.http.serve:app_builder`): the Serve application, built by the composition root."""

from ppb.compose.serve import app_builder

__all__ = ["app_builder"]
