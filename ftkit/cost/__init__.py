"""Cost of a fine-tuning run: token stats, the epochs rule, dated prices, estimates."""

from .epochs import default_epochs, resolve_epochs
from .estimate import estimate
from .plan import PlanEstimate, estimate_stages
from .prices import Price, PriceLookup, PriceTable, load_prices
from .stats import CostEstimate, HistogramBin, TokenStats, TokenSummary

__all__ = [
    "CostEstimate",
    "HistogramBin",
    "PlanEstimate",
    "Price",
    "PriceLookup",
    "PriceTable",
    "TokenStats",
    "TokenSummary",
    "default_epochs",
    "estimate",
    "estimate_stages",
    "load_prices",
    "resolve_epochs",
]
