"""bootstrap: make Google Cloud projects ready to call OpenAI's gpt-oss models on Vertex AI.

Kept import-free on purpose: `bootstrap --help` must stay fast, so heavy libraries are imported
only inside the commands that need them.
"""

__version__ = "0.1.0"
