# Two commands: `make run` (install, migrate, load the demo clinic, serve with the reminder
# worker) and `make test` (install, lint, run the whole suite on SQLite and PostgreSQL).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
FLASK  := $(BIN)/flask --app scheduler
HOST   ?= 127.0.0.1
PORT   ?= 5000
# Links printed and put in feeds/e-mails point at this server unless configured otherwise.
export SCHEDULER_BASE_URL ?= http://$(HOST):$(PORT)
# Test processes; the suite is database-bound, so two suit a 2-core machine.
JOBS   ?= 2

.PHONY: run test install lint migrate demo worker bench clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet -e '.[test,postgres]'
	touch $(STAMP)

install: $(STAMP)

migrate: $(STAMP)
	$(FLASK) db upgrade

demo: migrate
	$(FLASK) demo --if-empty

run: demo
	$(FLASK) serve --host $(HOST) --port $(PORT) --with-worker

worker: migrate
	$(FLASK) worker

lint: $(STAMP)
	$(BIN)/ruff check scheduler tests migrations $(wildcard bench)

test: lint
	$(BIN)/python -m pytest -n $(JOBS) --dist loadgroup $(PYTEST_ARGS)

# Every bench script in turn, whatever the previous ones answered; a summary line per script
# (exit status 0: every target met), and a non-zero exit at the end if any script failed.
# BENCHES picks some: make bench BENCHES="bench/plan.py bench/intake.py". BENCH_PORT,
# BENCH_POSTGRES_URL and BENCH_DATABASE reach them from the environment (see each docstring).
BENCHES ?= $(wildcard bench/*.py)

bench: $(STAMP)
	@failed=0; results=""; \
	for script in $(BENCHES); do \
		echo "=== $$script"; started=$$(date +%s); \
		$(BIN)/python $$script; code=$$?; \
		results="$$results $$script:$$code:$$(( $$(date +%s) - started ))"; \
		[ $$code -eq 0 ] || failed=1; \
	done; \
	echo; echo "bench summary (exit status per script; 0: every target met):"; \
	for result in $$results; do \
		script=$${result%%:*}; rest=$${result#*:}; code=$${rest%%:*}; \
		if [ $$code -eq 0 ]; then verdict=ok; else verdict=FAILED; fi; \
		printf '  %-22s exit %-3s %-6s %6ss\n' "$$script" "$$code" "$$verdict" "$${rest#*:}"; \
	done; \
	exit $$failed

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache
