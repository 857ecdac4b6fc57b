"""The official `openai` SDK's Responses client through the gateway, on every upstream."""

import json

import openai
import pytest

from shared import TOOL_NAME

PROMPT = "hello from the responses api"

WEATHER = {
    "type": "function",
    "name": TOOL_NAME,
    "description": "Current weather in a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


@pytest.fixture
def client(gateway):
    with openai.OpenAI(base_url=f"{gateway}/v1", api_key="x", max_retries=0, timeout=30) as c:
        yield c


def check_usage(usage):
    assert usage is not None
    assert usage.input_tokens > 0
    assert usage.output_tokens > 0
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens


def test_plain(client, model):
    resp = client.responses.create(model=model, input=PROMPT)
    assert resp.status == "completed"
    assert resp.output_text == PROMPT
    assert resp.output[0].type == "message"
    check_usage(resp.usage)


def test_stream(client, model):
    deltas = []
    with client.responses.stream(model=model, input=PROMPT) as stream:
        for event in stream:
            if event.type == "response.output_text.delta":
                deltas.append(event.delta)
        final = stream.get_final_response()
    assert "".join(deltas) == PROMPT
    assert len(deltas) > 1, "the answer arrived in one piece"
    assert final.status == "completed"
    assert final.output_text == PROMPT
    check_usage(final.usage)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_tool_call(client, model, tool_args, stream):
    kwargs = dict(
        model=model,
        input="What is the weather in Paris?",
        tools=[WEATHER],
        tool_choice={"type": "function", "name": TOOL_NAME},
    )
    if stream:
        with client.responses.stream(**kwargs) as s:
            for _ in s:
                pass
            resp = s.get_final_response()
    else:
        resp = client.responses.create(**kwargs)
    calls = [item for item in resp.output if item.type == "function_call"]
    assert len(calls) == 1
    assert calls[0].name == TOOL_NAME
    assert calls[0].call_id
    assert json.loads(calls[0].arguments) == tool_args
    check_usage(resp.usage)


def test_unknown_model_is_not_found(client):
    with pytest.raises(openai.NotFoundError) as err:
        client.responses.create(model="no-route-matches-this", input=PROMPT)
    assert err.value.status_code == 404
    assert "no-route-matches-this" in err.value.message
