"""The plan engine: what a deploy would change, as data, and its renderings.

:func:`compute_plan` compares a desired :class:`~apimsync.model.Configuration` with a
live one and returns a :class:`Plan` of typed changes in apply order;
:mod:`apimsync.plan.render` renders it as text, JSON or Markdown and
:mod:`apimsync.plan.saved` writes it to a file a later deploy applies.
"""

from apimsync.plan.changes import MISSING, Action, Change, FieldChange, Plan
from apimsync.plan.diff import compute_plan
from apimsync.plan.normalize import normalize
from apimsync.plan.order import apply_order, dependency_levels

__all__ = [
    "MISSING",
    "Action",
    "Change",
    "FieldChange",
    "Plan",
    "apply_order",
    "compute_plan",
    "dependency_levels",
    "normalize",
]
