"""The order of a run, and nothing else: `measure` (config -> results), `ab`, `sweep`, and
`verdict` (results + baseline -> comparison -> texts). The CLI and the action both call these.
"""
