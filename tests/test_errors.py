"""One error tree (services/errors.py): refusals, not-found, bad input and API errors are distinct branches."""

import importlib
import pkgutil

import pytest

import services
from services import errors
from services.errors import Ambiguous, BadInput, BotError, NotAllowed, NotFoundHere, Refusal, ServiceError

BRANCHES = (Refusal, BadInput, ServiceError)


def every_error_class():
    for info in pkgutil.walk_packages(services.__path__, "services."):
        importlib.import_module(info.name)
    seen, todo = set(), [BotError]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in seen:
                seen.add(sub)
                todo.append(sub)
    return seen


def test_a_refusal_is_not_an_api_failure():
    assert not issubclass(Refusal, ServiceError)
    assert not issubclass(BadInput, ServiceError) and not issubclass(BadInput, Refusal)
    assert issubclass(NotFoundHere, Refusal) and issubclass(NotAllowed, Refusal) and issubclass(Ambiguous, Refusal)


def test_every_error_of_the_services_sits_on_one_branch():
    found = every_error_class()
    assert {"NimroboError", "PlutoError", "IntakeError", "TranscriptError", "KeyVaultError"} <= {
        c.__name__ for c in found}
    for cls in found - set(BRANCHES):
        assert sum(issubclass(cls, branch) for branch in BRANCHES) == 1, cls


def test_the_interview_errors_fold_into_the_tree():
    from services import interviews

    assert not hasattr(interviews, "InterviewNotFoundError") and not hasattr(interviews, "NotAllowedError")
    assert issubclass(interviews.RoomExpiredError, Refusal)
    assert issubclass(interviews.TranscriptError, BadInput)


@pytest.mark.parametrize(("error", "reads"), [
    (NotAllowed("Only the interviewers can do that."), "Only the interviewers can do that."),
    (BadInput("That file has no name column.", hint="Add one."), "That file has no name column. Add one."),
    (ServiceError("timed out", endpoint="/v1/projects", hint="Try again."),
     "API error (/v1/projects): timed out Try again."),
])
def test_each_branch_reads_as_its_kind(error, reads):
    assert error.user_message == reads


def test_the_tree_is_drawn_where_it_is_defined():
    for name in ("BotError", "Refusal", "NotFoundHere", "NotAllowed", "Ambiguous", "BadInput", "ServiceError"):
        assert name in errors.__doc__
