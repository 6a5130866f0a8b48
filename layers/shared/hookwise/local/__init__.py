"""The local stack: the same handlers, AWS emulated by moto's server, offline model."""
