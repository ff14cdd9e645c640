"""The use cases the API, the bot (through the API) and the Mini App share: a product rule
is written once, here, over the store, the user state machine and the ranker."""
