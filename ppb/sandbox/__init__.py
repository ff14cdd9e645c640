"""A local Telegram Bot API emulator and a web chat, so PPB runs without a Telegram account.

`emulator.py` holds the state (chats, updates, webhook, injected faults), `botapi.py`
speaks the Bot API's HTTP protocol to the bot, `person.py` is the person's side, and
`static/` is the web chat served at `/sandbox`.
"""
