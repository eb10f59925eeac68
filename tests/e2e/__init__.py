"""End-to-end tests: the action image run as the runner runs it, the README's first command."""
