"""Open models' tokens (Together AI's, Fireworks AI's): exact with their ``tokenizer.json``,
else approximate.

An open model counts with its own tokenizer and chat template, not tiktoken's
encodings and OpenAI's per-message rule. ``TokenCounter(model, provider="together")``
or ``provider="fireworks"`` (what :func:`ftkit.validate` and :func:`ftkit.estimate`
build) is an :class:`OpenModelCounter` here, and its tokenizer comes from, in this order:

1. a ``tokenizer.json`` given to the counter, or registered for the model with
   :func:`register_tokenizer` (under the model's id or its repository's);
2. the local Hugging Face cache, when the model's files are already there
   (``huggingface-cli download <repo> tokenizer.json tokenizer_config.json``), under
   the repository ids the provider's id maps to (:func:`hf_repos`: Together's
   ``-Reference`` dropped, Meta's ``Meta-Llama-3.1-*`` renamed ``Llama-3.1-*``, and a
   catalog entry's ``tokenizer_repo``: Fireworks'
   ``accounts/fireworks/models/llama-v3p1-8b-instruct`` is
   ``meta-llama/Llama-3.1-8B-Instruct``); never a download;
3. otherwise a *stand-in*: a tiktoken encoding (:class:`StandInTokenizer`), and every
   count made with it says ``approximate=True``.

Why cl100k_base as the stand-in: the models Together fine-tunes most are Llama 3.x,
whose vocabulary is cl100k_base's 100K tokens plus 28K more under the same
pre-tokenizer (so cl100k_base gives slightly *more* tokens: a cautious estimate),
and Qwen, whose byte-level BPE grew out of it; a bytes-per-token ratio knows
nothing of code, digits or scripts. For gpt-oss the stand-in is o200k_base, whose
vocabulary and pre-tokenizer are those of gpt-oss's o200k_harmony for ordinary
text, so its counts are exact. SentencePiece models (Gemma, Mistral) are further
from cl100k_base: their counts are rougher, hence the flag.

What is exact with the model's ``tokenizer.json`` (``approximate=False``):

- the tokens of every text a chat template renders, each encoded as the model's
  tokenizer encodes it alone: ``content`` (and text parts), an assistant's
  ``reasoning``/``reasoning_content``, each tool call written as the family's template
  writes it (``{"name": ..., "arguments": ...}`` with HF's ``tojson`` spacing; string
  arguments as given), and each tool definition's JSON;
- the special tokens of the family's framing (one token each, as the vocabulary
  holds them) and the framing's plain pieces (role names, newlines), counted with
  the same tokenizer (:mod:`ftkit.tokens._chat_formats`).

What stays an estimate even then: BPE merges across a framing boundary (the
pieces are counted apart; rare, a token at most), text a template writes by
itself (Qwen 2.5's default system prompt, Llama 3.1's date header, tool-use
instructions), images (OpenAI's tile formula: the example is then marked
approximate), and whether Together renders the Hugging Face template exactly
(unconfirmed: its ``/v1/fine-tunes/estimate-price`` gives the server's own
count). A template family ftkit does not recognise gets a ChatML-like guess and
the counts are marked approximate.

``name`` and ``tool_call_id`` keys are not counted (the common templates do not
render them), nor ``weight`` and ``refusal``. ``trained`` tokens are the assistant
turns' text and their end-of-turn framing (what the model learns to produce).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any, Protocol

from .._exceptions import TokenizerUnavailable, UsageError
from .._optional import MissingExtra
from ..providers import find_model, models
from ._chat_formats import GENERIC, ChatFormat, detect, format_named
from ._hf import HFTokenizer, find_cached, hf_tokenizer, hub_cache, special_pieces
from ._images import image_tokens
from ._once import once
from .counting import ExampleTokens, TokenCounter, _lost, register_open_models
from .tokenizer import Tokenizer, get_tokenizer

__all__ = [
    "OPEN_MODEL_PROVIDERS",
    "HFTokenizer",
    "OpenModelCounter",
    "OpenTokenizer",
    "StandInTokenizer",
    "hf_repos",
    "is_open_model",
    "open_model_tokenizer",
    "register_tokenizer",
]

logger = logging.getLogger("ftkit.tokens")

OPEN_MODEL_PROVIDERS = frozenset({"together", "fireworks"})
"""Providers whose models count with their own (Hugging Face) tokenizers."""

_REASONING_KEYS = ("reasoning", "reasoning_content")
_SUFFIXES = ("-Reference", "-Turbo")
"""Suffixes of Together ids that the Hugging Face repository does not have."""
_RENAMED = (("Meta-Llama-3.1-", "Llama-3.1-"),)
"""Repository renames on the Hub (the old name still redirects there, the cache keeps either)."""
_MAX_CACHED_FRAMES = 256


class OpenTokenizer(Tokenizer, Protocol):
    """A :class:`~ftkit.tokens.Tokenizer` that also knows its model's chat template family."""

    @property
    def chat_format(self) -> ChatFormat:
        """The framing of the model's chat template family."""
        ...

    @property
    def specials(self) -> Collection[str]:
        """Strings counted as one token each in framing (the special tokens)."""
        ...

    @property
    def approximate(self) -> bool:
        """Whether counts made with it are estimates."""
        ...


