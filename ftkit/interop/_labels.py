"""Pre-tokenized SFT rows whose ``labels`` honour every per-message weight.

TRL has no per-message weight, but it trains on a ``labels`` column as given. So
ftkit renders each conversation with the model's own chat template (the Jinja
``chat_template`` of its ``tokenizer_config.json``, or ``chat_template.jinja``
beside it), in a sandbox set up as ``transformers`` sets it up, so the model trains
on exactly the text it is served. A token keeps its id as label only inside a
trained assistant turn (weight 1 or absent): the turn's text, its tool calls and the
end-of-turn token the template writes. Every other token (system, user and tool
turns, role headers, tool definitions, weight-0 turns, the separator after an
end-of-turn token) is ``-100``, the index PyTorch's cross-entropy ignores.

Each assistant turn's span is found by incremental rendering: the turn starts where
``messages[:i]`` with the generation prompt ends and ends where ``messages[:i + 1]``
ends. That only holds when every shorter render is a prefix of the longer ones; a
record for which the template is not prefix-stable (it rewrites earlier turns, as
reasoning templates do with past ``<think>`` blocks) is refused, never guessed.
The rendered text is encoded span by span, so label boundaries fall exactly on turn
boundaries (a BPE merge across a boundary, a token at most, is not made).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .._exceptions import UsageError
from ..schema import AssistantMessage, FunctionCall, ImagePart, SFTRecord, ToolMessage
from ._messages import text_of

__all__ = ["IGNORE", "Labeller", "has_images", "labeller"]

IGNORE = -100
"""The label of a token not trained (PyTorch's ``CrossEntropyLoss`` ``ignore_index``)."""

_ROLES = {"developer": "system", "function": "tool"}


@dataclass(frozen=True)
class Labeller:
    """A tokenizer and the model's chat template it renders conversations with."""

    backend: Any
    """A ``tokenizers.Tokenizer`` (a private copy: its settings are ftkit's)."""
    render: Callable[..., str]
    """The compiled template's ``render`` (sandboxed)."""
    tokens: dict[str, str]
    """The special tokens the template is given (``bos_token``, ``eos_token``...)."""
    specials: tuple[str, ...]
    """The vocabulary's special tokens (a turn's trained span ends at the last one)."""
    source: str
    """The template and where it came from (``the chat template of <folder>``...)."""

    def row(self, record: SFTRecord, where: str = "this record") -> dict[str, list[int]]:
        """``input_ids`` and ``labels`` of one conversation.

        Raises:
            UsageError: the template fails on this record, is not prefix-stable for it,
                writes no generation prompt, or a message holds a special token as text.
        """
        messages = [_message(m) for m in record.messages]
        self._no_specials_in(messages, where)
        tools = _definitions(record) or None
        full = self._render(messages, tools, False, where)
        spans: list[tuple[int, int]] = []
        for i, message in enumerate(record.messages):
            if not isinstance(message, AssistantMessage):
                continue
            plain = self._render(messages[:i], tools, False, where)
            before = self._render(messages[:i], tools, True, where)
            upto = self._render(messages[: i + 1], tools, False, where)
            if not (before.startswith(plain) and upto.startswith(before) and full.startswith(upto)):
                raise UsageError(
                    f"{where}: {self.source} is not prefix-stable here "
                    f"(rendering messages[:{i + 1}] does not start with the render of the turns "
                    "before it, or the whole conversation does not start with it): ftkit cannot "
                    f"tell which tokens are messages[{i}]'s, and does not guess"
                )
            if before == plain:
                raise UsageError(
                    f"{where}: {self.source} writes no generation prompt "
                    "(add_generation_prompt), so the assistant header cannot be told from the "
                    f"turn messages[{i}]"
                )
            if message.trained:
                spans.append((len(before), len(before) + self._trained_length(upto[len(before) :])))
        ids: list[int] = []
        labels: list[int] = []
        cursor = 0
        for start, end in [*spans, (len(full), len(full))]:
            masked = self._encode(full[cursor:start])
            trained = self._encode(full[start:end])
            ids += masked + trained
            labels += [IGNORE] * len(masked) + trained
            cursor = end
        return {"input_ids": ids, "labels": labels}

    def _render(self, messages: list[dict[str, Any]], tools: Any, prompt: bool, where: str) -> str:
        from jinja2.exceptions import TemplateError

        try:
            return self.render(
                messages=messages, tools=tools, add_generation_prompt=prompt, **self.tokens
            )
        except TemplateError as exc:
            raise UsageError(
                f"{where}: {self.source} refused messages[:{len(messages)}]: {exc}"
            ) from None
        except Exception as exc:  # a template's own bug (a KeyError, a TypeError...)
            raise UsageError(
                f"{where}: {self.source} failed on "
                f"messages[:{len(messages)}]: {type(exc).__name__}: {exc}"
            ) from None

    def _trained_length(self, turn: str) -> int:
        """The turn up to its last special token: the separator after it is never generated."""
        ends = [turn.rfind(s) + len(s) for s in self.specials if s in turn]
        end = max(ends, default=len(turn))
        return end if not turn[end:].strip() else len(turn)

    def _encode(self, text: str) -> list[int]:
        if not text:
            return []
        found: list[int] = self.backend.encode(text, add_special_tokens=False).ids
        return found

    def _no_specials_in(self, messages: list[dict[str, Any]], where: str) -> None:
        """Refuse a special token written as text: encoded, it would become the token."""
        for i, message in enumerate(messages):
            text = json.dumps(message, ensure_ascii=False)
            for special in self.specials:
                if special in text:
                    raise UsageError(
                        f"{where}: messages[{i}] holds the special token {special!r} as text; "
                        "rendered, it would be encoded as that token"
                    )


def _message(message: Any) -> dict[str, Any]:
    """A message as Hugging Face chat templates read it (``transformers``' layout)."""
    out: dict[str, Any] = {
        "role": _ROLES.get(message.role, message.role),
        "content": text_of(message.content),
    }
    if isinstance(message, AssistantMessage):
        calls: list[tuple[str | None, FunctionCall]] = [
            (c.id, c.function) for c in message.tool_calls or ()
        ]
        if message.function_call is not None:
            calls.append((None, message.function_call))
        if calls:
            out["tool_calls"] = [_call(call_id, f) for call_id, f in calls]
    if isinstance(message, ToolMessage):
        out["tool_call_id"] = message.tool_call_id
    return out


def _call(call_id: str | None, function: FunctionCall) -> dict[str, Any]:
    """A tool call with its arguments as an object, as templates expect (a string if not one)."""
    try:
        arguments: Any = json.loads(function.arguments)
    except ValueError:
        arguments = function.arguments
    if not isinstance(arguments, dict):
        arguments = function.arguments
    call: dict[str, Any] = {
        "type": "function",
        "function": {"name": function.name, "arguments": arguments},
    }
    if call_id is not None:
        call["id"] = call_id
    return call


def _definitions(record: SFTRecord) -> list[dict[str, Any]]:
    found = [t.model_dump(mode="json", exclude_unset=True) for t in record.tools or ()]
    found += [
        {"type": "function", "function": f.model_dump(mode="json", exclude_unset=True)}
        for f in record.functions or ()
    ]
    return found


def has_images(record: SFTRecord) -> bool:
    """Whether any message holds an image (a text tokenizer cannot label one)."""
    return any(
        isinstance(m.content, list) and any(isinstance(p, ImagePart) for p in m.content)
        for m in record.messages
    )


def labeller(tokenizer: Any, chat_format: str | os.PathLike[str] | None = None) -> Labeller:
    """A :class:`Labeller` for a ``tokenizer.json`` path (or folder) or a ``tokenizers.Tokenizer``.

    The template is ``chat_format`` when given: a Jinja chat template's text, or a file
    holding one (``chat_template.jinja``, or a ``tokenizer_config.json`` whose special
    tokens come with it). Otherwise it is the one beside the tokenizer file. ftkit's
    own family framings are never used for labels: they are not what the model is
    served.

    Raises:
        UsageError: not a tokenizer, no chat template, a template that does not compile,
            or one that uses a special token (``bos_token``...) ftkit was not given.
        MissingExtra: ``tokenizers`` or ``jinja2`` is not installed.
    """
    from .._optional import require

    tokenizers = require("tokenizers", extra="trl", feature="pre-tokenized TRL labels")
    require("jinja2", extra="trl", feature="pre-tokenized TRL labels")
    template: str | None = None
    tokens: dict[str, str] = {}
    if isinstance(tokenizer, (str, os.PathLike)):
        from ..tokens._hf import hf_tokenizer

        loaded = hf_tokenizer(tokenizer)
        backend = tokenizers.Tokenizer.from_file(str(loaded.path))
        template, tokens = _read(loaded.path.parent)
        where = str(loaded.path.parent)
        source = f"the chat template of {where}"
    elif isinstance(tokenizer, tokenizers.Tokenizer):
        backend = tokenizers.Tokenizer.from_str(tokenizer.to_str())  # the caller's stays as it is
        where = "the tokenizer given"
        source = where
    else:
        raise UsageError(
            "tokenizer must be a tokenizer.json path (or its folder) or a tokenizers.Tokenizer, "
            f"got {type(tokenizer).__name__}"
        )
    if chat_format is not None:
        template, given, source = _given(chat_format)
        tokens = given or tokens
    if template is None:
        raise UsageError(
            f"no chat template for {where}: pre-tokenized labels are rendered with the model's "
            "own template (tokenizer_config.json's chat_template or chat_template.jinja beside "
            "tokenizer.json); give it with chat_format= (--chat-format), its text or its file"
        )
    backend.no_truncation()
    backend.no_padding()
    specials = tuple(
        str(t.content) for t in backend.get_added_tokens_decoder().values() if t.special
    )
    return Labeller(backend, _compile(template, tokens, source), tokens, specials, source)


def _read(folder: Path) -> tuple[str | None, dict[str, str]]:
    """The template and the special tokens of a tokenizer's folder."""
    from ..tokens._hf import CONFIG_FILE, read_template

    template, _ = read_template(folder)
    return template, _special_tokens(folder / CONFIG_FILE)


def _special_tokens(config_file: Path) -> dict[str, str]:
    """``bos_token``, ``eos_token``... of a ``tokenizer_config.json`` (as templates get them)."""
    from ..tokens._hf import _token_text

    try:
        config = json.loads(config_file.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(config, dict):
        return {}
    found = {key: _token_text(value) for key, value in config.items() if key.endswith("_token")}
    return {key: value for key, value in found.items() if value is not None}


def _given(chat_format: str | os.PathLike[str]) -> tuple[str, dict[str, str], str]:
    """``chat_format=``: a template's text or a file; a family name is refused."""
    text = os.fspath(chat_format)
    if "{{" in text or "{%" in text:
        return text, {}, "the chat template given (chat_format=)"
    path = Path(text)
    if path.is_file() and path.suffix == ".json":
        from ..tokens._hf import _template_of

        try:
            config = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot read the chat template in {path}: {exc}") from None
        found = _template_of(config.get("chat_template")) if isinstance(config, dict) else None
        if found is None:
            raise UsageError(f"{path} holds no chat_template")
        return found, _special_tokens(path), f"the chat template in {path}"
    if path.is_file():
        return path.read_text("utf-8"), {}, f"the chat template in {path}"
    raise UsageError(
        f"chat_format {text!r} is neither a Jinja chat template nor a file holding one; "
        "labels are rendered with the model's own template, not a named family framing"
    )


def _compile(template: str, tokens: dict[str, str], where: str) -> Callable[..., str]:
    """The template compiled as ``transformers`` compiles it, in a sandbox."""
    from jinja2 import TemplateError, meta, nodes
    from jinja2.ext import Extension, loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class Generation(Extension):
        """``{% generation %}`` (HF's assistant mask marker): renders its body as is."""

        tags = {"generation"}  # noqa: RUF012 (jinja2's API)

        def parse(self, parser: Any) -> list[nodes.Node]:
            next(parser.stream)
            body: list[nodes.Node] = parser.parse_statements(
                ("name:endgeneration",), drop_needle=True
            )
            return body

    def raise_exception(message: str) -> None:
        raise TemplateError(message)

    def tojson(
        x: Any,
        ensure_ascii: bool = False,
        indent: int | None = None,
        separators: tuple[str, str] | None = None,
        sort_keys: bool = False,
    ) -> str:
        return json.dumps(
            x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys
        )

    def strftime_now(format: str) -> str:
        return datetime.now().strftime(format)

    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[Generation, loopcontrols]
    )
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    try:
        parsed = env.parse(template)
        compiled = env.from_string(template)
    except TemplateError as exc:
        raise UsageError(f"{where} does not compile: {exc}") from None
    missing = sorted(
        name
        for name in meta.find_undeclared_variables(parsed)
        if name.endswith("_token") and name not in tokens
    )
    if missing:
        raise UsageError(
            f"{where} uses {', '.join(missing)}, which ftkit was not "
            "given: pass the tokenizer's folder (its tokenizer_config.json) or that file as "
            "chat_format="
        )
    return compiled.render
