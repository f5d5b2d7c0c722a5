"""Training-data generators for the persona NLI discriminator (stdlib only)."""
