"""The ``ftkit`` subcommands: each module exposes ``register(subparsers)``.

A module that adds one command declares it as a :class:`._command.Command` (its
texts, its flags, the function that runs it) and exposes that command's ``register``.
"""
