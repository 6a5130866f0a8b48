"""Where a completed event's result goes next."""
