"""The crash test: one module per check id. Each module exposes ``run(ctx) -> CheckResult``."""
