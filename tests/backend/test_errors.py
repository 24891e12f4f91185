"""The one translation from openai exceptions to ftkit's: every class, every decision."""

from __future__ import annotations

import email.utils
from typing import Any

import httpx2
import openai
import pytest

from ftkit import APIError, TrainingUnavailable
from ftkit.backend._errors import parse_retry_after, redact, translate, translating

REQUEST = httpx2.Request("POST", "https://api.openai.com/v1/fine_tuning/jobs")


def response(status: int, headers: dict[str, str] | None = None) -> httpx2.Response:
    return httpx2.Response(
        status, headers={"x-request-id": "req_123", **(headers or {})}, request=REQUEST
    )


def build(cls: type[openai.APIError], status: int = 500, body: Any = None) -> openai.APIError:
    """An instance of any openai API error class, whatever its constructor looks like."""
    body = body if body is not None else {"message": "boom", "code": None, "param": None}
    if issubclass(cls, openai.APITimeoutError):
        return cls(request=REQUEST)
    if issubclass(cls, openai.APIConnectionError):
        return cls(request=REQUEST)
    if issubclass(cls, openai.APIResponseValidationError):
        return cls(response=response(200), body=body)
    if issubclass(cls, openai.OAuthError):
        return cls(response=response(status), body=body)
    if issubclass(cls, openai.APIStatusError):
        return cls("boom", response=response(status), body=body)
    return cls("boom", REQUEST, body=body)


# Every openai exception raised for API calls, with the status it is raised for and
# the (retryable, ambiguous) decision ftkit must make. A new class in openai fails
# test_every_openai_api_error_class_is_mapped until it is added here.
EXPECTED: dict[str, tuple[int | None, bool, bool]] = {
    "APIError": (None, False, False),
    "APIStatusError": (418, False, False),
    "APIConnectionError": (None, True, True),
    "APITimeoutError": (None, True, True),
    "APIResponseValidationError": (200, False, True),
    "BadRequestError": (400, False, False),
    "AuthenticationError": (401, False, False),
    "OAuthError": (401, False, False),
    "PermissionDeniedError": (403, False, False),
    "NotFoundError": (404, False, False),
    "ConflictError": (409, True, False),
    "UnprocessableEntityError": (422, False, False),
    "RateLimitError": (429, True, False),
    "InternalServerError": (500, True, True),
}


def openai_api_error_classes() -> dict[str, type[openai.APIError]]:
    return {
        name: obj
        for name, obj in list(vars(openai).items())
        # type(obj), not isinstance: the latter would load every lazy openai resource proxy.
        if issubclass(type(obj), type) and issubclass(obj, openai.APIError)
    }


def test_every_openai_api_error_class_is_mapped() -> None:
    classes = openai_api_error_classes()
    assert set(classes) == set(EXPECTED), "update EXPECTED (and the translation) for new classes"
    for name, cls in classes.items():
        status, retryable, ambiguous = EXPECTED[name]
        exc = build(cls, status or 500)
        got = translate(exc)
        assert isinstance(got, APIError), name
        assert (got.retryable, got.ambiguous) == (retryable, ambiguous), name
        if status is not None and name != "APIError":
            assert got.status_code == status, name


def test_status_errors_keep_their_evidence() -> None:
    body = {"message": "Rate limit reached", "code": "rate_limit_exceeded", "param": None}
    exc = openai.RateLimitError(
        "Error code: 429", response=response(429, {"retry-after-ms": "1500"}), body=body
    )
    got = translate(exc)
    assert isinstance(got, APIError)
    assert (got.status_code, got.request_id, got.code, got.retry_after) == (
        429,
        "req_123",
        "rate_limit_exceeded",
        1.5,
    )
    assert "Rate limit reached" in str(got) and "req_123" in str(got)


def test_insufficient_quota_is_not_retried() -> None:
    body = {"message": "You exceeded your current quota", "code": "insufficient_quota"}
    got = translate(openai.RateLimitError("x", response=response(429), body=body))
    assert isinstance(got, APIError) and not got.retryable


@pytest.mark.parametrize(
    ("status", "header", "retryable"),
    [(500, "false", False), (418, "true", True), (400, "true", False), (404, "true", False)],
)
def test_x_should_retry_is_obeyed_except_for_final_client_errors(
    status: int, header: str, retryable: bool
) -> None:
    exc = openai.APIStatusError(
        "x", response=response(status, {"x-should-retry": header}), body={"message": "m"}
    )
    got = translate(exc)
    assert isinstance(got, APIError) and got.retryable is retryable


def refusal(
    cls: type[openai.APIStatusError], status: int, message: str, code: str
) -> BaseException:
    """What ``translate`` makes of the API refusing with ``status``, ``message`` and ``code``."""
    return translate(build(cls, status, {"message": message, "code": code, "param": None}))


def test_training_not_available_names_the_wind_down_and_azure() -> None:
    message = "Fine-tuning is not available for your organization."
    got = refusal(openai.PermissionDeniedError, 403, message, "training_not_available")
    assert isinstance(got, TrainingUnavailable)
    assert got.status_code == 403 and got.code == "training_not_available"
    assert not got.retryable
    text = str(got)
    assert "2027-01-06" in text and "openai.AzureOpenAI" in text


def test_unavailable_or_retired_model_is_a_training_refusal() -> None:
    message = "Model gpt-4o-mini is not available for fine-tuning or does not exist."
    got = refusal(openai.BadRequestError, 400, message, "model_not_available")
    assert isinstance(got, TrainingUnavailable) and "AzureOpenAI" in str(got)


def test_other_403s_stay_plain_api_errors() -> None:
    got = translate(
        openai.PermissionDeniedError("x", response=response(403), body={"message": "no"})
    )
    assert type(got) is APIError


def test_non_openai_exceptions_pass_through() -> None:
    exc = ValueError("ours")
    assert translate(exc) is exc


def test_translating_chains_the_original() -> None:
    original = openai.InternalServerError("x", response=response(502), body={"message": "bad"})
    with pytest.raises(APIError) as info, translating():
        raise original
    assert info.value.__cause__ is original
    with pytest.raises(KeyError), translating():
        raise KeyError("untouched")


def test_keys_never_reach_messages() -> None:
    key = "sk-proj-AbCdEf0123456789xyz"
    body = {
        "message": f"Incorrect API key provided: {key}. Bearer abcdefghijkl",
        "code": "invalid_api_key",
    }
    got = translate(
        openai.AuthenticationError("x", response=response(401), body=body), secrets=[key]
    )
    assert key not in str(got) and "sk-proj" not in str(got) and "abcdefghijkl" not in str(got)
    azure_key = "0123456789abcdef0123456789abcdef"
    assert azure_key not in redact(f"key {azure_key} rejected", [azure_key])


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after": "3"}, 3.0),
        ({"Retry-After": "1.5"}, 1.5),
        ({"retry-after-ms": "nope", "retry-after": "2"}, 2.0),
        ({"retry-after": "-4"}, 0.0),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(headers) == expected


def test_parse_retry_after_http_date() -> None:
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after({"retry-after": date}, now=lambda: now) == 30.0
    past = email.utils.formatdate(now - 30, usegmt=True)
    assert parse_retry_after({"retry-after": past}, now=lambda: now) == 0.0
