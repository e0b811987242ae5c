"""Intake of a 100,000-row CSV (check + normalise); prints elapsed time and peak RSS (target ≤ 300 MB).

    .venv/bin/python bench/bench_intake.py [rows]
"""

import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.intake import run_intake  # noqa: E402
from services.store import Store  # noqa: E402

TARGET_MB = 300


def make_csv(rows: int) -> bytes:
    lines = ["name,email,current_title,years_experience,skills,resume"]
    for i in range(rows):
        lines.append(f'Candidate {i},c{i}@example.com,Engineer,{i % 20},python|sql,"Led team {i}\nShipped X"')
    return ("\n".join(lines) + "\n").encode()


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    data = make_csv(rows)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.db")
        started = time.perf_counter()
        result = run_intake(store, data, "big.csv", work_dir=Path(tmp), source={"source": "bench"})
        elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"rows: {result.report.rows}  input: {len(data) / 1e6:.1f} MB")
    print(f"elapsed: {elapsed:.2f} s")
    print(f"peak RSS: {peak:.0f} MB (target ≤ {TARGET_MB} MB: {'met' if peak <= TARGET_MB else 'NOT met'})")


if __name__ == "__main__":
    main()