def is_open_model(model: str, provider: str | None = None) -> bool:
    """Whether ``model`` counts with an open model's tokenizer rather than tiktoken's.

    True for any model of a provider in :data:`OPEN_MODEL_PROVIDERS` (``together``,
    ``fireworks``),
    and, without a provider, for a model whose catalog entry is one of theirs.
    """
    if not isinstance(model, str) or not model.strip():
        return False
    if provider is not None:
        return provider in OPEN_MODEL_PROVIDERS
    info = find_model(model)
    return info is not None and info.provider in OPEN_MODEL_PROVIDERS


def hf_repos(model: str) -> tuple[str, ...]:
    """The Hugging Face repository ids whose tokenizer counts ``model``, best first.

    The id itself, then the repository its catalog entry names (``tokenizer_repo``:
    a Fireworks id such as ``accounts/fireworks/models/qwen2p5-7b-instruct`` or its
    short ``qwen2p5-7b-instruct`` is ``Qwen/Qwen2.5-7B-Instruct``), then without
    Together's ``-Reference``/``-Turbo`` suffix, then under the Hub's newer name
    (``meta-llama/Meta-Llama-3.1-8B-Instruct`` became ``meta-llama/Llama-3.1-8B-Instruct``).
    A Together fine-tune (``<account>/<base name>-<suffix>-<hex>``) also maps to its
    base model's ids.
    """
    name = model.strip()
    found = [name]
    info = find_model(name) if name else None
    if info is not None and info.tokenizer_repo:
        found.append(info.tokenizer_repo)
    base = _fine_tuned_base(name)
    if base is not None:
        found.append(base)
    for repo in list(found):
        for suffix in _SUFFIXES:
            if repo.endswith(suffix):
                found.append(repo[: -len(suffix)])
    for repo in list(found):
        org, slash, rest = repo.partition("/")
        for old, new in _RENAMED:
            if slash and rest.startswith(old):
                found.append(f"{org}/{new}{rest[len(old) :]}")
    return tuple(dict.fromkeys(found))


def _fine_tuned_base(name: str) -> str | None:
    """The catalog's open model a Together fine-tune's name starts from, if any."""
    _, slash, rest = name.partition("/")
    if not slash or find_model(name) is not None:
        return None
    best: str | None = None
    for provider in OPEN_MODEL_PROVIDERS:
        try:
            known = models(provider)
        except UsageError:  # the provider's catalog is not loaded
            continue
        for info in known:
            stem = info.name.partition("/")[2]
            if (
                stem
                and rest.startswith(stem + "-")
                and (best is None or len(info.name) > len(best))
            ):
                best = info.name
    return best


_registered: dict[str, Path] = {}
_lock = threading.Lock()


def register_tokenizer(model: str, path: str | os.PathLike[str] | None) -> HFTokenizer | None:
    """Count ``model``'s tokens with the ``tokenizer.json`` at ``path``, in this process.

    Every counter built afterwards for ``model`` (``validate``, ``estimate``, the
    pipeline's plan) uses it, worker processes included; ids that map to the same
    repository (:func:`hf_repos`) do too. The file is loaded now, so a wrong path fails
    here. ``path`` may be the folder holding it, where ``tokenizer_config.json`` (or
    ``chat_template.jinja``) tells the chat template family; ``None`` forgets ``model``'s.

    Returns:
        The loaded tokenizer (``None`` when forgetting).

    Raises:
        UsageError: no such file, or not a tokenizer file.
        MissingExtra: the ``tokenizers`` package is not installed (``ftkit[together]``).
    """
    if not isinstance(model, str) or not model.strip():
        raise UsageError("model must be a model name such as 'Qwen/Qwen3-8B'")
    with _lock:
        if path is None:
            _registered.pop(model.strip(), None)
            return None
    tokenizer = hf_tokenizer(path, source=model.strip())
    with _lock:
        _registered[model.strip()] = tokenizer.path
    return tokenizer


