"""The official `openai` SDK's Chat Completions client through the gateway, on every upstream."""

import json

import openai
import pytest

from shared import TOOL_NAME

PROMPT = "hello from the openai sdk"

WEATHER = {
    "type": "function",
    "function": {
        "name": TOOL_NAME,
        "description": "Current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


@pytest.fixture
def client(gateway):
    with openai.OpenAI(base_url=f"{gateway}/v1", api_key="x", max_retries=0, timeout=30) as c:
        yield c


def test_plain(client, model):
    resp = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": PROMPT}]
    )
    choice = resp.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content == PROMPT
    assert choice.finish_reason == "stop"
    assert resp.usage.prompt_tokens > 0
    assert resp.usage.completion_tokens > 0
    assert resp.usage.total_tokens == resp.usage.prompt_tokens + resp.usage.completion_tokens


def test_stream(client, model):
    stream = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": PROMPT}],
        stream=True,
        stream_options={"include_usage": True},
    )
    text, finish, usage, pieces = "", None, None, 0
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            if choice.delta.content:
                text += choice.delta.content
                pieces += 1
            finish = choice.finish_reason or finish
    assert text == PROMPT
    assert pieces > 1, "the answer arrived in one piece"
    assert finish == "stop"
    assert usage is not None, "no usage chunk despite include_usage"
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_tool_call(client, model, tool_args, stream):
    kwargs = dict(
        model=model,
        messages=[{"role": "user", "content": "What is the weather in Paris?"}],
        tools=[WEATHER],
        tool_choice={"type": "function", "function": {"name": TOOL_NAME}},
    )
    if stream:
        with client.chat.completions.stream(**kwargs) as s:
            for _ in s:
                pass
            resp = s.get_final_completion()
    else:
        resp = client.chat.completions.create(**kwargs)
    choice = resp.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls
    assert len(calls) == 1
    assert calls[0].type == "function"
    assert calls[0].id
    assert calls[0].function.name == TOOL_NAME
    assert json.loads(calls[0].function.arguments) == tool_args


def test_unknown_model_is_not_found(client):
    with pytest.raises(openai.NotFoundError) as err:
        client.chat.completions.create(
            model="no-route-matches-this", messages=[{"role": "user", "content": PROMPT}]
        )
    assert err.value.status_code == 404
    assert "no-route-matches-this" in err.value.message
