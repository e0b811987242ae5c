"""Score → voice-screen → one shortlist with both signals, without Slack (see :mod:`.service`)."""

from services.screening.service import *  # noqa: F403 - the package's public names, as before the split
