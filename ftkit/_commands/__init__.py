"""One module per ``ftkit`` subcommand; each exposes ``register(subparsers)``."""
