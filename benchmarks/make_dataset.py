#!/usr/bin/env python3
"""Write a deterministic, realistic fine-tuning JSONL workload of a given size.

    make_dataset.py OUT.jsonl --kind sft|weighted|tools|dpo|mixed --mb 50 [--seed 0]

Examples look like real chat fine-tuning data: a long system prompt shared by
many examples (as in real datasets), varied user/assistant turns, some
non-ASCII text, tool definitions and tool calls, weights on multi-turn
assistant messages, and DPO preference pairs. Only the standard library is used.
"""

import argparse
import json
import random

WORDS = (  # noqa: SIM905 (a sentence, kept readable)
    "the model should answer in a short sarcastic tone while staying factual about "
    "capital cities rivers mountains authors planets distances code reviews pull requests "
    "performance memory leak goroutine channel index range nil pointer concurrency json "
    "parsing timeout context database query missing index cache invalidation retry backoff "
    "weather forecast temperature sunshine clouds fog morning evening tomorrow yesterday "
    "headline player team sport trade injury contract season coach transfer league final "
    "score invoice refund shipping order customer account password reset subscription plan"
).split()
UNICODE = ["café", "naïve", "東京", "München", "😀", "façade", "Ελλάδα", "число", "ñandú", "✓"]

SYSTEM_PROMPTS = [
    "Marv is a factual chatbot that is also sarcastic.",
    "Given a sports headline, provide the following fields in a JSON dict, where applicable: "
    '"player" (full name), "team", "sport", and "gender".',
    "You are a highly skilled code review assistant specializing in analyzing pull requests "
    "and providing specific, actionable code review comments. " + " ".join(WORDS) * 6,
    "You are a support agent for an online store. Be concise and polite. " + " ".join(WORDS) * 2,
]

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_current_weather",
            "description": "Get the current weather in a given location",
            "parameters": {
                "type": "object",
                "properties": {
                    "location": {
                        "type": "string",
                        "description": "The city and state, e.g. San Francisco, CA",
                    },
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                },
                "required": ["location"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "lookup_order",
            "description": "Look up an order by its id",
            "parameters": {
                "type": "object",
                "properties": {"order_id": {"type": "string", "description": "The order id"}},
                "required": ["order_id"],
            },
        },
    },
]


def sentence(rng, lo=4, hi=40):
    n = rng.randint(lo, hi)
    words = [rng.choice(WORDS) if rng.random() > 0.04 else rng.choice(UNICODE) for _ in range(n)]
    return " ".join(words).capitalize() + rng.choice([".", "?", "!", "..."])


def paragraph(rng, lo=1, hi=6):
    return " ".join(sentence(rng) for _ in range(rng.randint(lo, hi)))


def sft(rng):
    return {
        "messages": [
            {"role": "system", "content": rng.choice(SYSTEM_PROMPTS)},
            {"role": "user", "content": paragraph(rng, 1, 3)},
            {"role": "assistant", "content": paragraph(rng, 1, 8)},
        ]
    }


def weighted(rng):
    msgs = [{"role": "system", "content": rng.choice(SYSTEM_PROMPTS)}]
    for _ in range(rng.randint(2, 5)):
        msgs.append({"role": "user", "content": paragraph(rng, 1, 2)})
        msgs.append(
            {"role": "assistant", "content": paragraph(rng, 1, 4), "weight": rng.choice([0, 1])}
        )
    msgs[-1]["weight"] = 1
    return {"messages": msgs}


def tools(rng):
    call_id = f"call_{rng.randrange(10**8):08d}"
    city = rng.choice(["Paris", "Tokyo", "San Francisco, CA", "München"])
    return {
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPTS[3]},
            {"role": "user", "content": f"What is the weather in {city}? {sentence(rng)}"},
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": call_id,
                        "type": "function",
                        "function": {
                            "name": "get_current_weather",
                            "arguments": json.dumps({"location": city, "unit": "celsius"}),
                        },
                    }
                ],
            },
            {
                "role": "tool",
                "tool_call_id": call_id,
                "content": json.dumps({"temperature": rng.randint(-5, 35)}),
            },
            {"role": "assistant", "content": paragraph(rng, 1, 3)},
        ],
        "tools": TOOLS,
        "parallel_tool_calls": False,
    }


def dpo(rng):
    return {
        "input": {
            "messages": [
                {"role": "system", "content": rng.choice(SYSTEM_PROMPTS)},
                {"role": "user", "content": paragraph(rng, 1, 3)},
            ],
            "tools": [],
            "parallel_tool_calls": True,
        },
        "preferred_output": [{"role": "assistant", "content": paragraph(rng, 2, 6)}],
        "non_preferred_output": [{"role": "assistant", "content": paragraph(rng, 1, 2)}],
    }


KINDS = {
    "sft": [sft],
    "weighted": [weighted],
    "tools": [tools],
    "dpo": [dpo],
    "mixed": [sft, weighted, tools],
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--kind", choices=sorted(KINDS), default="mixed")
    ap.add_argument("--mb", type=float, default=10.0, help="approximate size in MB")
    ap.add_argument(
        "--examples", type=int, default=0, help="exact number of examples instead of --mb"
    )
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    target = int(a.mb * 1_000_000)
    written = n = 0
    makers = KINDS[a.kind]
    with open(a.out, "w", encoding="utf-8") as f:
        while (n < a.examples) if a.examples else (written < target):
            line = json.dumps(rng.choice(makers)(rng), ensure_ascii=False) + "\n"
            f.write(line)
            written += len(line.encode("utf-8"))
            n += 1
    print(f"{a.out}: {n} examples, {written / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
