"""The `shortlist` command line and the demo, a client of the running API."""
