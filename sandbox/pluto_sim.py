"""A stateful Pluto API simulator (``../shared/specs/pluto-api.md`` plus FIELD-NOTES) over real HTTP.

One pipeline at a time. An upload is parsed with pandas' defaults (UTF-8, comma; a BOM
stays in the first header name, as on the real server), then moves through extraction
and AI scoring over configurable seconds. Scores are derived from each row, so a test
can predict the ranking. Variants of the real server: bare-list results
(``bare_list``), a ``waiting_confirmation`` step that needs ``POST /pluto/score``
(``confirmation_step``), and 409 when busy (``busy_409``; off means a new upload
silently resets the running one, as older builds did). Errors are FastAPI style,
``{"detail": ...}``.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import secrets
import threading
import time
from datetime import UTC, datetime, timedelta
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
                 csv_export: bool = True, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self.extract_seconds = extract_seconds
        self.score_seconds = score_seconds
        self.bare_list = bare_list
        self.confirmation_step = confirmation_step
        self.busy_409 = busy_409
        self.total_in_upload = total_in_upload
        self.csv_export = csv_export
        self._secret = secrets.token_bytes(16)
        self._lock = threading.RLock()
        self.uploads: list[dict[str, Any]] = []  # what was received: filename, job_description, header
        self.rooms: dict[str, dict[str, Any]] = {}
        self.saved_analytics: dict[str, list[dict[str, Any]]] = {}
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

    def configure(self, **flags: Any) -> None:
        with self._lock:
            for key, value in flags.items():
                if key not in ("extract_seconds", "score_seconds", "bare_list", "confirmation_step", "busy_409",
                               "total_in_upload", "csv_export"):
                    raise ValueError(f"unknown flag {key}")
                setattr(self, key, value)

    # -- helpers -------------------------------------------------------------------------
    def fault_500(self, request: Request) -> Response:
        return json_response({"detail": "Internal Server Error"}, 500)

    def fault_429(self, request: Request) -> Response:
        return json_response({"detail": "Too Many Requests"}, 429, {"Retry-After": f"{self.faults.retry_after:g}"})

    def not_found(self, request: Request) -> Response:
        return json_response({"detail": "Not Found"}, 404)

    def _endpoint(self, method: str, path: str) -> Any:
        def decorate(fn: Any) -> Any:
            def handler(request: Request) -> Response:
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
            self._reset_run()
            self.candidates = candidates
            self.job_description = parts["job_description"].text if "job_description" in parts else ""
            self.state, self.started = "extracting", time.time()
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

        def brief(c: dict[str, Any]) -> dict[str, Any]:
            return {
                "candidate_name": c["name"], "current_role": c["job_title"],
                "years_experience": c["years_experience"], "overall_fit_score": c["final_score"],
                "fit_summary": f"{c['name']} is a {c['tier'].lower()} fit ({c['final_score']}/100).",
                "score_breakdown": {k: (c["final_score"] + i * 3) % 101 for i, k in enumerate(
                    ("technical_skills", "experience_relevance", "leadership_potential", "communication_signals",
                     "culture_fit_signals", "growth_trajectory"))},
                "skill_matches": [{"skill": s, "match": "strong"} for s in c["skills"][:5]],
                "experience_highlights": [f"{c['years_experience'] or 'Some'} years as {c['job_title'] or 'IC'}"],
                "strengths": ["Clear communicator", "Ships reliably"], "concerns": c["cons"] or ["None noted"],
                "suggested_questions": [{"question": "What are you proudest of?", "category": "motivation",
                                         "purpose": "Values", "follow_up": "What would you do differently?"}],
                "topics_to_avoid": ["Age", "Family plans"], "tldr": f"{c['tier']} — worth a conversation.",
                "key_things_to_remember": [f"Final score {c['final_score']}", f"Tier {c['tier']}"],
            }

        @ep("GET", "/pluto/candidates/{cid}/prebrief")
        def prebrief(req: Request) -> Any:
            return brief(self._candidate(req.params["cid"]))

        @ep("POST", "/prebrief/{room}")
        def generate_prebrief(req: Request) -> Any:
            body = req.json() or {}
            fake = {"name": "Candidate", "job_title": "", "years_experience": None, "final_score": 70,
                    "tier": "Strong", "skills": [], "cons": []}
            result = brief(fake)
            result["fit_summary"] = f"Brief for room {req.params['room']}: {str(body.get('resume', ''))[:80]}"
            return result

        def room(interviewer: str, candidate: str | None) -> dict[str, Any]:
            name = f"interview-{secrets.token_hex(4)}"
            info = {"room_name": name, "room_url": f"https://sim.daily.invalid/{name}",
                    "interviewer_token": secrets.token_urlsafe(16),
                    "expires_at": _iso(datetime.now(UTC) + timedelta(hours=4)),
                    "interviewer_name": interviewer, "candidate_name": candidate}
            self.rooms[name] = info
            return info

        @ep("POST", "/rooms")
        def create_room(req: Request) -> Any:
            body = req.json() or {}
            if not body.get("interviewer_name"):
                raise PlutoDetail(422, [{"loc": ["body", "interviewer_name"], "msg": "field required"}])
            info = room(body["interviewer_name"], body.get("candidate_name"))
            return {k: info[k] for k in ("room_name", "room_url", "interviewer_token", "expires_at")}

        @ep("POST", "/rooms/{room}/join")
        def join(req: Request) -> Any:
            if req.params["room"] not in self.rooms:
                raise PlutoDetail(404, "Room not found")
            return {"token": secrets.token_urlsafe(16), "room_url": self.rooms[req.params["room"]]["room_url"]}

        @ep("POST", "/rooms/{room}/chat")
        def chat(req: Request) -> Any:
            body = req.json() or {}
            if not body.get("message"):
                raise PlutoDetail(422, [{"loc": ["body", "message"], "msg": "field required"}])
            return {"response": f"About “{body['message'][:80]}”: ask for a concrete example and the outcome."}

        def realtime(candidate: str) -> dict[str, Any]:
            return {"client_secret": "ek_" + secrets.token_hex(8), "session_id": "sess_" + secrets.token_hex(4),
                    "model": "gpt-4o-realtime-preview", "modalities": ["audio", "text"]}

        @ep("POST", "/pluto/candidates/{cid}/interview")
        def start_interview(req: Request) -> Any:
            c = self._candidate(req.params["cid"])
            body = req.json() or {}
            info = room(body.get("interviewer_name") or "Interviewer", c["name"])
            return {"room_name": info["room_name"], "room_url": info["room_url"], "token": info["interviewer_token"],
                    "realtime_session": {k: v for k, v in realtime(c["name"]).items()
                                         if k in ("client_secret", "session_id")}}

        @ep("POST", "/realtime/session")
        def realtime_session(req: Request) -> Any:
            return realtime((req.json() or {}).get("candidate_name", ""))

        @ep("POST", "/analytics/{room}")
        def analytics(req: Request) -> Any:
            body = req.json() or {}
            transcript = str(body.get("transcript", ""))
            if not transcript:
                raise PlutoDetail(422, [{"loc": ["body", "transcript"], "msg": "field required"}])
            words = len(transcript.split())
            return {"room_name": req.params["room"], "overall_score": min(100, 50 + words % 50),
                    "summary": f"Interview of {words} words.", "strengths": ["Concrete examples"],
                    "concerns": [], "recommendation": "advance" if words > 20 else "hold"}

        @ep("POST", "/pluto/candidates/{cid}/analytics")
        def save_analytics(req: Request) -> Any:
            c = self._candidate(req.params["cid"])
            body = req.json() or {}
            self.saved_analytics.setdefault(c["id"], []).append(body)
            for stored in self.candidates:
                if stored["id"] == c["id"]:
                    stored["interview_status"] = "completed"
            return {"success": True, "candidate_id": c["id"]}

        @ep("POST", "/pluto/candidates/{cid}/intake-link")
        def intake_link(req: Request) -> Any:
            c = self._candidate(req.params["cid"])
            expires = int(time.time()) + 72 * 3600
            return {"intake_url": f"https://sim.pluto.invalid/intake/{c['id']}?token={self._token(c['id'], expires)}",
                    "expires_at": _iso(datetime.fromtimestamp(expires, UTC))}

        @ep("GET", "/intake/{cid}/validate")
        def validate(req: Request) -> Any:
            token = req.query.get("token", "")
            expires, _, _ = token.partition(".")
            try:
                c = self._candidate(req.params["cid"])
                valid = expires.isdigit() and int(expires) > time.time() and \
                    hmac.compare_digest(token, self._token(c["id"], int(expires)))
            except PlutoDetail:
                return {"valid": False, "candidate_name": None, "gaps": []}
            gaps = [k for k in ("phone", "email", "years_experience") if not c.get(k)]
            return {"valid": bool(valid), "candidate_name": c["name"] if valid else None, "gaps": gaps if valid else []}

        @ep("POST", "/livekit/token")
        def livekit(req: Request) -> Any:
            c = self._candidate((req.json() or {}).get("candidate_id", ""))
            gaps = [k for k in ("phone", "email", "years_experience") if not c.get(k)]
            return {"token": "lk_" + secrets.token_hex(8), "room_name": f"intake-{c['id'][:6]}",
                    "livekit_url": "wss://sim.livekit.invalid",
                    "questions": [f"What is your {g.replace('_', ' ')}?" for g in gaps] or ["Anything to add?"]}

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
            else:
                raise PlutoDetail(400, f"unknown action {action!r}")
            return {"ok": True}
