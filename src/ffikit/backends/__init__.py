"""ffikit.backends: see the layer table in README.md ("How it is built")."""
