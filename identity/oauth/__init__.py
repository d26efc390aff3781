"""The built-in OAuth 2 authorization server (one module per concern) and its signing keys."""
