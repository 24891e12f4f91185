"""Chat Completions in the fake: fine-tuned models that have "learned" their training data.

So the whole loop (split, train, evaluate) runs offline, ``POST /chat/completions``
answers deterministically, as a stand-in for real inference:

- a **fine-tuned model** (any provider's: ``ft:...``, Azure's ``<base>.ft-<job>``,
  Together's and Fireworks' output names; checkpoints included) remembers every trained
  assistant turn of the training file of the job that produced it, keyed by the
  conversation before that turn (SFT), and the preferred output of every DPO pair.
  A model trained from another fine-tune also remembers what its parent learned.
  Asked a conversation it saw, it answers with the reference reply, except for a
  deterministic fraction :attr:`ChatBehaviour.error_rate` of prompts where it gets one
  detail wrong (one JSON field, one tool argument, or the whole text);
- asked a conversation it did not see, it **generalises** the way a small fine-tune
  does: it answers with the reply it learned for the most similar training prompt
  (word overlap of the last user message), so it gets the format and the common
  values right, the specifics usually wrong;
- a **base model** answers with a plausible but wrong reply: prose about the last user
  message, or a call to the first tool with empty arguments when tools are offered;
- any model asked by **ftkit's judge** (a ``response_format`` of its judge schemas)
  answers as the fake judge does (:mod:`._judge`): a verdict or grade a test can
  predict, with the seeded flaws :class:`ChatBehaviour` sets.

Every choice is seeded by the model name and a hash of the prompt: the same
request always gets the same answer. Usage is counted with ftkit's token counter.
"""

from __future__ import annotations

import hashlib
import json
import re
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ..evaluation._judge_prompts import read_judge_request
from ..providers._names import parse_fine_tuned_name
from ._core import Core, bad_request
from ._judge import judge_reply
from ._models import ModelStore

__all__ = ["ChatBehaviour", "FakeChat", "prompt_key"]

_ALNUM = string.ascii_letters + string.digits
_WORD = re.compile(r"\w+", re.UNICODE)
_CKPT = re.compile(r":ckpt-step-\d+$")


@dataclass(frozen=True)
class ChatBehaviour:
    """How the fake's models answer Chat Completions.

    Attributes:
        error_rate: the fraction of *seen* prompts a fine-tuned model gets wrong
            (deterministic per model and prompt); 0 makes it recall perfectly.
        generalise: whether a fine-tuned model answers an unseen prompt with the
            reply of its nearest training prompt (``False``: it answers like its base).
        judge_tie_rate: the share of pairs the fake judge calls a tie though one answer
            wins (seeded by the pair whatever its order, so both orders of ftkit's
            position swap agree).
        judge_first_bias: the share of verdicts where the fake judge answers ``"A"``
            whatever the answers (seeded by the order: a position-biased judge, which
            ftkit's swap turns into ties; at 1 every verdict is ``"A"``).
        judge_malformed_rate: the share of judge replies that are prose instead of the
            JSON asked for (seeded by the whole request, so a re-ask can come out well).
    """

    error_rate: float = 0.1
    generalise: bool = True
    judge_tie_rate: float = 0.1
    judge_first_bias: float = 0.0
    judge_malformed_rate: float = 0.0

    def __post_init__(self) -> None:
        for name in ("error_rate", "judge_tie_rate", "judge_first_bias", "judge_malformed_rate"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{name} must be a number within [0, 1], got {value!r}")
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {value!r}")


@dataclass(frozen=True)
class _Lesson:
    """One trained turn: the prompt it answers, its words, and the reply."""

    key: str
    words: frozenset[str]
    reply: dict[str, Any]


def _canonical_message(message: Any) -> dict[str, Any]:
    """The parts of a message that define a conversation (no ``weight``, no nulls)."""
    if not isinstance(message, dict):
        return {"raw": message}
    kept: dict[str, Any] = {}
    for name in ("role", "content", "name", "tool_call_id", "function_call"):
        value = message.get(name)
        if value is not None:
            kept[name] = value
    calls = message.get("tool_calls")
    if calls:
        kept["tool_calls"] = [
            {
                "id": c.get("id"),
                "name": (c.get("function") or {}).get("name"),
                "arguments": (c.get("function") or {}).get("arguments"),
            }
            for c in calls
            if isinstance(c, dict)
        ]
    return kept


def prompt_key(messages: list[Any]) -> str:
    """A stable digest of a conversation, equal for the same turns whatever the formatting."""
    canonical = [_canonical_message(m) for m in messages]
    text = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            str(p.get("text", ""))
            for p in content
            if isinstance(p, dict) and p.get("type") == "text"
        )
    return ""


