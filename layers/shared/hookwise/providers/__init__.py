"""The providers' APIs as hookwise calls them (GitHub, Slack): clients, the targets an event
names, the markers of our own comments and how a call failed. Both `context/` (reads before the
model call) and `actions/` (writes after it) build on this package; it imports neither."""