def _registered_for(model: str) -> tuple[str, Path] | None:
    with _lock:
        if not _registered:
            return None
        for name in (model, *hf_repos(model)):
            path = _registered.get(name)
            if path is not None:
                return name, path
    return None


class StandInTokenizer:
    """A tiktoken encoding counting an open model's text in place of its own tokenizer.

    Counts are approximate (``approximate=True``) unless the encoding is the model's
    own vocabulary for ordinary text (o200k_base for gpt-oss). Build one with
    :func:`open_model_tokenizer`; see this module's docstring for why cl100k_base.
    """

    __slots__ = ("_base", "approximate", "chat_format", "name", "specials", "vocabulary")

    def __init__(self, family: str) -> None:
        """Stand in for a model of the chat template ``family`` (``llama3``, ``chatml``...).

        Raises:
            TokenizerUnavailable: no verified vocabulary of the stand-in encoding.
        """
        chat_format = format_named(family)
        self._base = get_tokenizer(chat_format.stand_in)
        self.chat_format = chat_format
        self.approximate = not chat_format.stand_in_exact
        self.name = chat_format.stand_in + (" (approximate)" if self.approximate else "")
        self.specials = frozenset(chat_format.specials)
        self.vocabulary = self._base.vocabulary

    def __repr__(self) -> str:
        return f"StandInTokenizer({self.chat_format.family!r}, encoding={self._base.name!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_stand_in, (self.chat_format.family,))

    def encode(self, text: str) -> Sequence[int]:
        """The stand-in encoding's token ids of ``text``."""
        return self._base.encode(text)

    def count(self, text: str) -> int:
        """The stand-in encoding's token count of ``text``."""
        return self._base.count(text)


_stand_ins: dict[str, StandInTokenizer] = {}


def _stand_in(family: str) -> StandInTokenizer:
    return once(_stand_ins, family, StandInTokenizer)


_warned: set[str] = set()


def _warn_once(model: str, message: str, *args: object) -> None:
    """Log a fallback once per model and process (every worker builds its own counter)."""
    with _lock:
        if model in _warned:
            return
        _warned.add(model)
    logger.warning(message, *args)


def open_model_tokenizer(
    model: str,
    tokenizer: OpenTokenizer | str | os.PathLike[str] | None = None,
    *,
    provider: str | None = None,
) -> OpenTokenizer:
    """The tokenizer ftkit counts the open model ``model`` with (see the module docstring).

    Args:
        model: the model id (Together's, e.g. ``meta-llama/Meta-Llama-3.1-8B-Instruct-Reference``).
        tokenizer: a ``tokenizer.json`` (or its folder) to use, or an open tokenizer;
            ``None`` looks for a registered one, then in the Hugging Face cache.
        provider: the provider that trains it (only to say so in messages).

    Raises:
        UsageError: a given path that is not a tokenizer file.
        MissingExtra: a path given (or registered) without ``tokenizers`` installed.
        TokenizerUnavailable: nothing local, and no verified vocabulary of the stand-in.
    """
    if isinstance(tokenizer, (str, os.PathLike)):
        return hf_tokenizer(tokenizer, source=model.strip())
    if tokenizer is not None:
        return tokenizer
    name = model.strip()
    registered = _registered_for(name)
    if registered is not None:
        return hf_tokenizer(registered[1], source=registered[0])
    cache = hub_cache()
    found = find_cached(hf_repos(name), cache)
    if found is not None:
        try:
            return hf_tokenizer(found.path, source=found.repo)
        except (MissingExtra, UsageError) as exc:
            _warn_once(
                name, "cannot read %s's cached tokenizer (%s); counting it approximately", name, exc
            )
    family = _family_of(name)
    try:
        stand_in = _stand_in(family.family)
    except TokenizerUnavailable as exc:
        where = f" for {provider}" if provider else ""
        raise TokenizerUnavailable(
            exc.encoding,
            [
                *exc.tried,
                f"no tokenizer.json of {name}{where} was registered "
                f"(ftkit.tokens.register_tokenizer) or found in the Hugging Face cache {cache}",
            ],
        ) from None
    if stand_in.approximate:
        _warn_once(
            name,
            "no tokenizer.json of %s is registered or in the Hugging Face cache (%s): its "
            "tokens are approximate (%s, %s framing); register_tokenizer() or "
            "`huggingface-cli download %s tokenizer.json tokenizer_config.json` makes them exact",
            name,
            cache,
            stand_in.chat_format.stand_in,
            stand_in.chat_format.family,
            hf_repos(name)[-1],
        )
    return stand_in


