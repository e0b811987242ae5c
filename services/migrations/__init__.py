"""Versioned schema migrations, one module per step (see ``services.store``)."""
