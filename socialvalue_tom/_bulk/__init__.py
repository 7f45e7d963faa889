"""Internals of bulk valuation (``socialvalue_tom.frame``): lookups, arithmetic, issues."""
