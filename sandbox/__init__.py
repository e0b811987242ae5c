"""Local stand-ins for Slack, Nimrobo, Pluto and OpenAI, shared by the sandbox and the tests.

Nothing here is imported by the bot at run time except when it starts the sandbox.
"""