def _words(messages: list[Any]) -> frozenset[str]:
    """The words of the last user (or tool) message: what differs between prompts of a task."""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") in ("user", "tool"):
            text = _text_of(message.get("content"))
            break
    else:
        text = " ".join(_text_of(m.get("content")) for m in messages if isinstance(m, dict))
    return frozenset(w.lower() for w in _WORD.findall(text))


def _reply_of(message: dict[str, Any]) -> dict[str, Any]:
    """The assistant reply a lesson teaches: text content and/or tool calls."""
    reply: dict[str, Any] = {}
    content = message.get("content")
    if content is not None:
        reply["content"] = _text_of(content)
    if message.get("tool_calls"):
        reply["tool_calls"] = [
            {
                "name": (c.get("function") or {}).get("name", ""),
                "arguments": (c.get("function") or {}).get("arguments", "{}"),
            }
            for c in message["tool_calls"]
            if isinstance(c, dict)
        ]
    elif isinstance(message.get("function_call"), dict):
        call = message["function_call"]
        reply["tool_calls"] = [
            {"name": call.get("name", ""), "arguments": call.get("arguments", "{}")}
        ]
    return reply


def lessons_of(content: bytes) -> Iterator[_Lesson]:
    """Every (prompt, reply) pair a training file teaches, in file order."""
    for raw in content.splitlines():
        try:
            row = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(row, dict):
            continue
        if isinstance(row.get("messages"), list):
            messages = [m for m in row["messages"] if isinstance(m, dict)]
            for index, message in enumerate(messages):
                if message.get("role") != "assistant" or message.get("weight") == 0:
                    continue
                prompt = messages[:index]
                yield _Lesson(prompt_key(prompt), _words(prompt), _reply_of(message))
        elif isinstance(row.get("input"), dict) and isinstance(row.get("preferred_output"), list):
            prompt = [m for m in row["input"].get("messages") or [] if isinstance(m, dict)]
            outputs = [m for m in row["preferred_output"] if isinstance(m, dict)]
            if outputs:
                yield _Lesson(prompt_key(prompt), _words(prompt), _reply_of(outputs[0]))


def _unit(*parts: str) -> float:
    """A deterministic number in [0, 1) from the given strings."""
    digest = hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()
    return int(digest[:13], 16) / float(16**13)