def _family_of(name: str) -> ChatFormat:
    """The chat template family a stand-in frames ``name`` with: by its id, else by the
    repositories it maps to (a Fireworks ``llama-v3p1-*`` id names no family ftkit knows;
    its ``meta-llama/Llama-3.1-*`` repository does)."""
    for candidate in (name, *hf_repos(name)[1:]):
        family = detect(model=candidate)
        if family is not GENERIC:
            return family
    return GENERIC


class OpenModelCounter(TokenCounter):
    """A :class:`~ftkit.tokens.TokenCounter` for an open model: its tokenizer and template framing.

    ``TokenCounter(model, provider="together")`` builds one (as does a ``tokenizer.json``
    path given as ``tokenizer``). The counting rules are in this module's docstring;
    every :class:`~ftkit.tokens.ExampleTokens` it returns carries ``approximate``.

    Attributes:
        approximate: whether its counts are estimates (a stand-in tokenizer, or a chat
            template family ftkit does not know).
        chat_format: the framing it counts (``chat_format.family``).
    """

    __slots__ = (
        "_begin",
        "_calls",
        "_frames",
        "_reasoning",
        "_specials",
        "_tool_frame",
        "_tools_frame",
        "chat_format",
    )

    def __init__(
        self,
        model: str,
        tokenizer: Tokenizer | str | os.PathLike[str] | None = None,
        *,
        provider: str | None = None,
    ) -> None:
        """Build a counter for the open model ``model`` (see :func:`open_model_tokenizer`).

        Raises:
            UsageError: an empty model name, or a path that is not a tokenizer file.
            MissingExtra: a path given without ``tokenizers`` installed.
            TokenizerUnavailable: nothing local, and no verified stand-in vocabulary.
        """
        if not isinstance(model, str) or not model.strip():
            raise UsageError("model must be a model name such as 'Qwen/Qwen3-8B'")
        if (
            tokenizer is not None
            and not isinstance(tokenizer, (str, os.PathLike))
            and getattr(tokenizer, "chat_format", None) is None
        ):
            raise UsageError("an open model's tokenizer must have a chat_format")
        resolved = open_model_tokenizer(model, tokenizer, provider=provider)  # type: ignore[arg-type]
        super().__init__(model, resolved, provider=provider)
        chat_format = resolved.chat_format
        self.chat_format = chat_format
        self.approximate = bool(resolved.approximate)
        texts = chat_format.texts()
        self._specials = [s for s in resolved.specials if any(s in text for text in texts)]
        self._frames: dict[str, tuple[int, int]] = {}
        self._calls: dict[str, int] = {}
        self._begin = self._framing(chat_format.begin)
        self._reasoning = sum(map(self._framing, chat_format.reasoning))
        self._tools_frame = sum(map(self._framing, chat_format.tools))
        self._tool_frame = sum(map(self._framing, chat_format.tool))

    def __repr__(self) -> str:
        return (
            f"OpenModelCounter(model={self.model!r}, tokenizer={self.encoding_name!r}, "
            f"family={self.chat_format.family!r}"
            + (", approximate=True)" if self.approximate else ")")
        )

    # -- framing ------------------------------------------------------------------------------

    def _framing(self, text: str) -> int:
        """Tokens of a framing text: its special tokens one each, the rest encoded."""
        if not text:
            return 0
        count = self._length
        return sum(
            1 if special else count(piece)
            for piece, special in special_pieces(text, self._specials)
        )

    def _frame(self, role: str) -> tuple[int, int]:
        found = self._frames.get(role)
        if found is None:
            before, after = self.chat_format.frame(role)
            found = (self._framing(before), self._framing(after))
            if len(self._frames) < _MAX_CACHED_FRAMES:
                self._frames[role] = found
        return found

    def _call_frame(self, name: str) -> int:
        found = self._calls.get(name)
        if found is None:
            found = sum(self._framing(t.replace("{name}", name)) for t in self.chat_format.call)
            if len(self._calls) < _MAX_CACHED_FRAMES:
                self._calls[name] = found
        return found

    # -- examples -----------------------------------------------------------------------------

    def _sft(self, messages: Any, tools: Any, functions: Any) -> ExampleTokens:
        position = self._begin
        if tools is not None or functions is not None:
            position += self._definitions(tools, functions)
        trained = 0
        images = False
        spans: list[tuple[int, int]] = []
        if isinstance(messages, list):
            for message in messages:
                if not isinstance(message, dict):
                    continue
                size, target, pictured = self._turn(message, force_trained=False)
                position += size
                images = images or pictured
                if target:
                    trained += target
                    spans.append((position, target))
        approximate = self.approximate or images
        limit = self.limit
        if limit is None or position <= limit:
            return ExampleTokens(position, trained, position, False, 0, approximate)
        return ExampleTokens(position, trained, limit, True, _lost(spans, limit), approximate)

    def _dpo(self, obj: Any) -> ExampleTokens:
        # One prompt, two completions: each pair (prompt + output) must fit in the limit.
        source = obj.get("input")
        prompt = self._begin
        images = False
        if isinstance(source, dict):
            prompt += self._definitions(source.get("tools"), source.get("functions"))
            messages = source.get("messages")
            if isinstance(messages, list):
                for message in messages:
                    if isinstance(message, dict):
                        size, _, pictured = self._turn(message, force_trained=False)
                        prompt += size
                        images = images or pictured
        total = prompt
        trained = billed = lost = 0
        over = False
        limit = self.limit
        for key in ("preferred_output", "non_preferred_output"):
            outputs = obj.get(key)
            if not isinstance(outputs, list):
                continue
            position = prompt
            spans: list[tuple[int, int]] = []
            for message in outputs:
                if not isinstance(message, dict):
                    continue
                size, target, pictured = self._turn(message, force_trained=True)
                position += size
                images = images or pictured
                trained += target
                spans.append((position, target))
            total += position - prompt
            if limit is not None and position > limit:
                over = True
                billed += max(0, limit - prompt)
                lost += _lost(spans, limit)
            else:
                billed += position - prompt
        billed += prompt if limit is None else min(prompt, limit)
        return ExampleTokens(total, trained, billed, over, lost, self.approximate or images)

    def _turn(self, message: dict[str, Any], *, force_trained: bool) -> tuple[int, int, bool]:
        """``(tokens, trained tokens, has images)`` of one message, framing included."""
        role = message.get("role")
        role = role if isinstance(role, str) else ""
        before, after = self._frame(role)
        text = self.text
        body = 0
        images = False
        content = message.get("content")
        if isinstance(content, str):
            body += text(content)
        elif isinstance(content, list):
            n, images = self._content_parts(content)
            body += n
        for key in _REASONING_KEYS:
            value = message.get(key)
            if isinstance(value, str) and value:
                body += self._reasoning + text(value)
        calls = message.get("tool_calls")
        if isinstance(calls, list):
            for call in calls:
                if isinstance(call, dict):
                    body += self._tool_call(call.get("function"))
        if message.get("function_call") is not None:
            body += self._tool_call(message["function_call"])
        trained = force_trained or (role == "assistant" and message.get("weight") != 0)
        return before + body + after, (body + after if trained else 0), images

    def _content_parts(self, parts: list[Any]) -> tuple[int, bool]:
        n = 0
        images = False
        for part in parts:
            if not isinstance(part, dict):
                continue
            kind = part.get("type")
            if kind == "text":
                value = part.get("text")
                if isinstance(value, str):
                    n += self.text(value)
            elif kind == "image_url":
                # Each vision model has its own image tokens: OpenAI's tile formula stands in,
                # and the example is marked approximate.
                images = True
                image = part.get("image_url")
                if isinstance(image, dict):
                    n += image_tokens(image.get("url"), image.get("detail"))
                elif isinstance(image, str):
                    n += image_tokens(image, None)
        return n, images

    def _tool_call(self, function: Any) -> int:
        if not isinstance(function, dict):
            return 0
        name = function.get("name")
        name = name if isinstance(name, str) else ""
        arguments = function.get("arguments")
        if isinstance(arguments, str):
            written = arguments
        else:
            written = "{}" if arguments is None else _tojson(arguments)
        style = self.chat_format.call_style
        if style != "raw":
            key = "parameters" if style == "parameters" else "arguments"
            written = f'{{"name": {_tojson(name)}, "{key}": {written}}}'
        return self._call_frame(name) + self.text(written)

    def _definitions(self, tools: Any, functions: Any) -> int:
        """Tokens of the tool definitions: each one's JSON, and the family's framing."""
        found: list[Any] = []
        if isinstance(tools, list):
            found += [tool for tool in tools if isinstance(tool, dict)]
        if isinstance(functions, list):
            found += [{"type": "function", "function": f} for f in functions if isinstance(f, dict)]
        if not found:
            return 0
        indent = self.chat_format.tools_indent
        return self._tools_frame + sum(
            self._tool_frame + self.text(_tojson(d, indent)) for d in found
        )


def _tojson(value: Any, indent: int | None = None) -> str:
    """``value`` as a Hugging Face chat template's ``tojson`` writes it (``", "``, ``": "``)."""
    try:
        return json.dumps(value, ensure_ascii=False, indent=indent)
    except (TypeError, ValueError):
        return str(value)


register_open_models(OpenModelCounter, is_open_model)
