"""A small third-party-style edgeq plugin used to prove the plugin mechanism."""
