"""Forward a 100,000-row CSV through the Pluto client; print elapsed time and peak memory.

The simulator runs in a separate process, so the peak RSS printed is the client's alone.
The upload streams from disk: the file is never read into memory.

    .venv/bin/python bench/bench_pluto_upload.py [rows]
"""

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.pluto import PlutoClient  # noqa: E402


def make_csv(path: Path, rows: int) -> None:
    with path.open("w") as out:
        out.write("name,email,current_title,years_experience,skills,resume\n")
        for i in range(rows):
            out.write(f'Candidate {i},c{i}@example.com,Engineer,{i % 20},python|sql,"Line one\nLine two {i}"\n')


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.csv"
        make_csv(path, rows)
        server = subprocess.Popen(
            [sys.executable, "-c", "import sys,time; sys.path.insert(0, sys.argv[1]);"
             "from sandbox.pluto_sim import PlutoSimulator; s=PlutoSimulator().start(); print(s.url, flush=True);"
             "time.sleep(600)", str(ROOT)], stdout=subprocess.PIPE, text=True)
        try:
            url = server.stdout.readline().strip()
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            with PlutoClient(url + "/api", timeout=300) as client:
                started = time.perf_counter()
                result = client.upload(path, job_description="Benchmark")
                elapsed = time.perf_counter() - started
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        finally:
            server.kill()
        size_mb = path.stat().st_size / 1e6 if path.exists() else 0
        print(f"rows: {rows}  file: {size_mb:.1f} MB  accepted: {result.total_candidates}")
        print(f"elapsed: {elapsed:.2f} s")
        print(f"peak RSS: {peak:.0f} MB (before upload: {before:.0f} MB)")


if __name__ == "__main__":
    main()
