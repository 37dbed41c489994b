"""Development tools, never in production: the demo, its seed, the chat simulator, the fake LINE server."""
