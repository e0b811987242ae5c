"""Pluto Bot: the Slack app (Bolt), its HTTP server, scheduler and Block Kit builders."""
