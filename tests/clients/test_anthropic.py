"""The official `anthropic` SDK's Messages client through the gateway, on every upstream."""

import anthropic
import pytest

from shared import TOOL_NAME

PROMPT = "hello from the anthropic sdk"

WEATHER = {
    "name": TOOL_NAME,
    "description": "Current weather in a city",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


@pytest.fixture
def client(gateway):
    with anthropic.Anthropic(base_url=gateway, api_key="x", max_retries=0, timeout=30) as c:
        yield c


def test_plain(client, model):
    msg = client.messages.create(
        model=model, max_tokens=256, messages=[{"role": "user", "content": PROMPT}]
    )
    assert msg.role == "assistant"
    assert [b.type for b in msg.content] == ["text"]
    assert msg.content[0].text == PROMPT
    assert msg.stop_reason == "end_turn"
    assert msg.usage.input_tokens > 0
    assert msg.usage.output_tokens > 0


def test_stream(client, model):
    with client.messages.stream(
        model=model, max_tokens=256, messages=[{"role": "user", "content": PROMPT}]
    ) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert "".join(pieces) == PROMPT
    assert len(pieces) > 1, "the answer arrived in one piece"
    assert final.content[0].text == PROMPT
    assert final.stop_reason == "end_turn"
    assert final.usage.input_tokens > 0
    assert final.usage.output_tokens > 0


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_tool_call(client, model, tool_args, stream):
    kwargs = dict(
        model=model,
        max_tokens=256,
        messages=[{"role": "user", "content": "What is the weather in Paris?"}],
        tools=[WEATHER],
        tool_choice={"type": "tool", "name": TOOL_NAME},
    )
    if stream:
        with client.messages.stream(**kwargs) as s:
            msg = s.get_final_message()
    else:
        msg = client.messages.create(**kwargs)
    assert msg.stop_reason == "tool_use"
    calls = [b for b in msg.content if b.type == "tool_use"]
    assert len(calls) == 1
    assert calls[0].name == TOOL_NAME
    assert calls[0].id
    assert calls[0].input == tool_args
    assert msg.usage.input_tokens > 0
    assert msg.usage.output_tokens > 0


def test_unknown_model_is_not_found(client):
    with pytest.raises(anthropic.NotFoundError) as err:
        client.messages.create(
            model="no-route-matches-this",
            max_tokens=16,
            messages=[{"role": "user", "content": PROMPT}],
        )
    assert err.value.status_code == 404
    assert "no-route-matches-this" in err.value.message
