"""Flows that post: the Slack side of a feature, shared by its listeners and its scheduled jobs.

A flow takes the services and a :class:`~bot.slack_out.SlackOut`, calls feature services
and sends what builders make. Listeners (``handlers/``) and jobs (``bot/jobs/``) call flows;
flows never import ``handlers``.
"""
