"""The composition root: what runs where, decided once. Its modules build, each one thing:

    store      the store (every process opens its own)
    ranking    the ranker: in this process, or the Scorer deployment's client
    core       the core and the HTTP app's services; the scraper; the embedding stage
    bot        the bot's app and its chat registry
    web        the HTTP app (with the sandbox and the webhook when configured)
    parts      what the long-lived actors run (bot, nudger, outbox, embedders, scraper), and
               which of them a deployment starts
    serve      the Serve application (deployments `Api` and `Scorer`)

The rest of PPB is handed what it works with and never imports this package.
"""
