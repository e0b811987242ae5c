"""Score → voice-screen → one shortlist with both signals, without Slack, by concept:

* :mod:`.records`: the board's records, constants and the refusals a recruiter reads;
* :mod:`.scores`: the score maths (evaluation, combined, the sort);
* :mod:`.service`: :class:`ScreeningService` (prefill, links tied to candidates, outcomes, saves to
  Pluto, decisions, the board view) and the form-drafting helpers;
* :mod:`.export`: the board as a formula-safe CSV.

Every name is importable from ``services.screening`` as before the split.
"""

from services.screening.export import *  # noqa: F403
from services.screening.records import *  # noqa: F403
from services.screening.scores import *  # noqa: F403
from services.screening.service import *  # noqa: F403
