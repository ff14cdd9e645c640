"""Content: the Telethon scraper session, Telegram Desktop export import, demo channels."""
