"""Cost of a fine-tuning run: the epochs rule, dated prices, estimates.

Pricing only: the token statistics it prices are :mod:`ftkit.tokens`' and the pass
that produces them (:func:`ftkit.estimate`) is the validator's.
"""

from .._public import publish
from .epochs import default_epochs, resolve_epochs
from .estimate import CostEstimate
from .plan import PlanEstimate, estimate_stages
from .prices import Price, PriceLookup, PriceTable, load_prices

__all__ = [
    "CostEstimate",
    "PlanEstimate",
    "Price",
    "PriceLookup",
    "PriceTable",
    "default_epochs",
    "estimate_stages",
    "load_prices",
    "resolve_epochs",
]

publish(__name__, globals(), __all__)
