"""The HTTP API (thin edges): parse input, call one service, map the result to a response."""
