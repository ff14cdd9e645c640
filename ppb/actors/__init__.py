"""Ray actors: user shards, chat shards, the scraper session, the nudger, the bot runner."""
