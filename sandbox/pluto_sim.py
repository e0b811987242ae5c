"""A stateful Pluto API simulator (``../shared/specs/pluto-api.md`` plus FIELD-NOTES) over real HTTP.

One pipeline at a time. An upload is parsed with pandas' defaults (UTF-8, comma; a BOM
stays in the first header name, as on the real server), then moves through extraction
and AI scoring over configurable seconds. Scores are derived from each row, so a test
can predict the ranking. Variants of the real server: bare-list results
(``bare_list``), a ``waiting_confirmation`` step that needs ``POST /pluto/score``
(``confirmation_step``), and 409 when busy (``busy_409``; off means a new upload
silently resets the running one, as older builds did). Errors are FastAPI style,
``{"detail": ...}``.

Live interviews are stateful too: rooms (with an expiry, on a clock a test can move with
:meth:`PlutoSimulator.advance_clock`), join tokens per participant, pre-briefs (cached per
candidate, generated per room), realtime sessions with an expiring client secret, the
in-interview chat (its answer echoes how many history turns and whether a context
arrived, so a test can see them sent), analytics, saving analytics to the candidate,
intake validation and LiveKit intake tokens. ``drift=True`` answers in the other shapes
seen on real servers (see FIELD-NOTES and the module notes on each route); ``ai_latency``
makes the AI-backed routes take that many seconds, outside the simulator's lock.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import secrets
import threading
import time
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from sandbox.httpserver import Request, Response, SimServer, json_response, text_response

NAME_COLUMNS = ("name", "full_name", "candidate", "candidate_name")
TIERS = ((85, "Top Tier"), (70, "Strong"), (55, "Good"), (40, "Evaluate"), (0, "Poor"))


def _iso(when: datetime | None = None) -> str:
    return (when or datetime.now(UTC)).isoformat().replace("+00:00", "Z")


def _unit(text: str, salt: str) -> int:
    return int(hashlib.sha256(f"{salt}:{text}".encode()).hexdigest()[:8], 16) % 101


def tier_for(score: float) -> str:
    return next(name for floor, name in TIERS if score >= floor)


def score_row(row: dict[str, Any]) -> tuple[int, int, int]:
    """(algo, ai, final) for one row: deterministic, from the row's own content."""
    name = str(row.get("name", ""))
    try:
        years = float(row.get("years_experience") or 0)
    except (TypeError, ValueError):
        years = 0.0
    filled = sum(1 for v in row.values() if v not in (None, "") and not (isinstance(v, float) and pd.isna(v)))
    algo = min(100, int(20 + 4 * min(years, 10) + 3 * min(filled, 10) + _unit(name, "algo") % 11))
    ai = _unit(name, "ai")
    final = round(0.4 * algo + 0.6 * ai)
    return algo, ai, final


class PlutoDetail(Exception):
    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(str(detail))
        self.status, self.detail = status, detail


