"""The HTTP edge and composition root: the only package that imports FastAPI."""
