"""The valuation rules: array functions (steps), their order (pipeline), safe expressions for
custom measures and double-counting exclusions."""

from socialvalue_tom.rules.pipeline import RuleInputs, Stages, run_pipeline

__all__ = ["RuleInputs", "Stages", "run_pipeline"]
