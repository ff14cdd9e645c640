"""The aiogram bot: routers per flow (`handlers/`), keyboards, the MessageManager, i18n.

It talks to PPB only through the REST API (`api.py`), as the original main-bot did.
"""
