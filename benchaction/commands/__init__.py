"""The CLI's subcommands, a group a module: each adds its parser and handles its arguments.

`cli.py` builds the parser, reads the environment and dispatches; the modules here take values.
They import what computes (flow, stats, report) inside their handlers, so `--help` starts fast.
"""
