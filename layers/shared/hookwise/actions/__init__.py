"""Side effects on the provider after completion: each recorded on the event, done once."""