class FakeChat:
    """The fake's inference: what each model knows and how it answers (serialised by the fake).

    Args:
        core: the fake's clock and ids.
        models: the models that exist (a request for any other is refused).
        behaviour: the error rate and generalisation switch.
    """

    def __init__(
        self, core: Core, models: ModelStore, behaviour: ChatBehaviour | None = None
    ) -> None:
        self._core = core
        self._models = models
        self.behaviour = behaviour or ChatBehaviour()
        self._memory: dict[str, dict[str, _Lesson]] = {}
        # Azure: the model an ARM deployment of that name serves (``FakeARM.serving``);
        # a deployment name it does not know is taken as a model name, as before.
        self.deployments: Callable[[str], str | None] = lambda name: None

    # ------------------------------------------------------------- knowledge
    def memory(self, model: str) -> dict[str, _Lesson]:
        """What a fine-tuned model learned, by prompt key (empty for base models)."""
        return self._memory.get(_CKPT.sub("", model), {})

    def learn(self, name: str, *, parent: str, training: bytes | None) -> None:
        """Fix what a just-succeeded job's model ``name`` knows.

        Its training file's lessons, on top of what ``parent`` learned when the
        parent is itself a fine-tune. Called when the job succeeds, so deleting
        the training file later changes nothing.
        """
        learned: dict[str, _Lesson] = {}
        if parent != name:  # a base model learned nothing: its memory is empty
            learned.update(self.memory(parent))
        if training is not None:
            for lesson in lessons_of(training):
                learned[lesson.key] = lesson
        self._memory[name] = learned

    # --------------------------------------------------------------- answers
    def complete(self, body: dict[str, Any], *, deployment: str | None = None) -> dict[str, Any]:
        """Answer one Chat Completions request body with a ``chat.completion`` object.

        Raises:
            WireError: 400 for a malformed request, 404 for an unknown model.
        """
        model = (self.deployments(deployment) or deployment) if deployment else body.get("model")
        if not isinstance(model, str) or not model:
            raise bad_request("you must provide a model parameter", param="model")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise bad_request(
                "[] is too short - 'messages'" if messages == [] else "messages is required.",
                param="messages",
                code="invalid_value" if messages == [] else None,
            )
        if not all(isinstance(m, dict) and isinstance(m.get("role"), str) for m in messages):
            raise bad_request("Each message needs a 'role'.", param="messages")
        for index, message in enumerate(messages):
            if "weight" in message:
                raise bad_request(
                    f"Unrecognized request argument supplied: messages[{index}].weight",
                    param=f"messages[{index}].weight",
                )
        n = body.get("n", 1)
        if n is None:
            n = 1
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 128:
            raise bad_request("n must be an integer from 1 to 128.", param="n")
        served = self._models.served_name(model)
        tools = [t for t in body.get("tools") or [] if isinstance(t, dict)]
        key = prompt_key(messages)
        judged = read_judge_request(body)
        if judged is None:
            reply = self._answer(model, messages, tools)
        else:
            behaviour = self.behaviour
            reply = {
                "content": judge_reply(
                    judged,
                    lambda *parts: _unit(model, *parts),
                    key,
                    tie_rate=behaviour.judge_tie_rate,
                    first_bias=behaviour.judge_first_bias,
                    malformed_rate=behaviour.judge_malformed_rate,
                )
            }
        answer: dict[str, Any] = {
            "role": "assistant",
            "content": reply.get("content"),
            "refusal": None,
            "annotations": [],
        }
        finish = "stop"
        if reply.get("tool_calls"):
            answer["tool_calls"] = [
                {
                    "id": "call_" + self._token(model, key, str(i), length=24),
                    "type": "function",
                    "function": {"name": c["name"], "arguments": c["arguments"]},
                }
                for i, c in enumerate(reply["tool_calls"])
            ]
            finish = "tool_calls"
        max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
        prompt_tokens, completion_tokens = self._usage(served, messages, tools, reply)
        if (
            isinstance(max_tokens, int)
            and not isinstance(max_tokens, bool)
            and completion_tokens > max_tokens > 0
            and isinstance(answer["content"], str)
        ):
            # Cut like the real service does: the reply stops mid-way with "length".
            words = answer["content"].split(" ")
            answer["content"] = " ".join(words[: max(1, max_tokens // 2)])
            completion_tokens, finish = max_tokens, "length"
        return {
            "id": "chatcmpl-" + self._token(model, key, "id", length=29),
            "object": "chat.completion",
            "created": int(self._core.now()),
            "model": served,
            "choices": [
                {"index": i, "message": dict(answer), "finish_reason": finish, "logprobs": None}
                for i in range(n)
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens * n,
                "total_tokens": prompt_tokens + completion_tokens * n,
            },
            "system_fingerprint": "fp_fake0000",
            "service_tier": "default",
        }

    def _answer(
        self, model: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> dict[str, Any]:
        # Every provider's fine-tune (``ft:...``, ``<base>.ft-<job>``, Together's and
        # Fireworks' output names) has what its job learned; a base model has nothing.
        memory = self.memory(model)
        key = prompt_key(messages)
        lesson = memory.get(key)
        if lesson is not None:
            if _unit(model, key, "error") < self.behaviour.error_rate:
                return self._wrong(model, key, lesson.reply, memory, messages, tools)
            return lesson.reply
        if memory and self.behaviour.generalise:
            words = _words(messages)
            best = max(memory.values(), key=lambda lesson: _jaccard(words, lesson.words))
            return best.reply
        return _base_reply(messages, tools)

    def _wrong(
        self,
        model: str,
        key: str,
        reply: dict[str, Any],
        memory: dict[str, _Lesson],
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
    ) -> dict[str, Any]:
        """The reference with one detail wrong (a JSON field or tool argument), else prose."""
        pick = _unit(model, key, "which")
        calls = reply.get("tool_calls")
        if calls:
            call = dict(calls[0])
            call["arguments"] = _corrupt_json(call["arguments"], pick, _siblings(memory, None))
            return {**reply, "tool_calls": [call, *calls[1:]]}
        content = reply.get("content")
        if isinstance(content, str):
            wrong = _corrupt_json(content, pick, _siblings(memory, content))
            if wrong != content:
                return {"content": wrong}
        return _base_reply(messages, tools)

    def _token(self, model: str, key: str, salt: str, *, length: int) -> str:
        digest = hashlib.sha256(f"{model}\x00{key}\x00{salt}".encode()).digest()
        return "".join(_ALNUM[b % len(_ALNUM)] for b in (digest * 2)[:length])

    @staticmethod
    def _usage(
        model: str,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        reply: dict[str, Any],
    ) -> tuple[int, int]:
        text = reply.get("content") or ""
        calls = "".join(c["name"] + c["arguments"] for c in reply.get("tool_calls") or [])
        try:
            from ..tokens.counting import TokenCounter

            counter = TokenCounter(parse_base(model))
            prompt = counter.count_messages(messages, tools=tools or None).total
            completion = counter.text(text) + (counter.text(calls) if calls else 0)
        except Exception:  # an unknown tokenizer: a rough count keeps usage present
            prompt = sum(len(json.dumps(m)) for m in messages) // 4 + 3
            completion = (len(text) + len(calls)) // 4
        return prompt, max(1, completion)


def parse_base(model: str) -> str:
    """The base snapshot of a fake model name (``ft:`` names use their second field)."""
    parsed = parse_fine_tuned_name(model)
    if parsed:
        return parsed[0]
    return model.split(".ft-", 1)[0] if _fine_tuned(model) else model


def _fine_tuned(model: str) -> bool:
    """Whether a model name is a fine-tune: OpenAI's ``ft:...`` or Azure's ``<base>.ft-<job>``."""
    return model.startswith("ft:") or ".ft-" in model


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 0.0
    return len(a & b) / len(a | b)


def _siblings(memory: dict[str, _Lesson], reference: str | None) -> list[dict[str, Any]]:
    """Other learned JSON objects: a source of plausible wrong values."""
    found: list[dict[str, Any]] = []
    for lesson in memory.values():
        content = lesson.reply.get("content")
        if not isinstance(content, str) or content == reference:
            continue
        try:
            value = json.loads(content)
        except ValueError:
            continue
        if isinstance(value, dict):
            found.append(value)
    return found


def _corrupt_json(text: str, pick: float, siblings: list[dict[str, Any]]) -> str:
    """``text`` with one field of its JSON object changed; ``text`` itself if it is no object."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if not isinstance(value, dict) or not value:
        return text
    keys = sorted(value)
    field = keys[int(pick * len(keys)) % len(keys)]
    current = value[field]
    alternatives = [s[field] for s in siblings if field in s and s[field] != current]
    if alternatives:
        new = alternatives[int(pick * 7919) % len(alternatives)]
    elif isinstance(current, bool):
        new = not current
    elif isinstance(current, (int, float)):
        new = current + 1
    elif isinstance(current, str):
        new = current[::-1] if len(current) > 1 and current[::-1] != current else current + "?"
    else:
        new = None
    spaced = '": ' in text
    return json.dumps(
        {**value, field: new},
        ensure_ascii=False,
        separators=(", ", ": ") if spaced else (",", ":"),
    )


def _base_reply(messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> dict[str, Any]:
    """What an untrained model plausibly says: a call with no arguments, or prose."""
    last = messages[-1] if messages else {}
    if tools and last.get("role") == "user":
        function = tools[0].get("function") or {}
        return {"tool_calls": [{"name": str(function.get("name", "tool")), "arguments": "{}"}]}
    user = next(
        (_text_of(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), ""
    )
    subject = " ".join(user.split())
    if len(subject) > 60:
        subject = subject[:57].rstrip() + "..."
    if not subject:
        return {"content": "Sure, I can help with that. What would you like to know?"}
    return {"content": f'Sure! Here is what I can tell you about "{subject}": it depends.'}
