"""The ``ftkit`` subcommands: each module exposes ``register(subparsers)``."""
