"""Training prices for a run: the model catalog's dated prices, overridable per call.

The prices come from ftkit's model catalog (:mod:`ftkit.providers`), with the
date each was checked; the catalog is where a price change is recorded for
good. Prices differ by provider and contract (Azure bills its own rates, by
training type), so a table is built for one provider and training type when
they are known (:meth:`PriceTable.default`), and every entry point also takes
``prices=``: a :class:`PriceTable`, a mapping of
model to USD per 1M training tokens, or the path of a JSON file (either the
full table format or a plain ``{"model": price}`` object). Given entries
override the catalog for those models only, for that call.

A model the table does not know gets no price, with a reason: ftkit never
guesses one.

A model ftkit has no tokenizer for (a custom or provider model name) can still
be estimated when the prices given price it: its examples are counted as its
entry's ``base_model`` (``{"my-model": {"per_1m_tokens": 4.0, "base_model":
"gpt-4.1-mini-2025-04-14"}}``), or as the snapshot an ``aliases`` entry names;
given neither, as :data:`ASSUMED_BASE_MODEL`, with a warning (see
:func:`counted_as`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Union

from .._exceptions import UsageError
from ..providers import (
    DEFAULT_TRAINING_TYPE,
    base_model,
    canonical_method,
    find_model,
    model_info,
)
from ..providers._names import provider_name
from ..tokens.encoding import encoding_name_for_model
from ..tokens.open_models import is_open_model

__all__ = [
    "ASSUMED_BASE_MODEL",
    "Price",
    "PriceLookup",
    "PriceTable",
    "PricesArg",
    "counted_as",
    "load_prices",
]

ASSUMED_BASE_MODEL = "gpt-4.1-mini-2025-04-14"
"""What a priced model unknown to ftkit is counted as when its entry names no ``base_model``:
o200k_base (the encoding of every model OpenAI fine-tunes today) and a 65,536-token limit."""


@dataclass(frozen=True, slots=True)
class Price:
    """The training price of one model snapshot."""

    per_1m_tokens: float | None = None
    """USD per 1M training tokens (SFT, and DPO unless priced apart), or ``None``."""
    dpo_per_1m_tokens: float | None = None
    """USD per 1M DPO training tokens, where the catalog prices DPO apart from SFT."""
    per_hour: float | None = None
    """USD per hour of training (reinforcement fine-tuning)."""
    base_model: str | None = None
    """For a model ftkit does not know: the known model whose tokenizer and limit it uses."""
    as_of: str | None = None
    """When this price was checked, where it differs from the table's (a catalog's own
    date, or ``"unknown"`` for an undated source); ``None``: the table's ``as_of``."""


@dataclass(frozen=True, slots=True)
class PriceLookup:
    """The outcome of looking a model up: a per-token price, or the reason there is none."""

    model: str
    """The snapshot the price belongs to (after ``ft:`` and alias resolution)."""
    per_1m_tokens: float | None
    reason: str | None
    """Why there is no per-token price; ``None`` when there is one."""
    as_of: str | None = None
    """When the price was checked, where the table dates it apart (see ``Price.as_of``)."""