class PlutoSimulator(SimServer):
    name = "pluto"

    def __init__(self, extract_seconds: float = 1.0, score_seconds: float = 2.0, *, bare_list: bool = False,
                 confirmation_step: bool = False, busy_409: bool = True, total_in_upload: bool = True,
                 csv_export: bool = True, drift: bool = False, ai_latency: float = 0.0,
                 brief_requires_jd: bool = False, room_ttl_seconds: float = 2 * 3600,
                 interview_ttl_seconds: float = 3600, realtime_ttl_seconds: float = 60,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self.extract_seconds = extract_seconds
        self.score_seconds = score_seconds
        self.bare_list = bare_list
        self.confirmation_step = confirmation_step
        self.busy_409 = busy_409
        self.total_in_upload = total_in_upload
        self.csv_export = csv_export
        self.drift = drift
        self.ai_latency = ai_latency
        self.brief_requires_jd = brief_requires_jd
        self.room_ttl_seconds = room_ttl_seconds
        self.interview_ttl_seconds = interview_ttl_seconds
        self.realtime_ttl_seconds = realtime_ttl_seconds
        self.clock_offset = 0.0
        self._secret = secrets.token_bytes(16)
        self._lock = threading.RLock()
        self.uploads: list[dict[str, Any]] = []  # what was received: filename, job_description, header
        self._reset_interviews()
        self._reset_run()
        self._routes_api()

    # -- pipeline state -------------------------------------------------------------
    def _reset_run(self) -> None:
        self.state = "idle"
        self.candidates: list[dict[str, Any]] = []
        self.started = 0.0
        self.scoring_started: float | None = None
        self.error: str | None = None
        self.frozen_at: float | None = None
        self.job_description = ""

    def _now(self) -> float:
        return self.frozen_at if self.frozen_at is not None else time.time()

    def _advance(self) -> None:
        """Move the pipeline on by elapsed time (no threads needed)."""
        if self.state in ("idle", "complete", "error"):
            return
        now = self._now()
        if self.state == "extracting" and now - self.started >= self.extract_seconds:
            if self.confirmation_step:
                self.state = "waiting_confirmation"
            else:
                self.state, self.scoring_started = "scoring", self.started + self.extract_seconds
        if self.state == "scoring" and self.scoring_started is not None \
                and now - self.scoring_started >= self.score_seconds:
            self.state = "complete"

    def _counts(self) -> tuple[int, int, int]:
        total = len(self.candidates)
        now = self._now()
        if self.state == "extracting":
            share = min(1.0, (now - self.started) / max(self.extract_seconds, 1e-9))
            return total, int(total * share), 0
        if self.state == "scoring" and self.scoring_started is not None:
            share = min(1.0, (now - self.scoring_started) / max(self.score_seconds, 1e-9))
            return total, total, min(total, int(total * share))
        if self.state == "complete":
            return total, total, total
        return total, total if self.state == "waiting_confirmation" else 0, 0

    def _ranked(self, scored: int | None = None) -> list[dict[str, Any]]:
        pool = self.candidates if scored is None else self.candidates[:scored]
        ranked = sorted(pool, key=lambda c: (-c["final_score"], c["name"]))
        return [{**c, "rank": i + 1} for i, c in enumerate(ranked)]

    # -- control surface --------------------------------------------------------------
    def fail_run(self, message: str = "AI scoring failed: upstream model error") -> None:
        with self._lock:
            self.state, self.error = "error", message

    def stall(self, stalled: bool = True) -> None:
        """Freeze (or unfreeze) the pipeline's clock: progress stops moving."""
        with self._lock:
            if stalled:
                self.frozen_at = time.time()
            elif self.frozen_at is not None:
                shift = time.time() - self.frozen_at
                self.started += shift
                if self.scoring_started is not None:
                    self.scoring_started += shift
                self.frozen_at = None

    def reset(self) -> None:
        with self._lock:
            self._reset_run()
            self._reset_interviews()

    def configure(self, **flags: Any) -> None:
        with self._lock:
            for key, value in flags.items():
                if key not in ("extract_seconds", "score_seconds", "bare_list", "confirmation_step", "busy_409",
                               "total_in_upload", "csv_export", "drift", "ai_latency", "brief_requires_jd",
                               "room_ttl_seconds", "interview_ttl_seconds", "realtime_ttl_seconds"):
                    raise ValueError(f"unknown flag {key}")
                setattr(self, key, value)

    def advance_clock(self, seconds: float) -> None:
        """Move the rooms' and sessions' clock on (rooms expire without a test sleeping)."""
        with self._lock:
            self.clock_offset += seconds

    def wall(self) -> float:
        """The clock rooms, realtime sessions and intake tokens run on."""
        return time.time() + self.clock_offset

    # -- helpers -------------------------------------------------------------------------
    def fault_500(self, request: Request) -> Response:
        return json_response({"detail": "Internal Server Error"}, 500)

    def fault_429(self, request: Request) -> Response:
        return json_response({"detail": "Too Many Requests"}, 429, {"Retry-After": f"{self.faults.retry_after:g}"})

    def not_found(self, request: Request) -> Response:
        return json_response({"detail": "Not Found"}, 404)

    def _endpoint(self, method: str, path: str, slow: bool = False) -> Any:
        def decorate(fn: Any) -> Any:
            def handler(request: Request) -> Response:
                if slow and self.ai_latency:
                    time.sleep(self.ai_latency)  # an AI call: slow, and never while holding the lock
                try:
                    with self._lock:
                        self._advance()
                        result = fn(request)
                except PlutoDetail as exc:
                    return json_response({"detail": exc.detail}, exc.status)
                return result if isinstance(result, Response) else json_response(result)

            self.add_route(method, "/api" + path, handler)
            return fn

        return decorate

    def _candidate(self, candidate_id: str) -> dict[str, Any]:
        for c in self._ranked():
            if c["id"] == candidate_id:
                return c
        raise PlutoDetail(404, "Candidate not found")

    def _token(self, candidate_id: str, expires: int) -> str:
        sig = hmac.new(self._secret, f"{candidate_id}.{expires}".encode(), hashlib.sha256).hexdigest()[:32]
        return f"{expires}.{sig}"

    def _parse_upload(self, content: bytes) -> list[dict[str, Any]]:
        try:
            frame = pd.read_csv(io.BytesIO(content), dtype=str, keep_default_na=False)
        except Exception as exc:  # pandas raises many kinds
            raise PlutoDetail(400, f"Could not parse CSV: {exc}") from None
        columns = {c.lower().strip(): c for c in frame.columns}
        name_col = next((columns[c] for c in NAME_COLUMNS if c in columns), None)
        first, last = columns.get("first_name"), columns.get("last_name")
        if name_col is None and not (first and last):
            raise PlutoDetail(400, "CSV must contain a name column")
        candidates = []
        for index, row in enumerate(frame.to_dict(orient="records")):
            name = str(row[name_col]).strip() if name_col else f"{row[first]} {row[last]}".strip()
            if not name:
                continue
            row = {k.lower().strip(): v for k, v in row.items()}
            row["name"] = name
            algo, ai, final = score_row(row)
            skills = row.get("skills", "")
            candidates.append({
                "id": hashlib.sha1(f"{index}:{name}".encode()).hexdigest()[:12],
                "name": name, "email": row.get("email") or None, "phone": row.get("phone") or None,
                "job_title": row.get("current_title") or row.get("job_title") or "",
                "current_company": row.get("current_company") or row.get("company") or "",
                "location_city": row.get("city") or row.get("location") or "",
                "years_experience": row.get("years_experience") or None,
                "skills": [s.strip() for s in str(skills).replace(";", "|").split("|") if s.strip()],
                "algo_score": algo, "ai_score": ai, "final_score": final, "tier": tier_for(final),
                "one_line_summary": f"{name}: {row.get('current_title') or 'candidate'} with "
                                    f"{row.get('years_experience') or 'unknown'} years",
                "bio_summary": str(row.get("resume") or row.get("bio") or "")[:500],
                "pros": ["Relevant experience"], "cons": ["Limited leadership evidence"] if final < 70 else [],
                "reasoning": f"Final score {final} from algo {algo} and AI {ai}.",
                "missing_required": [], "red_flags": [], "data_completeness": min(100, 10 * len(row)),
                "interview_status": "not_started", "_resume": str(row.get("resume") or ""),
            })
        if not candidates:
            raise PlutoDetail(400, "No candidates found in CSV")
        return candidates

    @staticmethod
    def _public(c: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in c.items() if not k.startswith("_")}

    # -- live interviews: state ----------------------------------------------------------
    def _reset_interviews(self) -> None:
        self.rooms: dict[str, dict[str, Any]] = {}  # room name -> room, with its participants
        self.cached_briefs: dict[str, dict[str, Any]] = {}  # candidate id -> brief (GET .../prebrief)
        self.room_briefs: dict[str, dict[str, Any]] = {}  # room name -> brief (POST /prebrief/{room})
        self.prebrief_requests: list[dict[str, Any]] = []  # bodies of POST /prebrief/{room}
        self.chat_requests: list[dict[str, Any]] = []  # bodies of POST /rooms/{room}/chat, with "room"
        self.realtime_sessions: dict[str, dict[str, Any]] = {}  # session id -> request and expiry
        self.analytics_requests: list[dict[str, Any]] = []  # bodies of POST /analytics/{room}, with "room"
        self.saved_analytics: dict[str, list[dict[str, Any]]] = {}  # candidate id -> bodies saved
        self.livekit_rooms: dict[str, dict[str, Any]] = {}

    def _stored(self, candidate_id: str) -> dict[str, Any]:
        """The candidate's own record (``_candidate`` returns a ranked copy)."""
        for c in self.candidates:
            if c["id"] == candidate_id:
                return c
        raise PlutoDetail(404, "Candidate not found")

    def _new_room(self, interviewer: str, candidate: str | None, ttl: float,
                  candidate_id: str | None = None) -> dict[str, Any]:
        name = f"interview-{secrets.token_hex(4)}"
        room = {"room_name": name, "room_url": f"https://sim.daily.invalid/{name}",
                "interviewer_token": "dly_" + secrets.token_urlsafe(18), "created_at": self.wall(),
                "expires_at": self.wall() + ttl, "interviewer_name": interviewer, "candidate_name": candidate,
                "candidate_id": candidate_id, "participants": [{"name": interviewer, "type": "interviewer"}]}
        self.rooms[name] = room
        return room

    def _room_expiry(self, room: dict[str, Any]) -> str:
        when = datetime.fromtimestamp(room["expires_at"], UTC)
        if self.drift:  # the real server: datetime.utcnow().isoformat(), no zone, microseconds
            return when.replace(tzinfo=None).isoformat()
        return _iso(when.replace(microsecond=0))

    def _live_room(self, name: str) -> dict[str, Any]:
        room = self.rooms.get(name)
        if room is None:
            raise PlutoDetail(404, "Room not found")
        if self.wall() > room["expires_at"]:
            raise PlutoDetail(410, "Room has expired")
        return room

    def _realtime(self, body: dict[str, Any]) -> dict[str, Any]:
        session_id = "sess_" + secrets.token_hex(6)
        secret, expires = "ek_" + secrets.token_hex(12), int(self.wall() + self.realtime_ttl_seconds)
        self.realtime_sessions[session_id] = {"request": body, "client_secret": secret, "expires_at": expires}
        if self.drift:  # OpenAI's own session object, passed through
            return {"id": session_id, "object": "realtime.session", "model": "gpt-4o-realtime-preview",
                    "modalities": ["audio", "text"], "client_secret": {"value": secret, "expires_at": expires}}
        return {"client_secret": secret, "session_id": session_id, "model": "gpt-4o-realtime-preview",
                "modalities": ["audio", "text"], "expires_at": expires}

    @staticmethod
    def _gaps(c: dict[str, Any]) -> list[str]:
        return [k for k in ("phone", "email", "years_experience") if not c.get(k)]

    @staticmethod
    def _brief(name: str, role: str, years: Any, score: int, tier: str, skills: list[str], cons: list[str],
               jd: str = "") -> dict[str, Any]:
        """A ``PreInterviewBrief`` in the real server's nested form (strength and concern objects)."""
        breakdown = {k: (score + i * 3) % 101 for i, k in enumerate(
            ("technical_skills", "experience_relevance", "leadership_potential", "communication_signals",
             "culture_fit_signals", "growth_trajectory"))}
        for_role = f" for {jd.split('.')[0][:60]}" if jd else ""
        return {
            "candidate_name": name, "current_role": role, "years_experience": years,
            "overall_fit_score": score, "fit_summary": f"{name} is a {tier.lower()} fit{for_role} ({score}/100).",
            "score_breakdown": breakdown,
            "skill_matches": [{"skill": s, "required_level": "proficient", "candidate_level": "proficient",
                               "evidence": f"Lists {s}", "is_match": True} for s in skills[:5]],
            "experience_highlights": [{"company": "Current employer", "role": role or "IC",
                                       "duration": f"{years or 'some'} years", "key_achievement": "Shipped",
                                       "relevance": "Direct"}],
            "strengths": [{"strength": "Clear communicator", "evidence": "Concise resume",
                           "how_to_verify": "Ask for a walkthrough"},
                          {"strength": "Ships reliably", "evidence": "Long tenure", "how_to_verify": "Ask for dates"}],
            "concerns": [{"concern": c, "evidence": "Resume", "suggested_question": f"Tell me about {c.lower()}",
                          "severity": "medium"} for c in (cons or ["Limited leadership evidence"])],
            "suggested_questions": [{"question": "What are you proudest of?", "category": "behavioral",
                                     "purpose": "Values", "follow_up": "What would you do differently?"},
                                    {"question": f"How have you used {(skills or ['your main skill'])[0]}?",
                                     "category": "technical", "purpose": "Depth", "follow_up": "What broke?"}],
            "topics_to_avoid": ["Age", "Family plans"], "tldr": f"{tier} — worth a conversation.",
            "key_things_to_remember": [f"Fit score {score}", f"Tier {tier}"],
        }

    def _candidate_brief(self, c: dict[str, Any]) -> dict[str, Any]:
        return self._brief(c["name"], c["job_title"], c["years_experience"], c["final_score"], c["tier"],
                           c["skills"], c["cons"], self.job_description)

    @staticmethod
    def _resume_brief(body: dict[str, Any]) -> dict[str, Any]:
        resume, jd = str(body.get("resume") or ""), str(body.get("job_description") or "")
        fields = {}
        for line in resume.splitlines():
            key, sep, value = line.partition(":")
            if sep:
                fields[key.strip().lower()] = value.strip()
        name = fields.get("name") or (resume.strip().splitlines() or ["Candidate"])[0][:60]
        skills = [s.strip() for s in fields.get("skills", "").split(",") if s.strip() and s.strip() != "N/A"]
        score = _unit(resume + jd, "brief")
        return PlutoSimulator._brief(name, fields.get("current role", ""), fields.get("years of experience"),
                                     score, tier_for(score), skills, [], jd)

    @staticmethod
    def _analyze(transcript: str, flat: bool) -> dict[str, Any]:
        """``InterviewAnalytics`` from a transcript: nested (qa_pairs/overall/highlights) or flat."""
        words = len(transcript.split())
        lines = [line.strip() for line in transcript.splitlines() if line.strip()]
        answers = [line.split(":", 1)[1].strip() for line in lines if line.lower().startswith("candidate:")]
        score = min(100, 40 + words % 50 + 5 * len(answers))
        comm, tech, culture = round(score / 10, 1), round((score * 7 % 100) / 10, 1), round((score + 13) % 100 / 10, 1)
        rec = next(r for floor, r in ((85, "Strong Hire"), (70, "Hire"), (55, "Leaning Hire"),
                                      (40, "Leaning No Hire"), (0, "No Hire")) if score >= floor)
        best = answers[0] if answers else (lines[0] if lines else "")
        probe = ["Depth of system design", "Team leadership"]
        if flat:  # the "streamlined" Analytics model
            enum = {"Strong Hire": "strong_hire", "Hire": "hire", "Leaning Hire": "maybe"}.get(rec, "no_hire")
            return {"overall_score": score,
                    "competency_scores": [{"name": "Communication", "score": comm * 10, "evidence": [best[:80]],
                                           "notes": "Clear"},
                                          {"name": "Technical depth", "score": tech * 10, "evidence": [],
                                           "notes": None}],
                    "strengths": [f"Concrete example: {best[:60]}"], "concerns": ["Vague on team size"],
                    "red_flags_detected": [], "recommendation": enum,
                    "recommendation_reasoning": f"{len(answers)} substantive answers.",
                    "summary": f"Interview of {words} words.", "follow_up_questions": [f"Probe: {p}" for p in probe]}
        return {
            "qa_pairs": [{"question": "(asked)", "answer": a[:120], "question_type": "behavioral",
                          "metrics": {"relevance": 7, "clarity": 8, "depth": 6, "type_specific_metric": 7,
                                      "type_specific_label": "STAR Adherence"}, "highlight": None}
                         for a in answers],
            "overall": {"overall_score": score, "communication_score": comm, "technical_score": tech,
                        "cultural_fit_score": culture, "total_questions": len(answers),
                        "avg_response_length": words // max(len(answers), 1), "red_flags": ["Vague on team size"],
                        "highlights": [f"Concrete example: {best[:60]}"], "recommendation": rec,
                        "recommendation_reasoning": f"{len(answers)} substantive answers.", "confidence": 70},
            "highlights": {"best_answer": {"quote": best[:80], "context": "Specific and measurable"},
                           "red_flag": None, "quotable_moment": best[:80], "areas_to_probe": probe,
                           "standout_moments": [{"question": "(asked)", "quote": best[:80], "why": "Ownership"}]},
        }

    # -- live interviews: routes -------------------------------------------------------------
    def _routes_interviews(self) -> None:  # noqa: C901 - one route table
        ep = self._endpoint

        @ep("GET", "/pluto/candidates/{cid}/prebrief", slow=True)
        def prebrief(req: Request) -> Any:
            c = self._candidate(req.params["cid"])
            cached = c["id"] in self.cached_briefs
            if not cached:
                if self.brief_requires_jd and not self.job_description:
                    raise PlutoDetail(400, "No job description available. Upload candidates with a JD first.")
                self.cached_briefs[c["id"]] = self._candidate_brief(c)
            brief = self.cached_briefs[c["id"]]
            # The real server wraps it: {"prebrief": {...}, "cached": bool}; the reference shows it bare.
            return {"prebrief": brief, "cached": cached} if self.drift else brief

        @ep("POST", "/prebrief/{room}", slow=True)
        def generate_prebrief(req: Request) -> Any:
            body = req.json() or {}
            missing = [k for k in ("job_description", "resume") if not isinstance(body.get(k), str)]
            if missing:
                raise PlutoDetail(422, [{"loc": ["body", k], "msg": "field required"} for k in missing])
            self.prebrief_requests.append({**body, "room": req.params["room"]})
            brief = self._resume_brief(body)
            self.room_briefs[req.params["room"]] = brief
            return brief

        @ep("POST", "/rooms")
        def create_room(req: Request) -> Any:
            body = req.json() or {}
            if not body.get("interviewer_name"):
                raise PlutoDetail(422, [{"loc": ["body", "interviewer_name"], "msg": "field required"}])
            room = self._new_room(body["interviewer_name"], body.get("candidate_name"), self.room_ttl_seconds)
            return {"room_name": room["room_name"], "room_url": room["room_url"],
                    "interviewer_token": room["interviewer_token"], "expires_at": self._room_expiry(room)}

        @ep("GET", "/rooms/{room}")
        def get_room(req: Request) -> Any:
            room = self.rooms.get(req.params["room"])
            if room is None:
                raise PlutoDetail(404, "Room not found")
            return {"room_name": room["room_name"], "room_url": room["room_url"],
                    "created_by": room["interviewer_name"], "created_at": _iso(datetime.fromtimestamp(
                        room["created_at"], UTC)), "expires_at": self._room_expiry(room)}

        @ep("POST", "/rooms/{room}/join")
        def join(req: Request) -> Any:
            body = req.json() or {}
            problems = [{"loc": ["body", k], "msg": "field required"}
                        for k in ("participant_name", "participant_type") if not body.get(k)]
            if not problems and body["participant_type"] not in ("interviewer", "candidate"):
                problems = [{"loc": ["body", "participant_type"],
                             "msg": "Input should be 'interviewer' or 'candidate'"}]
            if problems:
                raise PlutoDetail(422, problems)
            room = self._live_room(req.params["room"])
            token = "dly_" + secrets.token_urlsafe(18)
            room["participants"].append({"name": body["participant_name"], "type": body["participant_type"],
                                         "token": token})
            return {"token": token, "room_url": room["room_url"]}

        @ep("POST", "/rooms/{room}/chat", slow=True)
        def chat(req: Request) -> Any:
            body = req.json() or {}
            if not body.get("message"):
                raise PlutoDetail(422, [{"loc": ["body", "message"], "msg": "field required"}])
            history = body.get("history") or []
            if not isinstance(history, list) or any(
                    not isinstance(t, dict) or not {"role", "content"} <= set(t) for t in history):
                raise PlutoDetail(422, [{"loc": ["body", "history"], "msg": "each turn needs role and content"}])
            self.chat_requests.append({**body, "room": req.params["room"]})
            context = "yes" if body.get("context") else "no"
            return {"response": f"[history={len(history)} context={context}] About “{body['message'][:80]}”: "
                                "ask for a concrete example and the outcome."}

        @ep("POST", "/pluto/candidates/{cid}/interview")
        def start_interview(req: Request) -> Any:
            c = self._stored(req.params["cid"])
            body = req.json() or {}
            room = self._new_room(body.get("interviewer_name") or "Interviewer", c["name"],
                                  self.interview_ttl_seconds, c["id"])
            room["use_prebrief"] = bool(body.get("use_prebrief"))
            c["interview_status"], c["room_name"] = "briefing", room["room_name"]
            if self.drift:  # the real server: the candidate instead of a realtime session, no expiry
                return {"room_name": room["room_name"], "room_url": room["room_url"],
                        "token": room["interviewer_token"], "candidate": self._public(c)}
            session = self._realtime({"candidate_name": c["name"], "role": c["job_title"]})
            return {"room_name": room["room_name"], "room_url": room["room_url"], "token": room["interviewer_token"],
                    "realtime_session": {"client_secret": session["client_secret"],
                                         "session_id": session["session_id"]}}

        @ep("POST", "/realtime/session", slow=True)
        def realtime_session(req: Request) -> Any:
            body = req.json() or {}
            if not body.get("candidate_name"):
                raise PlutoDetail(422, [{"loc": ["body", "candidate_name"], "msg": "field required"}])
            return self._realtime(body)

        @ep("POST", "/analytics/{room}", slow=True)
        def analytics(req: Request) -> Any:
            body = req.json() or {}
            transcript = str(body.get("transcript") or "")
            if not transcript.strip():
                raise PlutoDetail(422, [{"loc": ["body", "transcript"], "msg": "field required"}])
            self.analytics_requests.append({**body, "room": req.params["room"]})
            return self._analyze(transcript, flat=self.drift)

        @ep("POST", "/pluto/candidates/{cid}/analytics", slow=True)
        def save_analytics(req: Request) -> Any:
            c = self._stored(req.params["cid"])
            body = req.json() or {}
            # The reference sends {interview_id, analytics}; the real server wants {transcript, analytics?}
            # and generates the analytics itself when none are given.
            if self.drift and not body.get("transcript"):
                raise PlutoDetail(422, [{"loc": ["body", "transcript"], "msg": "field required"}])
            analytics = body.get("analytics")
            if not isinstance(analytics, dict):
                if not body.get("transcript"):
                    raise PlutoDetail(422, [{"loc": ["body", "analytics"], "msg": "field required"}])
                analytics = self._analyze(str(body["transcript"]), flat=True)
            overall = analytics.get("overall") if isinstance(analytics.get("overall"), dict) else analytics
            interview_id = str(body.get("interview_id") or hashlib.md5(
                f"{c['id']}:{len(self.saved_analytics.get(c['id'], []))}".encode()).hexdigest())
            self.saved_analytics.setdefault(c["id"], []).append({**body, "interview_id": interview_id})
            c.update(interview_status="completed" if self.drift else "interviewed",
                     interview_score=overall.get("overall_score"), recommendation=overall.get("recommendation"))
            return {"status": "saved", "analytics": analytics, "interview_id": interview_id,
                    "interviewer_analytics": None}

        @ep("POST", "/pluto/candidates/{cid}/intake-link")
        def intake_link(req: Request) -> Any:
            c = self._candidate(req.params["cid"])
            expires = int(self.wall()) + 72 * 3600
            return {"intake_url": f"https://sim.pluto.invalid/intake/{c['id']}?token={self._token(c['id'], expires)}",
                    "expires_at": _iso(datetime.fromtimestamp(expires, UTC))}

        @ep("GET", "/intake/{cid}/validate")
        def validate(req: Request) -> Any:
            token = req.query.get("token", "")
            expires, _, _ = token.partition(".")
            try:
                c = self._candidate(req.params["cid"])
                valid = expires.isdigit() and int(expires) > self.wall() and \
                    hmac.compare_digest(token, self._token(c["id"], int(expires)))
            except PlutoDetail:
                c, valid = None, False
            if not valid:
                if self.drift:  # some builds refuse instead of answering valid: false
                    raise PlutoDetail(401, "Invalid or expired token")
                return {"valid": False, "candidate_name": None, "gaps": []}
            return {"valid": True, "candidate_name": c["name"], "gaps": self._gaps(c)}

        @ep("POST", "/livekit/token")
        def livekit(req: Request) -> Any:
            body = req.json() or {}
            if not body.get("candidate_id"):
                raise PlutoDetail(422, [{"loc": ["body", "candidate_id"], "msg": "field required"}])
            c = self._candidate(body["candidate_id"])
            questions = [f"What is your {g.replace('_', ' ')}?" for g in self._gaps(c)] or ["Anything to add?"]
            name, token = f"intake-{c['id'][:6]}-{secrets.token_hex(3)}", "lk_" + secrets.token_hex(12)
            self.livekit_rooms[name] = {"candidate_id": c["id"], "token": token}
            if self.drift:
                return {"token": token, "url": "wss://sim.livekit.invalid", "room_name": name,
                        "questions": [{"field": g, "question": q} for g, q in zip(self._gaps(c), questions,
                                                                                  strict=False)] or questions}
            return {"token": token, "room_name": name, "livekit_url": "wss://sim.livekit.invalid",
                    "questions": questions}


    # -- routes --------------------------------------------------------------------------------
    def _routes_api(self) -> None:
        ep = self._endpoint

        @ep("POST", "/pluto/upload")
        def upload(req: Request) -> Any:
            try:
                parts = req.multipart()
            except ValueError:
                raise PlutoDetail(422, [{"loc": ["body", "file"], "msg": "field required"}]) from None
            file = parts.get("file")
            if file is None:
                raise PlutoDetail(422, [{"loc": ["body", "file"], "msg": "field required"}])
            if not (file.filename or "").lower().endswith(".csv"):
                raise PlutoDetail(400, "File must be a CSV")
            if self.state in ("extracting", "waiting_confirmation", "scoring") and self.busy_409:
                raise PlutoDetail(409, "Processing already in progress")
            candidates = self._parse_upload(file.content)
            frozen_at = self.frozen_at  # a stalled pipeline stays stalled for the next file (a test's control)
            self._reset_run()
            self.frozen_at = frozen_at
            self.candidates = candidates
            self.job_description = parts["job_description"].text if "job_description" in parts else ""
            self.state, self.started = "extracting", self._now()
            header = file.content.split(b"\n", 1)[0].decode("utf-8", "replace")
            self.uploads.append({"filename": file.filename, "job_description": self.job_description,
                                 "header": header, "rows": len(candidates)})
            if self.total_in_upload:
                return {"message": "Processing started", "total_candidates": len(candidates)}
            return {"status": "started", "message": "Processing started"}

        @ep("POST", "/pluto/score")
        def confirm(req: Request) -> Any:
            if self.state == "scoring":
                raise PlutoDetail(409, "Scoring already in progress")
            if self.state != "waiting_confirmation":
                raise PlutoDetail(400, "Extraction not complete")
            self.state, self.scoring_started = "scoring", self._now()
            return {"status": "scoring", "message": "AI scoring started"}

        @ep("GET", "/pluto/status")
        def status(req: Request) -> Any:
            total, extracted, scored = self._counts()
            progress = {"idle": 0, "complete": 100, "error": 0}.get(self.state)
            if progress is None:
                progress = int(40 * extracted / max(total, 1)) + int(60 * scored / max(total, 1))
            phase = {"extracting": "extraction", "waiting_confirmation": "extraction", "scoring": "ai_scoring",
                     "complete": "complete", "idle": "idle", "error": "error"}[self.state]
            message = {"extracting": f"Extracting candidate {extracted} of {total}",
                       "waiting_confirmation": "Extraction complete; waiting for confirmation",
                       "scoring": f"Scoring candidate {min(scored + 1, total)} of {total}",
                       "complete": "Scoring complete", "idle": "Idle", "error": self.error or "Error"}[self.state]
            preview = self._ranked(scored)[:5] if scored else []
            return {"status": self.state, "phase": phase, "progress": progress, "message": message,
                    "candidates_total": total, "candidates_extracted": extracted, "candidates_scored": scored,
                    "extracted_preview": [{"name": c["name"]} for c in self.candidates[:5]],
                    "scored_candidates": [self._public(c) for c in preview],
                    "algo_ranked": [], "error": self.error}

        @ep("GET", "/pluto/results")
        def results(req: Request) -> Any:
            ranked = [self._public(c) for c in self._ranked()] if self.state == "complete" else []
            return ranked if self.bare_list else {"candidates": ranked}

        @ep("GET", "/pluto/results/csv")
        def results_csv(req: Request) -> Any:
            if not self.csv_export:
                raise PlutoDetail(404, "Not Found")
            if self.state != "complete":
                raise PlutoDetail(400, "No results available")
            frame = pd.DataFrame([{"rank": c["rank"], "name": c["name"], "email": c["email"],
                                   "final_score": c["final_score"], "ai_score": c["ai_score"],
                                   "algo_score": c["algo_score"], "tier": c["tier"],
                                   "one_line_summary": c["one_line_summary"]} for c in self._ranked()])
            return text_response(frame.to_csv(index=False), content_type="text/csv")

        @ep("GET", "/pluto/candidates/{cid}")
        def candidate(req: Request) -> Any:
            return self._public(self._candidate(req.params["cid"]))

        @ep("GET", "/pluto/candidates/{cid}/questions")
        def questions(req: Request) -> Any:
            c = self._candidate(req.params["cid"])
            topics = (c["skills"] or ["your field"])[:3]
            qs = [{"question": f"Walk me through a project where you used {t}.", "purpose": f"Depth in {t}"}
                  for t in topics]
            qs += [{"question": f"Why are you looking to leave {c['current_company'] or 'your current role'}?",
                    "purpose": "Motivation"},
                   {"question": "Tell me about a time you disagreed with a decision.", "purpose": "Collaboration"}]
            return {"questions": qs}

        self._routes_interviews()

        @ep("POST", "/_control/pluto")
        def control(req: Request) -> Any:
            body = req.json() or {}
            action = body.pop("action", "")
            if action == "fail":
                self.fail_run(body.get("message") or "Simulated failure")
            elif action == "stall":
                self.stall(bool(body.get("stalled", True)))
            elif action == "reset":
                self.reset()
            elif action == "configure":
                self.configure(**body.get("flags", {}))
            elif action == "advance_clock":
                self.advance_clock(float(body.get("seconds", 0)))
            else:
                raise PlutoDetail(400, f"unknown action {action!r}")
            return {"ok": True}
