"""Model clients behind one small interface, and the offline model for local development."""
