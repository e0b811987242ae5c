"""Voice interviews (Nimrobo), without Slack: links and their batches (``links``), projects (``projects``),
the create form (``forms``) and sessions: reading, watching, subscribing and reporting once (``sessions``)."""
