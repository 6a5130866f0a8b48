"""What a route fetches from the provider before the model call, fitted to a token budget."""
