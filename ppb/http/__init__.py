"""The Starlette app: routes, schemas, auth, errors; and the Serve application around it."""
