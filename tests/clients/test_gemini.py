"""The official `google-genai` SDK through the gateway (Gemini API, v1beta), on every
upstream."""

import pytest
from google import genai
from google.genai import errors, types

from shared import TOOL_NAME

PROMPT = "hello from the google-genai sdk"

WEATHER = types.Tool(
    function_declarations=[
        types.FunctionDeclaration(
            name=TOOL_NAME,
            description="Current weather in a city",
            parameters_json_schema={
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        )
    ]
)

FORCE_TOOL = types.ToolConfig(
    function_calling_config=types.FunctionCallingConfig(
        mode=types.FunctionCallingConfigMode.ANY, allowed_function_names=[TOOL_NAME]
    )
)


@pytest.fixture
def client(gateway):
    options = types.HttpOptions(
        base_url=gateway,
        api_version="v1beta",
        timeout=30_000,  # milliseconds
        retry_options=types.HttpRetryOptions(attempts=1),
    )
    with genai.Client(api_key="x", http_options=options) as c:
        yield c


def check_usage(usage):
    assert usage is not None
    assert usage.prompt_token_count > 0
    assert usage.candidates_token_count > 0
    assert usage.total_token_count >= usage.prompt_token_count + usage.candidates_token_count


def test_plain(client, model):
    resp = client.models.generate_content(model=model, contents=PROMPT)
    assert resp.text == PROMPT
    assert resp.candidates[0].finish_reason == types.FinishReason.STOP
    check_usage(resp.usage_metadata)


def test_stream(client, model):
    chunks = list(client.models.generate_content_stream(model=model, contents=PROMPT))
    pieces = [c.text for c in chunks if c.text]
    assert "".join(pieces) == PROMPT
    assert len(pieces) > 1, "the answer arrived in one piece"
    finish = [c.candidates[0].finish_reason for c in chunks if c.candidates]
    assert finish[-1] == types.FinishReason.STOP
    check_usage(chunks[-1].usage_metadata)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_tool_call(client, model, tool_args, stream):
    config = types.GenerateContentConfig(
        tools=[WEATHER],
        tool_config=FORCE_TOOL,
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )
    ask = dict(model=model, contents="What is the weather in Paris?", config=config)
    if stream:
        chunks = list(client.models.generate_content_stream(**ask))
        calls = [fc for c in chunks for fc in (c.function_calls or [])]
        usage = chunks[-1].usage_metadata
    else:
        resp = client.models.generate_content(**ask)
        calls = resp.function_calls or []
        usage = resp.usage_metadata
    assert len(calls) == 1
    assert calls[0].name == TOOL_NAME
    assert calls[0].args == tool_args
    check_usage(usage)


def test_unknown_model_is_not_found(client):
    with pytest.raises(errors.ClientError) as err:
        client.models.generate_content(model="no-route-matches-this", contents=PROMPT)
    assert err.value.code == 404
    assert "no-route-matches-this" in err.value.message
