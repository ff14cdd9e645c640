"""Character classes spelled out, so a pattern means the same to Python's `re`, to JSON
Schema's ECMA-262 regular expressions and to a client's generator: `\\s`, `\\w` and `\\d` differ
between them (ASCII or Unicode, `\\x85` a space or not), explicit ranges do not."""

from __future__ import annotations

WHITESPACE = r"\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
"""What `str.isspace()` calls white space (and `str.strip()` removes), as a class body."""
CONTROLS = r"\x00-\x1f\x7f"
ASCII_PUNCTUATION = r"\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e"
"""ASCII's punctuation and symbols: `!` to `/`, `:` to `@`, `[` to `` ` ``, `{` to `~`."""
