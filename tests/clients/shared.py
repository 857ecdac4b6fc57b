"""What the fixtures in conftest.py and the tests agree on."""

# Every client test runs against each of these upstreams: the four provider kinds that call
# the fake upstream over HTTP (`responses` is the `openai-responses` kind), and the gateway's
# built-in `mock` provider. A model named `via-<upstream>-...` is routed to that one.
UPSTREAMS = ["openai", "anthropic", "gemini", "responses", "mock"]

# The fake upstream answers every request that offers tools with this call; the tests offer
# one tool of this name and force its use.
TOOL_NAME = "get_weather"
TOOL_ARGS = {"city": "Paris"}
