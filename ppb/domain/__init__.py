"""Pure types and rules: no I/O, no imports from the rest of PPB."""
