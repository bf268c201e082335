"""Deterministic gpt-oss-like answers for the OpenAI-compatible chat route: reasoning text,
content, tool calls and JSON that fits a requested schema, all computed from the request so the
same prompt always gets the same answer. No I/O here: vertex.py paces and frames the tokens.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

TOKEN = re.compile(r"\S+\s*")
SINGLE_WORD = re.compile(r"single word\W*\s*[\"'`]?([\w.-]+)", re.IGNORECASE)


class Finish(StrEnum):
    STOP = "stop"
    LENGTH = "length"
    TOOL_CALLS = "tool_calls"


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class Answer:
    reasoning: list[str]
    content: list[str]
    tool_call: ToolCall | None
    finish: Finish
    prompt_tokens: int

    @property
    def completion_tokens(self) -> int:
        args = len(tokens(self.tool_call.arguments)) if self.tool_call else 0
        return len(self.reasoning) + len(self.content) + args


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return "" if content is None else json.dumps(content)


def _last_user(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return _text(message.get("content"))
    return ""


def _hint_word(prompt: str) -> str:
    """A plausible string argument: the last capitalised word, else the last word."""
    words = re.findall(r"[A-Za-z][\w-]*", prompt)
    capitalised = [w for w in words if w[0].isupper()]
    return capitalised[-1] if len(capitalised) > 1 else (words[-1] if words else "value")


def instance_for(schema: Any, *, prompt: str, text: str, required_only: bool) -> Any:
    """A value that validates against a (simple) JSON schema, filled from the prompt."""
    if not isinstance(schema, dict):
        return text
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return instance_for(
                schema[key][0], prompt=prompt, text=text, required_only=required_only
            )
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    numbers = re.findall(r"-?\d+(?:\.\d+)?", prompt)
    if kind == "integer":
        return int(float(numbers[0])) if numbers else 1
    if kind == "number":
        return float(numbers[0]) if numbers else 1.0
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    if kind == "array":
        count = max(1, int(schema.get("minItems", 1)))
        item = instance_for(
            schema.get("items", {}), prompt=prompt, text=text, required_only=required_only
        )
        return [item] * count
    if kind == "object":
        props: dict[str, Any] = schema.get("properties", {})
        required = schema.get("required", list(props) if not required_only else [])
        keys = [k for k in props if k in required] if required_only else list(props)
        return {
            k: instance_for(props[k], prompt=prompt, text=text, required_only=required_only)
            for k in keys
        }
    return text


def _reasoning(prompt: str, effort: str) -> str:
    short = " ".join(prompt.split()[:12]) or "nothing"
    steps = [f"The user asks: {short}."]
    if effort in ("medium", "high"):
        steps.append("Check the request for constraints and keep the answer short.")
    if effort == "high":
        steps.append("Consider edge cases, then verify the final answer against the request.")
    steps.append("Answer directly.")
    return " ".join(steps)


def answer(request: dict[str, Any]) -> Answer:
    """The whole answer to a chat request, before max_tokens truncation is framed."""
    messages = [m for m in request.get("messages") or [] if isinstance(m, dict)]
    prompt = _last_user(messages)
    prompt_tokens = sum(len(tokens(_text(m.get("content")))) + 3 for m in messages)
    effort = str(request.get("reasoning_effort") or "medium")
    reasoning = tokens(_reasoning(prompt, effort))
    budget = request.get("max_completion_tokens") or request.get("max_tokens")
    last_role = messages[-1].get("role") if messages else "user"
    tools = request.get("tools") or []
    if tools and last_role != "tool" and request.get("tool_choice") != "none":
        function = tools[0].get("function", {}) if isinstance(tools[0], dict) else {}
        name = str(function.get("name", "tool"))
        args = instance_for(
            function.get("parameters", {}),
            prompt=prompt,
            text=_hint_word(prompt),
            required_only=True,
        )
        digest = hashlib.sha256(f"{name}:{prompt}".encode()).hexdigest()[:24]
        call = ToolCall(id=f"call_{digest}", name=name, arguments=json.dumps(args))
        return Answer(reasoning, [], call, Finish.TOOL_CALLS, prompt_tokens)
    content = _content(request, messages, prompt)
    parts = tokens(content) if content else []
    finish = Finish.STOP
    if isinstance(budget, int) and budget > 0:
        if budget <= len(reasoning):
            return Answer(reasoning[:budget], [], None, Finish.LENGTH, prompt_tokens)
        if len(reasoning) + len(parts) > budget:
            parts, finish = parts[: budget - len(reasoning)], Finish.LENGTH
    return Answer(reasoning, parts, None, finish, prompt_tokens)


def _content(request: dict[str, Any], messages: list[dict[str, Any]], prompt: str) -> str:
    if messages and messages[-1].get("role") == "tool":
        return f"The tool returned: {_text(messages[-1].get('content'))}"
    match = SINGLE_WORD.search(prompt)
    plain = match.group(1) if match else f"Emulated answer to: {' '.join(prompt.split()[:20])}"
    response_format = request.get("response_format") or {}
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if kind == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema", {})
        return json.dumps(instance_for(schema, prompt=prompt, text=plain, required_only=False))
    if kind == "json_object":
        return json.dumps({"answer": plain})
    return plain
