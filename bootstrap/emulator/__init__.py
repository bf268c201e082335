"""An offline emulator of the Google Cloud REST APIs bootstrap calls (Resource Manager, Service
Usage, Cloud Billing, Vertex Model Garden and the OpenAI-compatible chat route), with scripted
faults. An island: it imports nothing from the rest of bootstrap. The in-process handle is
`bootstrap.emulator.inprocess.Emulator`; see docs/emulator.md.
"""
