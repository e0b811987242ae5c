"""Button values parse back into their records, and the one rule for finding a project or link by name."""

from dataclasses import dataclass

import pytest

from services.errors import Ambiguous, NotFoundHere
from services.matching import match_one
from services.records import CandidateRef, LinkRef, PageRef, SessionRef


@pytest.mark.parametrize("ref", [
    SessionRef("project", "proj_1", "sess_1"), SessionRef("instant", None, "sess_2"),
    CandidateRef("run1", "cand|with|bars"), PageRef("Backend | Platform", 3), LinkRef("proj_1", "lnk_9"),
])
def test_values_round_trip(ref):
    assert type(ref).parse(ref.to_value()) == ref


@pytest.mark.parametrize(("kind", "value"), [
    (SessionRef, "project|proj_1"), (SessionRef, "other|p|s"), (SessionRef, "instant||"), (CandidateRef, "run1"),
    (PageRef, "key|two"), (PageRef, "7"), (LinkRef, "lnk_9"), (SessionRef, ""),
])
def test_an_old_or_forged_value_is_a_readable_refusal(kind, value):
    with pytest.raises(NotFoundHere) as err:
        kind.parse(value)
    assert "older message" in err.value.user_message


@dataclass
class Thing:
    id: str
    name: str


THINGS = [Thing("p1", "Backend Engineer"), Thing("p2", "backend engineer (EU)"), Thing("p3", "Data Analyst"),
          Thing("p4", "Data Analyst II")]


def find(query):
    return match_one(THINGS, query, ident=lambda t: t.id, name=lambda t: t.name, what="project",
                     missing=f"Project not found: {query}.", hint="See the list.")


@pytest.mark.parametrize(("query", "expected"), [
    ("p3", "p3"),  # an exact id first
    ("BACKEND ENGINEER", "p1"),  # then a name ignoring case, even though another name contains it
    ("data analyst", "p3"),
    ("(eu)", "p2"),  # then the one name that contains the query
    ("  II ", "p4"),
    ('"Data Analyst II"', "p4"),  # the whole name, spaces and all, quoted or not
    ("“backend engineer (eu)”", "p2"),
    ("'p3'", "p3"),
])
def test_one_rule_id_then_name_then_a_unique_part(query, expected):
    assert find(query).id == expected


def test_several_matches_list_the_candidates():
    with pytest.raises(Ambiguous) as err:
        find("engineer")
    assert err.value.candidates == [("Backend Engineer", "p1"), ("backend engineer (EU)", "p2")]
    assert "`p1`" in err.value.user_message and "`p2`" in err.value.user_message
    assert (err.value.what, err.value.query) == ("project", "engineer")


def test_candidates_can_be_described_to_tell_them_apart():
    with pytest.raises(Ambiguous) as err:
        match_one(THINGS, '"data"', ident=lambda t: t.id, name=lambda t: t.name, what="project", missing="-",
                  describe=lambda t: f"{t.name} ({t.id})")
    assert err.value.candidates == [("Data Analyst (p3)", "p3"), ("Data Analyst II (p4)", "p4")]
    assert err.value.query == "data"


def test_nothing_matches_is_not_found_here():
    with pytest.raises(NotFoundHere) as err:
        find("designer")
    assert err.value.user_message == "Project not found: designer. See the list."
    with pytest.raises(NotFoundHere):
        find("")
