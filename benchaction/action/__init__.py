"""The container action: `settings` (INPUT_*), `context` (GITHUB_*), `main` (environment in,
exit code out). The only package besides `cli.py` that reads the environment.
"""
