"""The PowerStore cutover flow with Python `requests` and a thread pool, for bench/run's
optional comparison (BENCH_PYTHON=1): log in, list the sessions named `ready-*` that are
Ready_For_Cutover, then for each (16 at once) send the cutover and read it until it is
Import_Completed, polling every second, as the playbook beside it does.

Usage: python3 cutover_flow.py URL USER COUNT, the password in BENCH_PASSWORD. Exits 1
unless COUNT sessions were cut over.
"""

import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import requests

SELECT = "id,name,state"


def main():
    url, user, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    http = requests.Session()
    http.headers["Accept"] = "application/json"
    login = http.get(f"{url}/api/rest/login_session", auth=(user, os.environ["BENCH_PASSWORD"]))
    login.raise_for_status()
    token = login.headers["DELL-EMC-TOKEN"]
    listed = http.get(
        f"{url}/api/rest/import_session",
        params={"select": SELECT, "name": "ilike.ready-*", "state": "eq.Ready_For_Cutover"},
    )
    listed.raise_for_status()
    sessions = listed.json()

    def cut_over(session):
        answer = http.post(
            f"{url}/api/rest/import_session/{session['id']}/cutover",
            headers={"DELL-EMC-TOKEN": token},
        )
        answer.raise_for_status()
        while True:
            read = http.get(f"{url}/api/rest/import_session/{session['id']}", params={"select": SELECT})
            read.raise_for_status()
            if read.json()["state"] == "Import_Completed":
                return True
            time.sleep(1)

    with ThreadPoolExecutor(max_workers=16) as pool:
        done = sum(pool.map(cut_over, sessions))
    print(f"cut over {done} of {len(sessions)}")
    sys.exit(0 if done == count else 1)


if __name__ == "__main__":
    main()