@dataclass(frozen=True)
class PriceTable:
    """Training prices per model snapshot, with the date they were checked."""

    prices: Mapping[str, Price]
    as_of: str
    """When the prices were checked (``YYYY-MM`` or ``YYYY-MM-DD``; "custom" for user tables)."""
    currency: str = "USD"
    aliases: Mapping[str, str] = field(default_factory=dict)
    """Undated or provider-specific names -> the snapshot they are priced as."""
    provider: str | None = None
    """Whose catalog prices these are (``None``: every provider's, ``openai`` first)."""
    training_type: str | None = None
    """The training type they price (Azure's tiers); ``None``: the provider's default."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "prices", MappingProxyType(dict(self.prices)))
        object.__setattr__(self, "aliases", MappingProxyType(dict(self.aliases)))

    @classmethod
    def default(cls, provider: str | None = None, training_type: str | None = None) -> PriceTable:
        """The training prices of ftkit's model catalog, ``as_of`` their newest check.

        SFT and DPO are priced per token, reinforcement per hour. Without a
        provider the first provider that prices a name wins (``openai`` first).

        Args:
            provider: the provider whose prices to take (``"azure"``).
            training_type: the training type to price, on a provider with training
                types (``None``: the type its jobs train on when none is named,
                see :meth:`ftkit.providers.ModelInfo.training_price`).

        Raises:
            UsageError: an unknown provider or training type.
        """
        from ..providers import models

        prices: dict[str, Price] = {}
        aliases: dict[str, str] = {}
        checked: list[str] = []
        for info in models(provider):
            for alias in info.aliases:  # priced or not: names resolve to their snapshot
                aliases.setdefault(alias, info.name)
            sft = info.training_price("sft", training_type)
            dpo = info.training_price("dpo", training_type)
            per_token = sft or dpo
            per_hour = info.training_price("rft", training_type)
            if per_token is None and per_hour is None:
                continue
            dates = [p.as_of for p in (sft, dpo, per_hour) if p is not None and p.as_of]
            prices.setdefault(
                info.name,
                Price(
                    per_1m_tokens=per_token.per_1m_tokens if per_token else None,
                    dpo_per_1m_tokens=dpo.per_1m_tokens if dpo else None,
                    per_hour=per_hour.per_hour if per_hour else None,
                    # Each provider's prices carry their own check (one may be undated).
                    as_of=max(dates, default="unknown"),
                ),
            )
            checked += dates
        return cls(
            prices=prices,
            as_of=max(checked, default="unknown"),
            aliases=aliases,
            provider=provider,
            training_type=training_type,
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, as_of: str = "custom") -> PriceTable:
        """Build a table from the full table format or a plain ``{model: price}`` mapping.

        The full format is ``{"as_of", "currency", "training": {model: {per_1m_tokens |
        per_hour, base_model}}, "aliases": {name: model}}``.

        Raises:
            UsageError: a price that is not a non-negative number.
        """
        if "training" in data and isinstance(data["training"], Mapping):
            entries = data["training"]
            as_of = str(data.get("as_of", as_of))
            currency = str(data.get("currency", "USD"))
            aliases = {str(k): str(v) for k, v in dict(data.get("aliases") or {}).items()}
        else:
            entries, currency, aliases = data, "USD", {}
        prices = {str(model): _price(model, value) for model, value in entries.items()}
        return cls(prices=prices, as_of=as_of, currency=currency, aliases=aliases)

    def with_prices(self, overrides: Mapping[str, Any] | PriceTable) -> PriceTable:
        """A copy where ``overrides`` (model -> USD per 1M tokens, or a table) win."""
        extra = overrides if isinstance(overrides, PriceTable) else PriceTable.from_dict(overrides)
        return PriceTable(
            prices={**self.prices, **extra.prices},
            as_of=f"{self.as_of} + custom" if extra.as_of == "custom" else extra.as_of,
            currency=self.currency,
            aliases={**self.aliases, **extra.aliases},
            provider=self.provider,
            training_type=self.training_type,
        )

    def lookup(self, model: str, *, method: str = "supervised") -> PriceLookup:
        """The per-token training price of ``model`` (``ft:`` names use their base model).

        DPO takes the catalog's DPO price where it has one, else the SFT price.
        Reinforcement fine-tuning has no per-token price.
        """
        name = base_model(model)
        if name not in self.prices:
            name = self.aliases.get(name, name)
        price = self.prices.get(name)
        if price is None:
            return PriceLookup(name, None, self._unpriced(name, canonical_method(method)))
        if method in ("reinforcement", "rft") or price.per_1m_tokens is None:
            hourly = (
                f"{self.currency} {price.per_hour:.2f} per hour of training"
                if price.per_hour is not None
                else "per hour of training"
            )
            return PriceLookup(
                name,
                None,
                f"{name} reinforcement fine-tuning is billed {hourly}, not per token",
            )
        if canonical_method(method) == "dpo" and price.dpo_per_1m_tokens is not None:
            return PriceLookup(name, price.dpo_per_1m_tokens, None, price.as_of)
        return PriceLookup(name, price.per_1m_tokens, None, price.as_of)

    def _unpriced(self, name: str, method: str) -> str:
        """Why ``name`` has no price, and the two ways to give it one."""
        override = f"pass prices={{{json.dumps(name)}: <{self.currency} per 1M tokens>}}"
        if self.provider is None:
            return f"no training price known for {name!r} (prices as of {self.as_of}); {override}"
        training_type = self.training_type
        info = find_model(name, self.provider)
        if training_type is None and info is not None and info.training_types:
            training_type = DEFAULT_TRAINING_TYPE  # what its jobs train on when none is named
        tier = f"{training_type} " if training_type else ""
        entry: dict[str, Any] = {"training": {method: {"per_1m_tokens": "<USD>"}}}
        if training_type:
            entry = {"training_by_type": {training_type: entry["training"]}}
        example = json.dumps({"provider": self.provider, "models": {name: entry}})
        return (
            f"{provider_name(self.provider)}'s {tier}training price for {name!r} is not in "
            f"ftkit's model catalog; add it in a catalog file such as {example} (named in "
            f"$FTKIT_MODELS, or loaded with ftkit.providers.register_file), or {override}"
        )


PricesArg = Union[PriceTable, Mapping[str, Any], str, "os.PathLike[str]", None]
"""What ``prices=`` accepts: a table, ``{model: USD per 1M}``, a JSON file path, or ``None``."""


def load_prices(
    prices: PricesArg = None,
    *,
    provider: str | None = None,
    training_type: str | None = None,
) -> PriceTable:
    """Resolve a ``prices=`` argument to a table (the catalog's, overridden by what is given).

    Args:
        prices: a table (used as it is), ``{model: USD per 1M}``, a JSON file, or ``None``.
        provider: whose catalog prices to start from (``None``: every provider's).
        training_type: the training type to price, on a provider with training types.

    Raises:
        UsageError: an unreadable file, a malformed price, an unknown provider or
            training type.
    """
    if isinstance(prices, PriceTable):
        return prices
    # Built each time: the catalog may have changed since.
    default = PriceTable.default(provider, training_type)
    if prices is None:
        return default
    if isinstance(prices, (str, os.PathLike)):
        path = Path(prices)
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot read prices from {path}: {exc}") from None
        if not isinstance(data, dict):
            raise UsageError(f"{path}: a prices file must hold a JSON object")
        return default.with_prices(PriceTable.from_dict(data))
    if isinstance(prices, Mapping):
        return default.with_prices(prices)
    raise UsageError(
        f"prices must be a PriceTable, a mapping or a file path, got {type(prices).__name__}"
    )


def _price(model: object, value: Any) -> Price:
    base = None
    if isinstance(value, Mapping):
        per_token = value.get("per_1m_tokens")
        per_hour = value.get("per_hour")
        base = value.get("base_model")
        if base is not None and (not isinstance(base, str) or not base.strip()):
            raise UsageError(f"base_model of {model!r} must be a model name, got {base!r}")
    else:
        per_token, per_hour = value, None
    for number in (per_token, per_hour):
        if number is not None and (
            isinstance(number, bool) or not isinstance(number, (int, float)) or number < 0
        ):
            raise UsageError(f"price of {model!r} must be a non-negative number, got {number!r}")
    if per_token is None and per_hour is None:
        raise UsageError(f"price of {model!r} needs per_1m_tokens or per_hour")
    return Price(
        per_1m_tokens=None if per_token is None else float(per_token),
        per_hour=None if per_hour is None else float(per_hour),
        base_model=base.strip() if base else None,
    )


def counted_as(model: str, table: PriceTable) -> tuple[str, str | None]:
    """The model whose tokenizer and per-example limit count ``model``'s examples.

    A model ftkit can count tokens for counts as itself, and so does an open model (a
    ``together`` or ``fireworks`` one: its own tokenizer, or a stand-in marked
    approximate). One it cannot (a custom or provider name) but ``table`` prices counts
    as its entry's ``base_model``, else as the snapshot its alias names, else as
    :data:`ASSUMED_BASE_MODEL`; the second value is then a warning saying what was
    assumed. A model neither known nor priced is returned unchanged, for the tokenizer
    to refuse with its own message.

    Raises:
        UsageError: a ``base_model`` ftkit cannot count tokens for either.
    """
    if not isinstance(model, str) or not model.strip() or _countable(model):
        return model, None
    if is_open_model(model, table.provider):
        return model, None  # counted with its own tokenizer (ftkit.tokens.open_models)
    name = base_model(model)
    entry = table.prices.get(name)
    alias = table.aliases.get(name)
    if entry is not None and entry.base_model is not None:
        if not _countable(entry.base_model):
            raise UsageError(
                f"the base_model of {name!r} in the prices, {entry.base_model!r}, is not a "
                "model ftkit can count tokens for; name one such as "
                f"{ASSUMED_BASE_MODEL!r}"
            )
        return entry.base_model, None
    if alias is not None and _countable(alias):
        return alias, None
    if entry is None:
        return model, None
    assumed = model_info(ASSUMED_BASE_MODEL)  # the catalog's facts, so the text cannot drift
    return ASSUMED_BASE_MODEL, (
        f"ftkit does not know {name!r}: its tokens are counted as {ASSUMED_BASE_MODEL}'s "
        f"({assumed.tokenizer}, {assumed.limit('sft'):,} tokens per example); give its "
        'price entry a "base_model" to count it as another model'
    )


def _countable(model: str) -> bool:
    try:
        encoding_name_for_model(model)
    except UsageError:
        return False
    return True
