"""The registry of finding codes: each code's severity, title and default fix, as data.

Codes are public API (see :mod:`ftkit.validation._issues`): a code is never renamed
or reused, and each has one fixed severity. ``docs/validation.md`` documents every
code listed here, and a test checks that the two agree. It is one table of
data, not logic, hence its length.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ._issues import CodeInfo, Severity

__all__ = ["CODES", "ERROR_CODES"]

_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO

# code -> (severity, title, default hint). Order: file, SFT, tools, images, DPO, model, quality.
_TABLE: tuple[tuple[str, Severity, str, str], ...] = (
    # --- file level
    (
        "empty_file",
        _E,
        "the file has no examples",
        "write one JSON object per line; an empty file cannot train",
    ),
    (
        "invalid_utf8",
        _E,
        "a line is not valid UTF-8",
        "re-save the file as UTF-8 (not UTF-16, Latin-1 or Windows-1252)",
    ),
    (
        "utf8_bom",
        _W,
        "the file starts with a UTF-8 byte-order mark (BOM)",
        "save the file as UTF-8 without a BOM (in Python, encoding='utf-8', not 'utf-8-sig'): "
        "ftkit reads it, but other tools and providers may not",
    ),
    (
        "utf16_file",
        _E,
        "the file is UTF-16 (or UTF-32) text, not UTF-8",
        "re-save the file as UTF-8: in Python, write it with encoding='utf-8'; in PowerShell, "
        "use Out-File -Encoding utf8 (its > and Out-File write UTF-16)",
    ),
    (
        "binary_file",
        _E,
        "the file is not text: an archive, an image or other binary data",
        "give the JSONL text file itself: decompress a .gz or .zip first, and check the path",
    ),
    (
        "multiline_json",
        _E,
        "JSON spread over several lines instead of one record per line",
        "write each record on one line: json.dumps(record) without indent, or "
        "jq -c '.[]' data.json > data.jsonl for a JSON array",
    ),
    (
        "invalid_json",
        _E,
        "a line is not valid JSON",
        "each line must be one complete JSON object; check quotes, commas and brackets, "
        "and that no record spans several lines",
    ),
    (
        "line_too_complex",
        _E,
        "a line holds more JSON values than any training example could",
        "a line of over a million bytes with hundreds of thousands of values is not a chat "
        "example; check how the file was produced",
    ),
    (
        "blank_line",
        _W,
        "a blank line inside the file",
        "remove empty lines; some uploaders and providers reject them",
    ),
    (
        "not_an_object",
        _E,
        "a line is valid JSON but not an object",
        'each line must be one object such as {"messages": [...]}',
    ),
    (
        "unknown_format",
        _E,
        "a record is neither an SFT nor a DPO record",
        "convert the records to the chat format the fine-tuning API expects",
    ),
    (
        "mixed_kinds",
        _E,
        "SFT and DPO records are mixed in one file",
        "put SFT and DPO records in separate files; a job trains one method per file",
    ),
    (
        "method_mismatch",
        _E,
        "the records do not match the requested method",
        "pass the method the file was written for, or convert the file",
    ),
    (
        "too_few_examples",
        _E,
        "fewer examples than the provider's minimum",
        "add examples: OpenAI requires at least 10 (Fireworks AI: 3)",
    ),
    (
        "too_many_examples",
        _E,
        "more examples than the provider's maximum (Fireworks AI: 3 million)",
        "split the data into several files and jobs, or sample it down to the maximum",
    ),
    (
        "few_examples",
        _W,
        "fewer examples than recommended",
        "50 to 100 well-chosen examples usually give clear improvements; add more",
    ),
    (
        "uses_uploads_api",
        _I,
        "the file is larger than the Files API limit (512 MB)",
        "nothing to do: ftkit uploads it in parts through the Uploads API",
    ),
    (
        "file_too_large",
        _E,
        "the file is larger than the Uploads API limit (8 GB)",
        "split the data or reduce it below 8 GB",
    ),
    # --- record structure (SFT, and DPO inputs)
    ("missing_field", _E, "a required field is missing", "add the field named in the path"),
    (
        "wrong_type",
        _E,
        "a field has the wrong JSON type",
        "use the type the fine-tuning format defines for this field",
    ),
    (
        "unknown_key",
        _E,
        "a key the fine-tuning format does not allow",
        "remove the key or rename it to the documented name",
    ),
    (
        "invalid_name",
        _E,
        "a message name has characters the API rejects",
        "use 1-64 letters, digits, _ or - (no spaces, dots or @), e.g. Dr_Smith",
    ),
    (
        "empty_messages",
        _E,
        "messages is an empty list",
        "add at least one user and one assistant message",
    ),
    (
        "unknown_role",
        _E,
        "a message has a missing or unknown role",
        "use one of system, user, assistant, tool, function",
    ),
    (
        "developer_role",
        _W,
        "a developer message (not in the fine-tuning spec)",
        "use role system for instructions in training files",
    ),
    (
        "missing_content",
        _E,
        "a message has no content",
        "add the message text; only assistant messages with tool_calls may omit it",
    ),
    (
        "invalid_content",
        _E,
        "content is not a string or a list of valid parts",
        'use a string, or parts like {"type": "text", "text": "..."}',
    ),
    (
        "empty_content",
        _W,
        "a message has empty text",
        "remove the message or write its text; empty turns teach nothing",
    ),
    (
        "no_assistant_message",
        _E,
        "an SFT example has no assistant message",
        "add the reply the model should learn as the last assistant message",
    ),
    (
        "no_user_message",
        _W,
        "an example has no user message",
        "add the user turn the assistant replies to",
    ),
    (
        "nothing_to_train",
        _E,
        "every assistant message has weight 0",
        "set weight 1 (or omit weight) on at least one assistant message",
    ),
    (
        "invalid_weight",
        _E,
        "weight is not 0 or 1",
        "use 0 (context only) or 1 (trained); omit it to train the turn",
    ),
    (
        "weight_not_allowed",
        _E,
        "weight on a message that is not an assistant message",
        "remove weight: only assistant messages are trained",
    ),
    (
        "provider_refused",
        _E,
        "the provider's own validation refused the file after it was uploaded",
        "fix what the provider names (a rule ftkit's validator does not know yet), then "
        "run again: the refused upload is not trained on",
    ),
    (
        "invalid_sample_weight",
        _E,
        "a record's sample weight is not a number the provider takes (Together AI: >= 0; "
        "Fireworks AI: any finite number)",
        "set weight to a number (it scales the example's loss; 0 leaves it out; Together AI "
        "takes no negative one), or remove it",
    ),
    (
        "sample_weight_missing",
        _E,
        "some examples have a sample weight and others do not (Fireworks AI)",
        "give every example a weight (1.0 is the default's effect) or remove it from all",
    ),
    (
        "system_not_first",
        _E,
        "a system message that is not the first message (Fireworks AI)",
        "move the system message to the start of the conversation, or merge it into the first",
    ),
    (
        "roles_not_alternating",
        _E,
        "user and assistant turns do not alternate (Together AI)",
        "merge consecutive turns of one role or add the missing turn: after an optional "
        "system message the roles go user, assistant, user, ... (tool results only right "
        "after an assistant's tool calls)",
    ),
    (
        "refusal_not_trained",
        _W,
        "an SFT assistant message has a refusal, which is not a training target",
        "to teach the model to refuse, write the refusal as the message's content; "
        "the refusal field is not trained and not counted",
    ),
    (
        "ends_on_non_assistant",
        _W,
        "the conversation ends on a non-assistant turn",
        "end each example on the assistant reply; trailing turns are never trained",
    ),
    (
        "special_token",
        _E,
        "text contains a special token such as <|endoftext|>",
        "remove or escape the token; the service rejects files that contain it",
    ),
    (
        "invalid_unicode",
        _E,
        "text contains a lone surrogate (invalid Unicode)",
        "fix the \\ud800-\\udfff escape; it is not a character",
    ),
    # --- tool calls and definitions
    (
        "invalid_tool_call",
        _E,
        "a tool call is not shaped as the format requires",
        'write {"id": "...", "type": "function", "function": {"name": "...", "arguments": "{}"}}',
    ),
    (
        "tool_call_missing_id",
        _E,
        "a tool call has no id",
        "give each tool call a unique id and repeat it as tool_call_id in the tool result",
    ),
    (
        "tool_call_missing_name",
        _E,
        "a tool call names no function",
        "set function.name to one of the declared tools",
    ),
    (
        "duplicate_tool_call_id",
        _E,
        "two tool calls in one example share an id",
        "give every tool call its own id",
    ),
    (
        "arguments_not_string",
        _E,
        "tool call arguments are not a JSON string",
        "serialise the arguments with json.dumps: the API sends them as a string",
    ),
    (
        "arguments_invalid_json",
        _E,
        "tool call arguments are not valid JSON",
        "make arguments a valid JSON object serialised as a string",
    ),
    (
        "arguments_not_object",
        _E,
        "tool call arguments encode something other than an object",
        "arguments must encode a JSON object; a string here is usually double-encoded",
    ),
    (
        "unknown_tool_call_id",
        _E,
        "a tool result answers no earlier tool call",
        "set tool_call_id to the id of the assistant tool call it answers",
    ),
    (
        "unanswered_tool_call",
        _W,
        "a tool call is never answered before the conversation moves on",
        "add a tool message with the call's id right after the assistant message",
    ),
    (
        "undeclared_tool",
        _W,
        "a call to a tool that is not declared in tools",
        "declare every called function in the example's tools list",
    ),
    (
        "invalid_tool_definition",
        _E,
        "a tool or function definition is invalid",
        'write {"type": "function", "function": {"name": "...", "parameters": {...}}}',
    ),
    (
        "duplicate_tool_name",
        _W,
        "two tools in one example have the same name",
        "give every declared tool a unique name",
    ),
    (
        "too_many_functions",
        _E,
        "more than 128 legacy functions",
        "declare at most 128 functions (or use tools)",
    ),
    (
        "legacy_function_call",
        _I,
        "deprecated functions / function_call format",
        "prefer tools and tool_calls for new data",
    ),
    # --- images
    (
        "image_in_assistant",
        _E,
        "an image in an assistant message",
        "move the image to a user message; assistants cannot output images",
    ),
    (
        "too_many_images",
        _E,
        "more than 10 images in one example",
        "keep at most 10 images per example; split the example",
    ),
    (
        "invalid_image_url",
        _E,
        "an image URL is not https or a base64 data URL",
        "use an https:// URL or data:image/jpeg|png|webp;base64,...",
    ),
    (
        "image_url_not_base64",
        _E,
        "an image given by URL where the provider takes only embedded images (Together AI)",
        "embed the image as data:image/jpeg|png|webp;base64,<data>: Together AI does not "
        "fetch image URLs",
    ),
    (
        "image_in_system",
        _E,
        "an image in a system or developer message",
        "move the image to a user message; system and developer messages take text only",
    ),
    (
        "invalid_image_data",
        _E,
        "a data URL does not hold a readable JPEG, PNG or WEBP image",
        "re-encode the image file with base64 (no truncation) and name its real type, "
        "e.g. data:image/png;base64,...",
    ),
    (
        "image_too_large",
        _E,
        "an embedded image is over 10 MB",
        "shrink or recompress the image below 10 MB (it rarely needs more than 2048 px)",
    ),
    (
        "image_mode_not_rgb",
        _W,
        "an embedded image is not RGB or RGBA",
        "convert the image to RGB or RGBA, e.g. PIL's image.convert('RGB')",
    ),
    (
        "invalid_image_detail",
        _E,
        "image detail is not low, high or auto",
        "use detail low, high or auto, or omit it",
    ),
    (
        "images_not_supported",
        _E,
        "images for a model without vision fine-tuning",
        "use gpt-4o-2024-08-06 for vision fine-tuning, or remove the images",
    ),
    # --- DPO
    (
        "legacy_dpo_key",
        _E,
        "an old DPO key name (*_completion)",
        "rename preferred_completion/non_preferred_completion to "
        "preferred_output/non_preferred_output",
    ),
    (
        "invalid_dpo_output",
        _E,
        "a DPO output is not exactly one assistant message",
        'write [{"role": "assistant", "content": "..."}] for each output',
    ),
    (
        "dpo_non_text_output",
        _E,
        "a DPO output holds something other than text",
        "DPO compares text replies: remove tool calls, images and refusals from outputs",
    ),
    (
        "identical_outputs",
        _W,
        "preferred and non-preferred outputs are identical",
        "make the two outputs differ, or drop the pair: it teaches nothing",
    ),
    (
        "dpo_multi_turn_input",
        _W,
        "a DPO input of more than one turn (Fireworks AI documents one-turn inputs only)",
        "keep one user message (after an optional system message) in each input, or check "
        "with Fireworks that the model trains longer ones",
    ),
    (
        "input_ends_on_assistant",
        _W,
        "the DPO input ends on an assistant turn",
        "end the input on the user turn the outputs answer",
    ),
    # --- model
    (
        "unknown_model",
        _W,
        "a model ftkit has no data about",
        "check the model name; limits and methods cannot be checked",
    ),
    (
        "model_not_fine_tunable",
        _E,
        "the model cannot be fine-tuned",
        "choose a fine-tunable snapshot such as gpt-4.1-mini-2025-04-14",
    ),
    (
        "method_not_supported",
        _E,
        "the model does not support this method",
        "pick a model that supports the method",
    ),
    (
        "model_retired",
        _E,
        "the model's shutdown date has passed",
        "pick a current base model (docs/providers.md lists the shutdown dates): the "
        "provider creates no new jobs on a retired one",
    ),
    (
        "model_shutdown",
        _I,
        "the model has an announced shutdown date",
        "plan for the shutdown: no new jobs or inference after that date",
    ),
    (
        "example_too_long",
        _W,
        "an example is longer than the model's per-example limit",
        "shorten or split the example: the service truncates it from the end, cutting "
        "the assistant target",
    ),
    (
        "tokens_unavailable",
        _W,
        "tokens could not be counted",
        "install the tokenizer vocabularies (pip install 'ftkit[offline]')",
    ),
    # --- dataset quality
    (
        "duplicate_example",
        _W,
        "an example repeats an earlier one",
        "remove duplicates; they overweight one example and waste training tokens",
    ),
    (
        "train_validation_overlap",
        _W,
        "a validation example also appears in the training file",
        "remove it from one of the files; overlap makes validation loss optimistic",
    ),
    (
        "near_duplicate",
        _W,
        "an example is nearly the same text as an earlier one",
        "remove or rewrite near-copies; they overweight one example, like exact duplicates",
    ),
    (
        "train_validation_near_overlap",
        _W,
        "a validation example is nearly the same text as a training example",
        "remove it from one of the files; near-copies make validation loss optimistic",
    ),
    (
        "system_prompt_varies",
        _W,
        "a system prompt differs from the one most examples use",
        "use the same system prompt for training and for inference",
    ),
    (
        "possible_secret",
        _W,
        "text that looks like a credential",
        "remove API keys and private keys from training data and rotate them",
    ),
    (
        "long_response",
        _I,
        "an assistant response far longer than the others",
        "check that the long response is intended; it dominates training tokens",
    ),
    (
        "label_imbalance",
        _W,
        "one label dominates the final answers, or a label is rare",
        "add examples of the rare labels or down-sample the dominant one; a label with "
        "very few examples may be a typo",
    ),
    (
        "inconsistent_json_answers",
        _W,
        "JSON answers do not share one shape",
        "give every JSON answer the same keys and value types (use null for a missing "
        "value), and make sure each one parses",
    ),
    (
        "system_prompt_mismatch",
        _W,
        "the training system prompt differs from the one used at inference",
        "train with the exact system prompt your application sends (or none, if it sends none)",
    ),
)

CODES: Mapping[str, CodeInfo] = MappingProxyType(
    {code: CodeInfo(code, severity, title, hint) for code, severity, title, hint in _TABLE}
)
"""Every code the validator can report, with its severity, title and default fix."""

ERROR_CODES = frozenset(code for code, info in CODES.items() if info.severity is Severity.ERROR)
"""The codes that make a file invalid (a report with one is not ``ok``)."""
